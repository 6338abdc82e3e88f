import CloudFormation
import Foundation
import Testing

/// The replacement prediction `plan --stack` falls back on where CloudFormation does not say.
@Suite struct ReplacementRulesTests {
    /// The table is the resource schemas' own `createOnlyProperties` (cfn-lint ships them), for every
    /// resource type a reference template renders: a type missing would predict nothing.
    @Test func theTableIsTheSchemasForEveryRenderedType() throws {
        var rendered = Set<String>()
        for name in referenceSpecs() {
            let template = try TemplateRenderer.rendered(spec: try load(name)).template
            for (_, resource) in resources(template) { if case .string(let type)? = resource["Type"] { rendered.insert(type) } }
        }
        let table = ReplacementRules.createOnlyProperties
        #expect(rendered.subtracting(table.keys).isEmpty, "types without a rule: \(rendered.subtracting(table.keys).sorted())")

        let script = """
            import json, sys
            from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as schemas
            out = {}
            for t in sys.argv[1:]:
                paths = schemas.get_resource_schema("us-east-1", t).schema.get("createOnlyProperties", [])
                out[t] = sorted("Properties." + p.removeprefix("/properties/").replace("/", ".") for p in paths)
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + table.keys.sorted()
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // cfn-lint is installed by scripts/setup --test: its absence fails here, it does not skip.
        #expect(process.terminationStatus == 0)
        let schemas = try JSONDecoder().decode([String: [String]].self, from: data)
        for (type, paths) in table.sorted(by: { $0.key < $1.key }) {
            #expect(schemas[type] == paths, "\(type): regenerate with scripts/update-replacement-rules")
        }
    }

    @Test func aChangedPropertyReplacesOnlyWhenItIsCreateOnly() {
        // Under a create-only property: replaced.
        #expect(ReplacementRules.predictedReplacement(type: "AWS::EC2::Instance", paths: ["Properties.SubnetId.Ref"]) == "True")
        #expect(ReplacementRules.predictedReplacement(type: "AWS::EC2::SecurityGroupIngress", paths: ["Properties.FromPort"]) == "True")
        // Updatable in place.
        #expect(ReplacementRules.predictedReplacement(type: "AWS::EC2::Instance", paths: ["Properties.InstanceType"]) == "False")
        #expect(ReplacementRules.predictedReplacement(type: "AWS::EC2::SecurityGroupEgress", paths: ["Properties.Description"]) == "False")
        // A whole object rewritten that holds a create-only property: maybe.
        #expect(ReplacementRules.predictedReplacement(type: "AWS::EC2::VPCEndpoint", paths: ["Properties.DnsOptions"]) == "Conditional")
        // A list index does not hide the property it belongs to.
        #expect(ReplacementRules.predictedReplacement(type: "AWS::EC2::Instance", paths: ["Properties.SecurityGroups[0]"]) == "True")
        // One create-only change among others decides.
        #expect(
            ReplacementRules.predictedReplacement(type: "AWS::RDS::DBInstance", paths: ["Properties.AllocatedStorage", "Properties.DBName"]) == "True"
        )
        #expect(ReplacementRules.predictedReplacement(type: "AWS::Nothing::Known", paths: ["Properties.X"]) == nil)
    }
}
