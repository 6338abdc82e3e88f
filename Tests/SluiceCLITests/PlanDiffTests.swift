import Foundation
import TestSupport
import Testing

/// `sluice plan`'s change report: each spec change shows up in the security tables, by spec name.
@Suite("plan change report", .serialized)
struct PlanDiffTests {
    /// Renders `spec` into a fresh output folder, applies `edit` to the spec, plans again and returns
    /// the second plan's output.
    func planAfter(_ spec: String, format: [String] = [], _ edit: (String) -> String) throws -> CLI.Result {
        let root = URL(fileURLWithPath: "/tmp/sluice-plandiff-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent(spec)
        let original = try String(contentsOf: packageRoot.appendingPathComponent("specs/\(spec)"), encoding: .utf8)
        try Data(original.utf8).write(to: file)
        let output = root.appendingPathComponent("generated").path
        #expect(try CLI.run(["plan", "--output", output, file.path]).status == 0)
        let edited = edit(original)
        #expect(edited != original, "the edit must change the spec")
        try Data(edited.utf8).write(to: file)
        return try CLI.run(["plan", "--detailed-exitcode", "--output", output] + format + [file.path])
    }

    @Test func aNewSecurityGroupRuleIsAnAddedRow() throws {
        let result = try planAfter("clickstream.yaml") {
            $0.replacingOccurrences(
                of: "    - name: oltp\n      description: OLTP PostgreSQL application host\n      ingress:\n",
                with:
                    "    - name: oltp\n      description: OLTP PostgreSQL application host\n      ingress:\n        - port: 80\n          cidr: 0.0.0.0/0\n          description: plain HTTP\n"
            )
        }
        #expect(result.status == 2)
        #expect(result.stdout.contains("    security group rules:\n      + security group oltp ingress tcp 80-80 from 0.0.0.0/0 (plain HTTP)\n"))
        #expect(result.stdout.contains("~ SecurityGroupOltp: Properties.SecurityGroupIngress"))
    }

    @Test func aWidenedCIDRIsARemovedAndAnAddedRow() throws {
        let result = try planAfter("data-platform.yaml") {
            $0.replacingOccurrences(of: "{ destination: 0.0.0.0/0, nat_gateway: nat-a }", with: "{ destination: 10.0.0.0/8, nat_gateway: nat-a }")
        }
        #expect(result.status == 2)
        #expect(result.stdout.contains("+ route table api: 10.0.0.0/8 → NAT gateway nat-a"))
        #expect(result.stdout.contains("- route table api: 0.0.0.0/0 → NAT gateway nat-a"))
    }

    @Test func aNewRouteIsAnAddedRow() throws {
        let result = try planAfter("data-platform.yaml") {
            $0.replacingOccurrences(
                of: "        - { destination: 0.0.0.0/0, nat_gateway: nat-a }\n",
                with: "        - { destination: 0.0.0.0/0, nat_gateway: nat-a }\n        - { destination: 192.168.0.0/16, nat_gateway: nat-a }\n")
        }
        #expect(result.stdout.contains("    routes:\n      + route table api: 192.168.0.0/16 → NAT gateway nat-a\n"))
        #expect(result.stdout.contains("+ RouteApi192x168x0x0x16 (AWS::EC2::Route)"))
    }

    @Test func aNewIAMActionIsAnAddedStatementWithSpecNames() throws {
        let result = try planAfter("clickstream.yaml", format: ["--format", "json"]) {
            $0.replacingOccurrences(
                of: "      environment:\n        SLUICE_PLAN: plan.json\n",
                with: "      environment:\n        SLUICE_PLAN: plan.json\n      uses:\n        read_buckets: [raw]\n")
        }
        #expect(result.status == 2)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let template = (report?["specs"] as? [[String: Any]])?.first?["cloudformation"] as? [String: Any]
        let rows = (template?["security"] as? [[String: Any]]) ?? []
        let texts = rows.compactMap { row -> String? in
            guard row["table"] as? String == "IAM policy statements", row["change"] as? String == "added" else { return nil }
            return row["row"] as? String
        }
        #expect(
            texts == [
                "role etl-role [ListBuckets]: Allow s3:ListBucket on bucket raw",
                "role etl-role [ReadBuckets]: Allow s3:GetObject on bucket raw/*",
            ])
        // Raw intrinsic functions never reach the table.
        let all = rows.compactMap { $0["row"] as? String }
        #expect(!all.contains { $0.contains("Fn::") })
    }

    @Test func aTemplateBeyondOneStacksQuotasIsWarnedAbout() throws {
        let generator = Process()
        generator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generator.arguments = ["python3", packageRoot.appendingPathComponent("bench/gen_large.py").path]
        generator.standardOutput = FileHandle.nullDevice
        try generator.run()
        generator.waitUntilExit()
        #expect(generator.terminationStatus == 0)
        let output = URL(fileURLWithPath: "/tmp/sluice-quota-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try CLI.run(["plan", "--output", output.path, "bench/out/large.yaml"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning: the template has 2677 resources"))
        #expect(result.stderr.contains("CloudFormation takes at most 500 resources"))
        let small = try CLI.run(["plan", "--output", output.path, "specs/clickstream.yaml"])
        #expect(!small.stderr.contains("warning"))
    }

    /// A scanner suppression whose subject is nothing in the template exempts nothing: `check` and
    /// `plan` both say so, as the unused-suppression warning, at the suppression.
    @Test func aScannerSuppressionNamingNothingIsAnUnusedSuppression() throws {
        let result = try planAfter("clickstream.yaml") { $0.replacingOccurrences(of: "subject: \"bucket:raw\"", with: "subject: \"bucket:rwa\"") }
        #expect(result.status == 2, "a warning does not stop the plan; the edit is a change")
        #expect(
            result.stderr.contains(":315:5: warning: suppression of CKV_AWS_18 names 'bucket:rwa', which is nothing in the template [SL001]"),
            "\(result.stderr)")
        let root = URL(fileURLWithPath: "/tmp/sluice-scanner-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("clickstream.yaml")
        let original = try String(contentsOf: packageRoot.appendingPathComponent("specs/clickstream.yaml"), encoding: .utf8)
        try Data(original.replacingOccurrences(of: "subject: \"bucket:raw\"", with: "subject: \"bucket:rwa\"").utf8).write(to: file)
        let check = try CLI.run(["check", "--strict", "--format", "json", file.path])
        #expect(check.status == 1, "--strict fails on the warning")
        #expect(check.stdout.contains("\"rule\" : \"SL001\""), "\(check.stdout)")
        #expect(check.stdout.contains("\"line\" : 315"), "\(check.stdout)")
    }

    @Test func nothingChangedIsExitCodeZeroAndNoTables() throws {
        let result = try planAfter("clickstream.yaml") { $0 + "\n# a comment changes nothing\n" }
        #expect(result.status == 0)
        #expect(!result.stdout.contains("security group rules:"))
    }
}
