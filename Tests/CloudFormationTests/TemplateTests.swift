import Foundation
import SluiceCore
import SpecLoader
import Testing
import YAML

@testable import CloudFormation

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func referenceSpecs() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("specs").path)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted()
}

func load(_ name: String) throws -> Spec {
    try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/\(name)").path).spec)
}

func resources(_ template: TemplateValue) -> [(String, TemplateValue)] {
    guard case .map(let entries)? = template["Resources"] else { return [] }
    return entries
}

func resources(_ template: TemplateValue, type: String) -> [(String, TemplateValue)] {
    resources(template).filter { $0.1["Type"] == .string(type) }
}

@Suite("CloudFormation templates")
struct TemplateTests {
    /// cfn-lint, run on every reference spec's template: no error, no warning, no informational finding.
    @Test func cfnLintFindsNothing() throws {
        let directory = URL(fileURLWithPath: "/tmp/sluice-cfn-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for name in referenceSpecs() {
            let file = directory.appendingPathComponent(name)
            try Data(try TemplateRenderer.render(spec: try load(name)).utf8).write(to: file)
            files.append(file.path)
        }
        #expect(files.count >= 5)
        // And `sluice bootstrap`'s stack.
        let bootstrap = directory.appendingPathComponent("bootstrap.yaml")
        try Data(BootstrapTemplate.text.utf8).write(to: bootstrap)
        files.append(bootstrap.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cfn-lint", "--include-checks", "I", "--"] + files
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "") + ":" + NSHomeDirectory() + "/.local/bin"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // 127: cfn-lint is not installed; scripts/setup --test installs it. That is a failure, not a skip.
        #expect(process.terminationStatus == 0, "cfn-lint: \(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "cfn-lint: \(output)")
    }

    @Test(arguments: referenceSpecs())
    func renderingIsDeterministic(_ name: String) throws {
        #expect(try TemplateRenderer.render(spec: try load(name)) == TemplateRenderer.render(spec: try load(name)))
    }

