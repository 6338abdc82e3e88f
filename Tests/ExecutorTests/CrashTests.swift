import Foundation
import PostgresClient
import TestSupport
import Testing

/// `sluice run` killed with SIGKILL at each point of a load, then run again: the warehouse ends with
/// exactly the expected rows and every object in the manifest once, as if the crash never happened.
@Suite("runs killed mid-load", .serialized)
struct CrashTests {
    func run(_ clickstream: Clickstream, crashAt point: String? = nil) throws -> CLI.Result {
        var environment = ["SLUICE_MASK_KEY": String(decoding: Clickstream.maskKey, as: UTF8.self)]
        if let point { environment["SLUICE_TEST_CRASH_AT"] = point }
        return try CLI.run(
            [
                "run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream",
                "--database", clickstream.database,
            ], environment: environment)
    }

    @Test(arguments: ["listed", "mid-copy", "before-commit", "after-commit"])
    func killedThenRerunEndsExactlyAsExpected(point: String) throws {
        let clickstream = try Clickstream()
        let killed = try run(clickstream, crashAt: point)
        #expect(killed.status == 9 || killed.status == 137 || killed.status == -9, "killed by SIGKILL, got \(killed.status): \(killed.stderr)")
        let loadedBefore = try clickstream.count("SELECT count(*) FROM sluice.manifest")
        #expect(loadedBefore == (point == "after-commit" ? 1 : 0), "only a committed object is in the manifest")
        if point != "after-commit" { #expect(try clickstream.count("SELECT count(*) FROM analytics.fact_events") == 0) }
        let rerun = try run(clickstream)
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        try expectSampleLoaded(clickstream)
        // The dead run is marked failed by the next one, which holds the lock and so knows it is gone.
        let statuses = try Connection(clickstream.database).query("SELECT status FROM sluice.load_runs ORDER BY run_id").column("status")
        #expect(statuses == ["failed", "succeeded"])
    }

    @Test func aSecondRunnerExitsWithStatus75() throws {
        let clickstream = try Clickstream()
        let holder = try Connection(clickstream.database)
        try holder.query("SELECT pg_advisory_lock($1::bigint)", [String(clickstream.pipeline.lockKey)])
        let busy = try run(clickstream)
        #expect(busy.status == 75)
        #expect(busy.stderr.contains("pipeline clickstream is already running (held by server process \(holder.backendPID)"))
        #expect(busy.stderr.contains("--wait"))
    }

    @Test func aReloadFromTheCommandLineNamesWhatToLoadAgain() throws {
        let clickstream = try Clickstream()
        let base = ["run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream", "--database", clickstream.database]
        let bare = try CLI.run(base + ["--reload"])
        #expect(bare.status == 64)
        #expect(bare.stderr.contains("--reload needs the keys of the objects to load again, or --from/--to"))
        let stray = try CLI.run(base + ["events/2026/11/20/09/part-0000.jsonl"])
        #expect(stray.status == 64 && stray.stderr.contains("object keys after the pipeline are for --reload"))
        #expect(try run(clickstream).status == 0)
        let reload = try CLI.run(
            base + ["--reload", "events/2026/11/20/09/part-0000.jsonl", "--format", "json"], environment: ["SLUICE_MASK_KEY": "test-mask-key"])
        #expect(reload.status == 0, "\(reload.stderr)")
        let pipeline = ((try JSONSerialization.jsonObject(with: Data(reload.stdout.utf8)) as? [String: Any])?["pipelines"] as? [[String: Any]])?.first
        #expect(pipeline?["objectsLoaded"] as? Int == 1 && pipeline?["objectsListed"] as? Int == 1)
        // The same rows as one load; the first load's refusals kept but marked replaced.
        let expected = try Expected.load()
        #expect(try clickstream.rows() == expected.rows)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.quarantine WHERE replaced_by_run IS NULL") == expected.records_quarantined)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.quarantine WHERE replaced_by_run IS NOT NULL") > 0)
    }

    @Test func jsonOutputCarriesTheCounts() throws {
        let clickstream = try Clickstream()
        let result = try CLI.run(
            [
                "run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream",
                "--database", clickstream.database, "--format", "json",
            ],
            environment: ["SLUICE_MASK_KEY": "k"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let pipeline = (report?["pipelines"] as? [[String: Any]])?.first
        let counts = pipeline?["counts"] as? [String: Any]
        #expect(counts?["recordsLoaded"] as? Int == (try Expected.load()).records_loaded)
        #expect(pipeline?["objectsLoaded"] as? Int == 2)
    }

    @Test func hashingWithoutAKeyIsRefusedBeforeAnythingLoads() throws {
        let clickstream = try Clickstream()
        let result = try CLI.run(
            [
                "run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream",
                "--database", clickstream.database,
            ], environment: [:], removing: ["SLUICE_MASK_KEY"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("SLUICE_MASK_KEY"))
        #expect(try clickstream.count("SELECT count(*) FROM sluice.load_runs") == 0)
    }
}

/// `sluice run --from/--to`: the prefix template expanded hour by hour over the window.
@Suite("run over a time window")
struct RunWindowTests {
    @Test func onlyTheWindowsHourlyPrefixesAreLoaded() throws {
        let clickstream = try Clickstream()
        let result = try CLI.run(
            [
                "run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream",
                "--database", clickstream.database, "--from", "2026-11-20T10:15:00Z", "--to", "2026-11-20T11:00:00Z",
                "--format", "json",
            ], environment: ["SLUICE_MASK_KEY": "k"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest") == 1)
        #expect(
            try Connection(clickstream.database).query("SELECT object_key FROM sluice.manifest").scalar == "events/2026/11/20/10/part-0001.jsonl.gz")
        let bad = try CLI.run([
            "run", "clickstream", "--spec", "specs/clickstream.yaml", "--from", "yesterday-ish", "--database", clickstream.database,
        ])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--from 'yesterday-ish' is not a time"))
    }

    /// What the ETL function does: no spec, only the compiled plan.json.
    @Test func theCommittedPlanRunsWithoutTheSpec() throws {
        let clickstream = try Clickstream()
        let result = try CLI.run(
            [
                "run", "clickstream", "--plan", "generated/clickstream/plan.json", "--source", "samples/clickstream",
                "--database", clickstream.database,
            ], environment: ["SLUICE_MASK_KEY": "k"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.hasPrefix(
                "clickstream: 2 object(s) loaded, 0 already loaded · 115 records: 100 loaded, 3 duplicate, 4 filtered, 8 quarantined"))
        try expectSampleLoaded(clickstream)
    }

    /// Progress only on a terminal: drawn on a pseudo-terminal (util-linux `script`), absent in a pipe.
    @Test func progressIsDrawnOnATerminalOnly() throws {
        let clickstream = try Clickstream()
        let command = [
            try CLI.executable.path, "run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream",
            "--database", "'\(clickstream.database)'",
        ].joined(separator: " ")
        let terminal = try CLI.run(
            ["-c", "script -qec \"\(command)\" /dev/null"], executable: URL(fileURLWithPath: "/bin/sh"),
            environment: ["SLUICE_MASK_KEY": "k", "TERM": "xterm"], removing: ["NO_COLOR"])
        #expect(terminal.status == 0, "\(terminal.stdout)\(terminal.stderr)")
        #expect(terminal.stdout.contains("objects · "), "the progress line: \(terminal.stdout)")
        let piped = try CLI.run(
            [
                "run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", "samples/clickstream",
                "--database", clickstream.database,
            ], environment: ["SLUICE_MASK_KEY": "k"])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("objects · "))
        #expect(!piped.stdout.contains("\u{1B}["))
    }
}
