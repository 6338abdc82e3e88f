import Foundation
import TestSupport
import Testing

/// `sluice plan`, `sluice apply` and `sluice db` as a user runs them, on Sluice's own throwaway cluster.
@Suite("plan, apply and db commands", .serialized)
struct WarehouseCommandTests {
    @Test func planCheckPassesOnTheCommittedGeneratedFolder() throws {
        let result = try CLI.run(["plan", "--check"])
        #expect(result.status == 0, "generated/ is stale: \(result.stdout)\(result.stderr)")
    }

    @Test func checkAndDetailedExitcodeFollowTheirConventions() throws {
        let output = try temporaryFolder("plan")
        defer { try? FileManager.default.removeItem(at: output) }
        let stale = try CLI.run(["plan", "--check", "--output", output.path, "specs/clickstream.yaml"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("is stale"))
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("clickstream").path), "--check writes nothing")
        let first = try CLI.run(["plan", "--detailed-exitcode", "--output", output.path, "specs/clickstream.yaml"])
        #expect(first.status == 2)
        #expect(first.stdout.contains("+ \(output.path)/clickstream/schema.sql (new"))
        #expect(first.stdout.contains("+ \(output.path)/clickstream/architecture.md (new"))
        let second = try CLI.run(["plan", "--detailed-exitcode", "--output", output.path, "specs/clickstream.yaml"])
        #expect(second.status == 0)
        let file = output.appendingPathComponent("clickstream/schema.sql")
        try Data("-- edited by hand\n".utf8).write(to: file)
        let edited = try CLI.run(["plan", "--check", "--format", "json", "--output", output.path, "specs/clickstream.yaml"])
        #expect(edited.status == 1)
        let report = try JSONSerialization.jsonObject(with: Data(edited.stdout.utf8)) as? [String: Any]
        let files = ((report?["specs"] as? [[String: Any]])?.first?["files"] as? [[String: Any]]) ?? []
        #expect(files.first { ($0["path"] as? String)?.hasSuffix("schema.sql") == true }?["status"] as? String == "changed")
        #expect(files.first { ($0["path"] as? String)?.hasSuffix("architecture.md") == true }?["status"] as? String == "unchanged")
        #expect(try String(contentsOf: file, encoding: .utf8) == "-- edited by hand\n")
    }

    @Test func renderingTwiceGivesIdenticalBytes() throws {
        let first = try temporaryFolder("render1"), second = try temporaryFolder("render2")
        defer { try? FileManager.default.removeItem(at: first); try? FileManager.default.removeItem(at: second) }
        #expect(try CLI.run(["plan", "--output", first.path]).status == 0)
        #expect(try CLI.run(["plan", "--output", second.path]).status == 0)
        let files = try FileManager.default.subpathsOfDirectory(atPath: first.path).sorted()
        #expect(files.contains("clickstream/schema.sql") && files.contains("streaming-lake/architecture.md"))
        #expect(files == (try FileManager.default.subpathsOfDirectory(atPath: second.path).sorted()))
        for file in files where !file.hasSuffix("/") {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: first.appendingPathComponent(file).path, isDirectory: &isDirectory)
            if isDirectory.boolValue { continue }
            #expect(try Data(contentsOf: first.appendingPathComponent(file)) == Data(contentsOf: second.appendingPathComponent(file)), "\(file)")
        }
    }

    @Test func planningADatabaseNeedsExactlyOneSpec() throws {
        let result = try CLI.run(["plan", "--database", "postgresql:///x", "specs/clickstream.yaml", "specs/sme-reporting.yaml"])
        #expect(result.status == 64)
    }

    @Test func applyOnTheThrowawayClusterThenManageIt() throws {
        let root = try temporaryFolder("db")
        let environment = ["SLUICE_DB_DIR": root.appendingPathComponent("cluster").path]
        defer {
            _ = try? CLI.run(["db", "stop"], environment: environment)
            try? FileManager.default.removeItem(at: root)
        }
        let missing = try CLI.run(["db", "status"], environment: environment)
        #expect(missing.status == 1)

        let spec = root.appendingPathComponent("clickstream.yaml")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("specs/clickstream.yaml"), to: spec)
        let applied = try CLI.run(["apply", "--no-run", spec.path], environment: environment)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("applied"))
        #expect(applied.stdout.contains("+ create table analytics.fact_events"))
        #expect(applied.stdout.contains("connect: psql"))

        let again = try CLI.run(["apply", "--no-run", "--format", "json", spec.path], environment: environment)
        let report = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["migration"] as? [String: Any]
        #expect(report?["upToDate"] as? Bool == true)
        #expect(report?["applied"] as? Bool == false)

        let url = try CLI.run(["db", "url", "--database", "analytics"], environment: environment).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("postgresql:///analytics?host="))
        let planned = try CLI.run(
            ["plan", "--output", root.appendingPathComponent("generated").path, "--database", url, spec.path], environment: environment)
        #expect(planned.status == 0)
        #expect(planned.stdout.contains(": up to date"))

        // Drop a column from the spec: refused without --allow-destructive, and nothing changes.
        let text = try String(contentsOf: spec, encoding: .utf8)
        let line = "        - { name: created_at, type: timestamptz, not_null: true, default: now() }\n"
        #expect(text.contains(line))
        try Data(text.replacingOccurrences(of: line, with: "").utf8).write(to: spec)
        let refused = try CLI.run(["apply", "--no-run", spec.path], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refused 1 destructive change(s): drop column analytics.fact_events.created_at"))
        // Said as a finding at the table the column went from.
        let tableLine = try #require(text.components(separatedBy: "\n").firstIndex { $0.hasSuffix("- name: fact_events") }) + 1
        #expect(
            refused.stderr.contains(
                "\(spec.path):\(tableLine):7: error: drop column analytics.fact_events.created_at: the table is empty, but the column goes [SL601]"),
            "\(refused.stderr)")
        #expect(refused.stdout.contains("! drop column analytics.fact_events.created_at"))
        let plannedSQL = try CLI.run(
            ["plan", "--output", root.appendingPathComponent("generated").path, "--database", url, spec.path], environment: environment)
        #expect(plannedSQL.stdout.contains("ALTER TABLE analytics.fact_events DROP COLUMN created_at;"))
        #expect(plannedSQL.status == 0, "a plan that would be refused is still a plan")
        #expect(plannedSQL.stderr.contains("error: drop column analytics.fact_events.created_at: the table is empty, but the column goes [SL601]"))
        let detailed = try CLI.run(
            ["plan", "--detailed-exitcode", "--output", root.appendingPathComponent("generated").path, "--database", url, spec.path],
            environment: environment)
        #expect(detailed.status == 1, "apply would refuse the migration: an error, not a change")
        let forced = try CLI.run(["apply", "--no-run", "--allow-destructive", spec.path], environment: environment)
        #expect(forced.status == 0, "\(forced.stdout)\(forced.stderr)")

        #expect(try CLI.run(["db", "status"], environment: environment).status == 0)
        #expect(try CLI.run(["db", "stop"], environment: environment).status == 0)
        let stopped = try CLI.run(["db", "status"], environment: environment)
        #expect(stopped.status == 1)
        #expect(stopped.stdout.contains("is stopped"))
    }
}