    @Test func securityGroupsGetExactlyTheSpecsRules() throws {
        let template = try TemplateRenderer.template(spec: try load("clickstream.yaml"))
        // A rule naming another group is its own resource, so groups naming each other form no cycle.
        let separate = resources(template, type: "AWS::EC2::SecurityGroupIngress").map(\.0)
        #expect(separate.contains("SecurityGroupDwIngress1Etl5432"))
        for (_, resource) in resources(template, type: "AWS::EC2::SecurityGroup") {
            // Every group has an inline egress list, so AWS's allow-all default never applies.
            guard case .list(let egress)? = resource["Properties"]?["SecurityGroupEgress"] else {
                Issue.record("a security group without SecurityGroupEgress gets AWS's allow-all default")
                continue
            }
            #expect(!egress.isEmpty)
            for rule in egress { #expect(rule["Description"] != nil) }
        }
    }

    @Test func hostsRequireIMDSv2AndEncryptTheirDisks() throws {
        let template = try TemplateRenderer.template(spec: try load("clickstream.yaml"))
        let instances = resources(template, type: "AWS::EC2::Instance")
        #expect(instances.count == 3)
        for (_, instance) in instances {
            #expect(instance["Properties"]?["MetadataOptions"]?["HttpTokens"] == "required")
            guard case .list(let devices)? = instance["Properties"]?["BlockDeviceMappings"] else { Issue.record("no block devices"); continue }
            #expect(devices.allSatisfy { $0["Ebs"]?["Encrypted"] == true })
        }
    }

    @Test func bucketsAreTLSOnlyPrivateAndEncrypted() throws {
        let template = try TemplateRenderer.template(spec: try load("serverless-canonical.yaml"))
        let text = try YAMLEmitter.emit(template)
        for (id, bucket) in resources(template, type: "AWS::S3::Bucket") {
            #expect(bucket["Properties"]?["PublicAccessBlockConfiguration"]?["RestrictPublicBuckets"] == true, "\(id)")
            #expect(bucket["Properties"]?["BucketEncryption"] != nil, "\(id)")
        }
        #expect(text.contains("aws:SecureTransport: \"false\""))
        // The notification's Lambda permission names the bucket without depending on it.
        let permission = try #require(resources(template, type: "AWS::Lambda::Permission").first { $0.0 == "PermissionExportsInvokesLoader" }?.1)
        #expect(permission["Properties"]?["SourceAccount"] == .ref("AWS::AccountId"))
    }

    @Test func secretsAreGeneratedNeverWritten() throws {
        for name in referenceSpecs() {
            let text = try TemplateRenderer.render(spec: try load(name))
            #expect(!text.contains("MasterUserPassword: "), "\(name): a literal password")
            let spec = try load(name)
            // An API's token is the API's to issue: its secret is created empty, to be filled once.
            let apiCredentials = Set(spec.pipelines.compactMap(\.source.api?.auth?.secret).map(LogicalID.secret))
            for (id, secret) in resources(try TemplateRenderer.template(spec: spec), type: "AWS::SecretsManager::Secret") {
                let length = secret["Properties"]?["GenerateSecretString"]?["PasswordLength"]
                #expect(length == (apiCredentials.contains(id) ? nil : id == "SecretMaskKey" ? 64 : 32), "\(id)")
                #expect(secret["Properties"]?["SecretString"] == nil)
            }
        }
    }

    @Test func namesThatCollideAsLogicalIDsAreAClearError() throws {
        var spec = try load("clickstream.yaml")
        var twin = try #require(spec.network.subnet("etl-a"))
        twin.name = "etl_a"
        spec.network.subnets.append(twin)
        let error = #expect(throws: TemplateRenderer.Failure.self) { try TemplateRenderer.render(spec: spec) }
        #expect(error?.description.contains("SubnetEtlA") == true)
    }

    @Test func theETLRoleIsLeastPrivilege() throws {
        let text = try TemplateRenderer.render(spec: try load("clickstream.yaml"))
        #expect(text.contains("arn:${AWS::Partition}:s3:::${AWS::StackName}-raw-${AWS::AccountId}-${AWS::Region}/events/*"))
        #expect(text.contains("s3:prefix:\n                - events/*"))
        // The only wildcard resource is the ENI management Lambda needs, which EC2 cannot scope.
        let template = try TemplateRenderer.template(spec: try load("clickstream.yaml"))
        let role = try #require(resources(template, type: "AWS::IAM::Role").first { $0.0 == "RoleEtlRole" }?.1)
        guard case .list(let policies)? = role["Properties"]?["Policies"],
            case .list(let statements)? = policies.first?["PolicyDocument"]?["Statement"]
        else {
            Issue.record("no policy")
            return
        }
        let wildcard = statements.filter { $0["Resource"] == .list(["*"]) }
        #expect(wildcard.map { $0["Sid"] } == [.string("ManageVpcNetworkInterfaces")])
    }
}

@Suite("policy scanner")
struct PolicyScannerTests {
    /// checkov on every reference template: nothing fails that the spec did not suppress with a
    /// reason, and every suppression reached the resource's Metadata.
    @Test func checkovFlagsNothingUnsuppressed() throws {
        let checkov = packageRoot.appendingPathComponent(".build/tools/checkov/bin/checkov")
        #expect(FileManager.default.isExecutableFile(atPath: checkov.path), "checkov is missing: bash scripts/setup --test installs it")
        let directory = URL(fileURLWithPath: "/tmp/sluice-checkov-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var suppressions = 0
        for name in referenceSpecs() {
            let spec = try load(name)
            suppressions += spec.suppressions.filter(\.isForScanner).count
            try Data(try TemplateRenderer.render(spec: spec).utf8).write(to: directory.appendingPathComponent(name))
        }
        // And `sluice bootstrap`'s stack.
        try Data(BootstrapTemplate.text.utf8).write(to: directory.appendingPathComponent("bootstrap.yaml"))
        let process = Process()
        process.executableURL = checkov
        process.arguments = ["-d", directory.path, "--framework", "cloudformation", "-o", "json"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let parsed = try JSONSerialization.jsonObject(with: data)
        let reports = (parsed as? [[String: Any]]) ?? [(parsed as? [String: Any]) ?? [:]]
        let results = reports.compactMap { $0["results"] as? [String: Any] }
        let failed = results.flatMap { ($0["failed_checks"] as? [[String: Any]]) ?? [] }
        #expect(failed.map { "\($0["check_id"] ?? "") \($0["resource"] ?? "")" } == [])
        let skipped = results.flatMap { ($0["skipped_checks"] as? [[String: Any]]) ?? [] }
        // The spec's suppressions, plus Sluice's own reasoned exemption of Lambda's ENI wildcard.
        #expect(skipped.count >= suppressions)
        #expect(skipped.allSatisfy { ((($0["check_result"] as? [String: Any])?["suppress_comment"] as? String) ?? "").count > 20 })
    }
}
