import Checks
import Foundation
import SluiceCore
import SpecLoader
import Testing
import YAML

@testable import CloudFormation

/// One spec, several stacks: what an environment may change, how it is checked, and the one
/// template that carries every environment's values.
@Suite struct EnvironmentTests {
    /// The clickstream spec with its `environments:` section replaced by `environments`.
    static func clickstream(environments: String) throws -> (text: String, result: LoadResult) {
        let original = try String(contentsOf: packageRoot.appendingPathComponent("specs/clickstream.yaml"), encoding: .utf8)
        let base = try #require(original.range(of: "\nenvironments:\n")).lowerBound
        let text = original[..<base] + "\nenvironments:\n" + environments
        return (String(text), SpecLoader.load(text: String(text), file: "clickstream.yaml"))
    }

    static func errors(_ result: LoadResult) -> [String] {
        result.diagnostics.filter { $0.severity == .error }.map { "\($0.location.map { "\($0.line):\($0.column)" } ?? ""): \($0.message)" }
    }

    static func line(of text: String, in spec: String) -> Int {
        (spec.components(separatedBy: "\n").firstIndex { $0.contains(text) } ?? -1) + 1
    }

    @Test func valuesAnEnvironmentCannotChangeAreRefusedWhereWritten() throws {
        let (text, result) = try Self.clickstream(
            environments: """
                  - name: dev
                    functions:
                      - { name: etl, memory: 64 }
                      - { name: etl, timeout: 60 }
                      - { name: elt, timeout: 60 }
                    hosts:
                      - { name: warehouse, instance_type: r7g.large }
                      - { name: dashboard, instance_type: large }
                    warehouse: { instance_class: db.t4g.micro }
                    pipelines:
                      - { name: clickstream, schedule: "rate(1 day)" }
                  - name: qa_1
                """)
        let errors = Self.errors(result)
        let at = { (needle: String) in Self.line(of: needle, in: text) }
        #expect(errors.contains { $0.hasPrefix("\(at("memory: 64")):") && $0.contains("a number from 128 to 10240 for 'memory'") }, "\(errors)")
        #expect(errors.contains { $0.contains("function 'etl' is set twice in this environment") })
        #expect(errors.contains { $0.contains("function 'elt' is not defined; did you mean 'etl'?") })
        #expect(
            errors.contains {
                $0.hasPrefix("\(at("r7g.large")):")
                    && $0.contains(
                        "'r7g.large' is arm64 but host 'warehouse' is r6i.large, x86_64; an environment may change a host's size, not the architecture its image is built for"
                    )
            }, "\(errors)")
        #expect(errors.contains { $0.contains("'large' is not an EC2 instance type") })
        #expect(
            errors.contains {
                $0.contains("the warehouse runs on host 'warehouse': set that host's instance_type in the environment's hosts instead")
            })
        #expect(errors.contains { $0.contains("environment name 'qa_1' names a stack, and stack names take only letters, digits and '-'") })
        #expect(!errors.contains { $0.contains("clickstream") }, "a changed expression is a value: \(errors)")
    }

    @Test func aPropertyTheSpecDoesNotRenderCannotBeAddedByAnEnvironment() throws {
        let original = try String(contentsOf: packageRoot.appendingPathComponent("specs/clickstream.yaml"), encoding: .utf8)
        let text = original.replacingOccurrences(of: "      reserved_concurrency: 2\n", with: "")
            .replacingOccurrences(of: "    schedule: rate(30 minutes)\n", with: "")
        let errors = Self.errors(SpecLoader.load(text: text, file: "clickstream.yaml"))
        #expect(
            errors.contains {
                $0.contains("function 'etl' declares no reserved_concurrency, so an environment cannot change it")
            }, "\(errors)")
        #expect(errors.contains { $0.contains("pipeline 'clickstream' has no schedule to change") }, "\(errors)")
    }

    /// The rules run on each environment's values too: a finding only one environment has names it.
    @Test func eachEnvironmentIsCheckedAndItsOwnFindingsSaySo() throws {
        let (text, result) = try Self.clickstream(
            environments: """
                  - name: dev
                    pipelines:
                      - { name: clickstream, schedule: "cron(0 9 * * MON *)" }
                  - name: prod
                """)
        let spec = try #require(result.spec, "\(Self.errors(result))")
        let findings = Checker.run(spec).filter { $0.code == "SL501" }
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding.message.hasSuffix(" (in environment dev)"), "\(finding.message)")
        #expect(finding.location?.line == Self.line(of: "cron(0 9 * * MON *)", in: text))
        #expect(finding.notes.contains { $0.message == "environment dev is declared here" })
        // The spec's own findings are not repeated per environment.
        let base = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        #expect(Checker.run(base).filter { $0.severity == .error }.isEmpty)
    }

    @Test func oneTemplateCarriesEveryEnvironmentsValues() throws {
        let spec = try load("clickstream.yaml")
        let template = try TemplateRenderer.template(spec: spec)
        let parameter = try #require(template["Parameters"]?["Environment"])
        #expect(parameter["AllowedValues"] == .list(["dev", "prod"]))
        #expect(parameter["Default"] == nil, "a stack must say which environment it is")
        let values = try #require(template["Mappings"]?["EnvironmentValues"])
        #expect(values["dev"]?["FunctionEtlMemorySize"] == .int(512))
        #expect(values["prod"]?["FunctionEtlMemorySize"] == .int(1024))
        #expect(values["dev"]?["ScheduleClickstreamState"] == "DISABLED")
        #expect(values["prod"]?["ScheduleClickstreamState"] == "ENABLED")
        #expect(values["dev"]?["LogGroupEtlRetentionInDays"] == .int(7))
        #expect(values["prod"]?["LogGroupEtlRetentionInDays"] == .int(90))
        let function = template["Resources"]?["FunctionEtl"]?["Properties"]
        #expect(function?["MemorySize"] == .map([("Fn::FindInMap", .list(["EnvironmentValues", .ref("Environment"), "FunctionEtlMemorySize"]))]))
        // Values no environment changes stay literal.
        #expect(function?["Timeout"] == .int(900))

        // Read as one stack: each environment's values in place, nothing left to look up.
        let dev = TemplateRenderer.resolving(template, environment: "dev")
        #expect(dev["Resources"]?["FunctionEtl"]?["Properties"]?["MemorySize"] == .int(512))
        #expect(dev["Resources"]?["InstanceWarehouse"]?["Properties"]?["InstanceType"] == "m6i.large")
        let prod = TemplateRenderer.resolving(template, environment: "prod")
        #expect(prod["Resources"]?["InstanceWarehouse"]?["Properties"]?["InstanceType"] == "r6i.large")
        #expect(!"\(dev["Resources"]!)".contains("Fn::FindInMap"))

        // Each environment's resolved template is exactly the template the spec renders with its values.
        for environment in spec.environments {
            let alone = TemplateRenderer.builder(spec: spec.applying(environment)).template
            let resolved = TemplateRenderer.resolving(template, environment: environment.name)
            #expect(resolved["Resources"] == alone["Resources"], "\(environment.name)")
        }
    }

    @Test func aSpecWithoutEnvironmentsRendersAsBefore() throws {
        var spec = try load("clickstream.yaml")
        spec.environments = []
        let template = try TemplateRenderer.template(spec: spec)
        #expect(template["Mappings"] == nil)
        #expect(template["Parameters"]?["Environment"] == nil)
        #expect(template["Outputs"]?["Environment"] == nil)
        #expect(template["Resources"]?["FunctionEtl"]?["Properties"]?["MemorySize"] == .int(1024))
    }
}
