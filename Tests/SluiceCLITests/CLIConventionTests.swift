import Foundation
import TestSupport
import Testing

@Suite struct CLIConventionTests {
    @Test func referenceSpecsAreClean() throws {
        let result = try CLI.run([
            "check", "--strict", "--no-color", "specs/clickstream.yaml", "specs/serverless-canonical.yaml",
            "specs/sme-reporting.yaml", "specs/streaming-lake.yaml", "specs/data-platform.yaml",
        ])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("checked 5 specs: 0 errors, 0 warnings, 0 suppressed"))
        // With no arguments, check reads specs/*.yaml of the working directory.
        #expect(try CLI.run(["check"]).status == 0)
    }

    @Test func usageErrorsExit64() throws {
        #expect(try CLI.run(["check", "--bogus"]).status == 64)
        #expect(try CLI.run(["check", "--format", "xml", "specs/clickstream.yaml"]).status == 64)
        let unknown = try CLI.run(["explain", "SL2O1"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("did you mean 'SL201'?"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(try CLI.run(["check"], in: empty).status == 64)
        #expect(try CLI.run(["apply"]).status == 64)
        #expect(try CLI.run(["run"]).status == 64)
        #expect(try CLI.run(["run", "clickstream"]).status == 64, "neither --spec nor --plan")
        #expect(try CLI.run(["plan", "--format", "yaml"]).status == 64)
        #expect(try CLI.run(["db", "launch"]).status == 64)
    }

    /// plan.json's words (formats, modes, kinds) are enums: a plan naming one this executor does not
    /// know is refused before anything runs, saying where and which words it knows.
    @Test func aPlanWithAnUnknownWordIsRefusedSayingWhere() throws {
        let text = try String(contentsOfFile: "generated/clickstream/plan.json", encoding: .utf8)
        let changed = text.replacingOccurrences(of: "\"format\" : \"jsonl\"", with: "\"format\" : \"xml\"")
        #expect(changed != text)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-plan-\(UUID().uuidString).json")
        try changed.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["run", "clickstream", "--plan", file.path])
        #expect(result.status == 1, "a failure, not a usage error")
        #expect(
            result.stderr
                == "error: \(file.path) is not a plan this sluice runs: pipelines[0].source.format: 'xml' is not one of jsonl, json_array, csv, xlsx\n"
        )
    }

    /// Errors are spelled one way, `error:`; only a usage error is followed by the usage line.
    @Test func errorsAreSpelledOneWayAndOnlyUsageErrorsShowUsage() throws {
        let usage = try CLI.run(["check", "--bogus"])
        #expect(usage.status == 64)
        #expect(usage.stderr.hasPrefix("error: Unknown option '--bogus'\nUsage: sluice check"), "\(usage.stderr)")
        let failure = try CLI.run([
            "plan", "specs/clickstream.yaml", "--output", "/tmp/sluice-unused-\(getpid())", "--database", "postgresql://nobody@127.0.0.1:1/x",
        ])
        defer { try? FileManager.default.removeItem(atPath: "/tmp/sluice-unused-\(getpid())") }
        #expect(failure.status == 1)
        #expect(failure.stderr.hasPrefix("error: connection to server at \"127.0.0.1\", port 1 failed"), "\(failure.stderr)")
        #expect(!failure.stderr.contains("Usage:"))
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stderr.isEmpty && !version.stdout.isEmpty)
    }

    @Test func unreadableSpecIsAnErrorWithItsReason() throws {
        let result = try CLI.run(["check", "--no-color", "specs/missing.yaml"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("specs/missing.yaml:1:1: error: cannot read 'specs/missing.yaml': no such file [SL101]"))
    }

    @Test func helpEverywhere() throws {
        let commands = [
            ["check"], ["explain"], ["plan"], ["apply"], ["run"], ["db"], ["db", "start"], ["db", "stop"], ["db", "status"], ["db", "url"],
            ["db", "psql"],
        ]
        for arguments in [["--help"], ["help", "check"]] + commands.map({ $0 + ["--help"] }) {
            let result = try CLI.run(arguments)
            #expect(result.status == 0, "\(arguments)")
            #expect(result.stdout.contains("USAGE"), "\(arguments)")
        }
    }

    @Test func explainPrintsTheRuleAndTheList() throws {
        let one = try CLI.run(["explain", "SL201"])
        #expect(one.status == 0)
        #expect(one.stdout.hasPrefix("SL201 private-default-route (error)"))
        #expect(try CLI.run(["explain", "private-default-route"]).stdout == one.stdout)
        let list = try CLI.run(["explain"])
        #expect(list.stdout.split(separator: "\n").count >= 38)
        // A check rule shows its examples: what it reports, with the marker, and what it accepts.
        #expect(one.stdout.contains("Reported (↓ marks the finding):\n    network:"))
        #expect(one.stdout.contains("- ↓{ destination: 0.0.0.0/0, internet_gateway: igw }"))
        #expect(one.stdout.contains("Accepted:\n    network:"))
        #expect(!(try CLI.run(["explain", "SL102"]).stdout.contains("Reported")), "loader codes have no examples")
    }

    @Test func githubAnnotationsEscapeTheirData() throws {
        let result = try CLI.run(["check", "--format", "github", "specs/invalid/SL213-warehouse-internet-exposure.yaml"])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.hasPrefix("::error file=specs/invalid/SL213-warehouse-internet-exposure.yaml,line=") })
        #expect(
            result.stdout.contains(
                "title=SL213::warehouse 'dw' can be reached from the internet on port 5432 in subnet 'public'%0Aevidence: the internet"))
    }

    @Test func colourOnlyWhenAsked() throws {
        let plain = try CLI.run(["check", "specs/invalid/SL201-private-default-route.yaml"])
        #expect(!plain.stdout.contains("\u{1B}["))  // a pipe is not a terminal
        let coloured = try CLI.run(["check", "--color", "specs/invalid/SL201-private-default-route.yaml"])
        #expect(coloured.stdout.contains("\u{1B}[1;31merror\u{1B}[0m"))
    }

    @Test func suppressionsAreListedWithTheirReasons() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-suppress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var text = try String(contentsOf: packageRoot.appendingPathComponent("specs/invalid/SL215-open-admin-port.yaml"), encoding: .utf8)
        text += "suppressions:\n  - rule: SL215\n    subject: security_group:admin\n    reason: break-glass access while the VPN is rebuilt\n"
        try text.write(to: directory.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["check", "spec.yaml"], in: directory)
        #expect(result.status == 0)
        #expect(result.stdout.contains("suppressed findings (1):"))
        #expect(result.stdout.contains("reason: break-glass access while the VPN is rebuilt"))
        let sarif = try CLI.run(["check", "--format", "sarif", "spec.yaml"], in: directory)
        #expect(sarif.stdout.contains("\"justification\" : \"break-glass access while the VPN is rebuilt\""))
    }
}
