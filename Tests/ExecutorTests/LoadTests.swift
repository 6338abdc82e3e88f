import Foundation
import PipelineExecutor
import PlanFormat
import PostgresClient
import S3Client
import TestSupport
import Testing

/// The clickstream sample loaded end to end into a real PostgreSQL server, from a folder and from
/// moto's S3 API; the counts come from the sample's generator.
@Suite("clickstream loads")
struct LoadTests {
    /// The loads are committed when post-load steps run: a failing step fails the run (and its
    /// alarm) but is not thrown, so the driver goes on to the other pipelines.
    @Test func aFailingPostLoadStepFailsTheRunButKeepsTheLoads() async throws {
        let clickstream = try Clickstream()
        try Connection(clickstream.database).query("DROP MATERIALIZED VIEW analytics.daily_event_counts")
        let result = try await clickstream.run(FolderStore(root: sampleBucket))
        #expect(!result.succeeded)
        #expect(result.objectsLoaded == (try Expected.load()).objects, "every object loaded and committed")
        #expect(result.postLoad == [])
        let failed = try #require(result.postLoadFailed)
        #expect(failed.key == "analytics.daily_event_counts")
        #expect(failed.error.contains("daily_event_counts") && failed.error.contains("does not exist"), "\(failed.error)")
        let run = try Connection(clickstream.database).query("SELECT status, error FROM sluice.load_runs").rows
        #expect(run.first?[0] == "failed")
        #expect(run.first?[1]?.hasPrefix("post-load analytics.daily_event_counts:") == true, "\(run)")
    }

    @Test func theSampleLoadsExactlyAsExpectedAndARerunLoadsNothing() async throws {
        let clickstream = try Clickstream()
        let expected = try Expected.load()
        let result = try await clickstream.run(FolderStore(root: sampleBucket))
        #expect(result.succeeded)
        #expect(result.objectsLoaded == expected.objects)
        #expect(result.counts.recordsRead == expected.records_read)
        #expect(result.counts.recordsLoaded == expected.records_loaded)
        #expect(result.counts.recordsDuplicate == expected.records_duplicate)
        #expect(result.counts.recordsFiltered == expected.records_filtered)
        #expect(result.counts.recordsQuarantined == expected.records_quarantined)
        #expect(result.postLoad == ["analytics.daily_event_counts"])
        try expectSampleLoaded(clickstream)

        // Every refused record is kept whole, with a reason naming what was wrong.
        let reasons = try Connection(clickstream.database).query("SELECT reason, record FROM sluice.quarantine ORDER BY quarantine_id").rows
        for fragment in expected.quarantine_reasons {
            #expect(reasons.contains { $0[0]!.contains(fragment) }, "no quarantined record says \(fragment)")
        }
        #expect(reasons.allSatisfy { ($0[1] ?? "").hasPrefix("{\"event_id\"") })

        // merge: min — each user's first_seen_at is their earliest event, whatever order the objects came in.
        #expect(
            try clickstream.count(
                """
                SELECT count(*) FROM analytics.dim_users u
                WHERE first_seen_at IS DISTINCT FROM (SELECT min(event_timestamp) FROM analytics.fact_events e WHERE e.user_id = u.user_id)
                """) == 0)
        // The materialized view was refreshed after the load.
        #expect(try clickstream.count("SELECT sum(events) FROM analytics.daily_event_counts") == expected.records_loaded)
        // Masked: the e-mail address is an HMAC, never the address.
        let hashes = try Connection(clickstream.database).query("SELECT email_hash FROM analytics.dim_users").column("email_hash")
        #expect(hashes.allSatisfy { $0?.count == 64 && $0?.contains("@") == false })

        let again = try await clickstream.run(FolderStore(root: sampleBucket))
        #expect(again.objectsLoaded == 0)
        #expect(again.objectsSkipped == expected.objects)
        try expectSampleLoaded(clickstream)
        let runs = try Connection(clickstream.database).query(
            "SELECT status, objects_loaded, records_read, records_quarantined FROM sluice.load_runs ORDER BY run_id"
        ).rows
        #expect(runs == [["succeeded", "2", String(expected.records_read), String(expected.records_quarantined)], ["succeeded", "0", "0", "0"]])
    }

    @Test func fromS3WithSignedRequestsThenAChangedObjectIsReportedNotReloaded() async throws {
        let moto = try MotoServer.shared.get()
        let client = moto.client()
        let bucket = "raw-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        let files = try FileManager.default.subpathsOfDirectory(atPath: sampleBucket.path).filter { !$0.hasSuffix("/") }
        for file in files.sorted() {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: sampleBucket.appendingPathComponent(file).path, isDirectory: &isDirectory)
            if isDirectory.boolValue { continue }
            try await client.putObject(bucket: bucket, key: file, body: Array(try Data(contentsOf: sampleBucket.appendingPathComponent(file))))
        }
        let clickstream = try Clickstream()
        let store = S3Store(client: client, bucket: bucket)
        // moto 5.2 computes the signature of a query value containing "/" differently from AWS (boto3's
        // own ListObjectsV2 with Prefix="events/" gets SignatureDoesNotMatch from it), so the listing
        // uses a prefix without one; it selects the same objects.
        var pipeline = clickstream.pipeline
        pipeline.source.staticPrefix = "events"
        let result = try await clickstream.run(store, pipeline: pipeline)
        #expect(result.succeeded, "\(result.objectsFailed)")
        try expectSampleLoaded(clickstream)

        // The producer rewrites an object that was loaded: new ETag under the same key.
        let key = "events/2026/11/20/09/part-0000.jsonl"
        try await client.putObject(bucket: bucket, key: key, body: Array("{\"event_id\": \"7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a01\"}\n".utf8))
        let rerun = try await clickstream.run(store, pipeline: pipeline)
        #expect(rerun.objectsChanged == [key])
        #expect(rerun.objectsLoaded == 0)
        try expectSampleLoaded(clickstream)

        // A wrong secret: moto verifies the signature, so the run fails instead of reading anything.
        let wrong = moto.client(secret: "not-the-secret")
        await #expect(throws: (any Error).self) { try await clickstream.run(S3Store(client: wrong, bucket: bucket), pipeline: pipeline) }
    }

    @Test func aSecondRunnerExitsAtOnceWithTheHolderNamed() async throws {
        let clickstream = try Clickstream()
        let holder = try Connection(clickstream.database)
        try holder.query("SELECT pg_advisory_lock($1::bigint)", [String(clickstream.pipeline.lockKey)])
        let error = await #expect(throws: ExecutorError.self) { try await clickstream.run(FolderStore(root: sampleBucket)) }
        guard case .busy(let pipeline, let description) = error else { Issue.record("expected busy, got \(String(describing: error))"); return }
        #expect(pipeline == "clickstream")
        #expect(description.contains("server process \(holder.backendPID)"))
        #expect(try clickstream.count("SELECT count(*) FROM analytics.fact_events") == 0)
        holder.close()
        #expect(try await clickstream.run(FolderStore(root: sampleBucket)).objectsLoaded == 2)
    }

    /// S3 events arrive in parallel: runs given named objects hold only those objects' locks, so
    /// they load side by side; the same object given to two runs at once is loaded once; and a run
    /// starting beside live ones does not take them for crashed.
    @Test func runsGivenObjectsWorkSideBySideAndLoadEachObjectOnce() async throws {
        let clickstream = try Clickstream()
        let keys = ["events/2026/11/20/09/part-0000.jsonl", "events/2026/11/20/10/part-0001.jsonl.gz"]
        // Every merge into the first target waits behind this transaction: each load that is under
        // way stops there, visibly, until it commits.
        let blocker = try Connection(clickstream.database)
        try blocker.query("BEGIN")
        try blocker.query("LOCK TABLE \(clickstream.pipeline.targets[0].table) IN SHARE MODE")
        func load(_ key: String) -> Task<PipelineResult, Error> {
            var options = clickstream.options()
            options.objectKeys = [key]
            return Task { try await clickstream.run(FolderStore(root: sampleBucket), options: options) }
        }
        let first = load(keys[0])
        let second = load(keys[1])
        let twice = load(keys[0])
        // Both objects' loads are at the merge at once; the second run given part-0000 waits for its lock.
        let waiting = try await waitFor(
            clickstream,
            "SELECT count(*) FILTER (WHERE locktype = 'relation'), count(*) FILTER (WHERE locktype = 'advisory') FROM pg_locks WHERE NOT granted",
            ["2", "1"])
        #expect(waiting, "two loads waiting at the merge and one at the object's lock")
        try blocker.query("COMMIT")
        let results = [try await first.value, try await second.value, try await twice.value]
        #expect(results.map(\.objectsLoaded).reduce(0, +) == 2)
        #expect(results.map(\.objectsSkipped).reduce(0, +) == 1)
        #expect(results.allSatisfy { $0.succeeded })
        try expectSampleLoaded(clickstream)
        try expectRunsAgreeWithTheManifest(clickstream)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.load_runs WHERE status = 'succeeded'") == 3, "no live run was marked failed")
        // A listing run afterwards finds both loaded.
        let listing = try await clickstream.run(FolderStore(root: sampleBucket))
        #expect(listing.objectsLoaded == 0)
        #expect(listing.objectsSkipped == 2)
    }

    /// A corrected file under a loaded key is reported, not loaded; `reload` accepts it: in one
    /// transaction the earlier load's manifest entry moves to manifest_replaced, its rows leave the
    /// append target through their lineage column, and the new bytes load under a new entry.
    @Test func aReloadReplacesAnObjectsEarlierLoad() async throws {
        let clickstream = try Clickstream()
        let folder = try temporaryFolder("reload")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: sampleBucket, to: folder.appendingPathComponent("raw"))
        let store = FolderStore(root: folder.appendingPathComponent("raw"))
        let first = try await clickstream.run(store)
        #expect(first.objectsLoaded == 2)
        let key = "events/2026/11/20/09/part-0000.jsonl"
        let fromKey = "SELECT count(*) FROM analytics.fact_events WHERE source_object = '\(key)'"
        let before = try clickstream.count(fromKey)
        let total = try clickstream.count("SELECT count(*) FROM analytics.fact_events")
        #expect(before > 10)

        // The producer corrects the file: ten of its records.
        let file = folder.appendingPathComponent("raw/\(key)")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").prefix(10)
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let rerun = try await clickstream.run(store)
        #expect(rerun.objectsChanged == [key])
        #expect(rerun.objectsLoaded == 0)

        var options = clickstream.options()
        options.objectKeys = [key]
        options.reload = true
        let reloaded = try await clickstream.run(store, options: options)
        #expect(reloaded.succeeded, "\(reloaded.objectsFailed)")
        #expect(reloaded.objectsLoaded == 1)
        #expect(reloaded.counts.loadsReplaced == 1)
        #expect(reloaded.counts.rowsRemoved["analytics.fact_events"] == before)
        let after = try clickstream.count(fromKey)
        #expect(after == reloaded.counts.rowsWritten["analytics.fact_events"] && after <= 10 && after > 0)
        #expect(try clickstream.count("SELECT count(*) FROM analytics.fact_events") == total - before + after)
        // One current entry per key, naming the run it replaced; the replaced one kept with the reload's run.
        let current = try Connection(clickstream.database).query(
            "SELECT run_id, replaces_run FROM sluice.manifest WHERE object_key = $1", [key]
        ).rows
        #expect(current == [[String(reloaded.runID), String(first.runID)]])
        let replaced = try Connection(clickstream.database).query(
            "SELECT run_id, replaced_by_run FROM sluice.manifest_replaced WHERE object_key = $1", [key]
        ).rows
        #expect(replaced == [[String(first.runID), String(reloaded.runID)]])
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest") == 2)

        // A normal run finds nothing to do; reloading again replaces the reload, with the same rows.
        let quiet = try await clickstream.run(store)
        #expect(quiet.objectsLoaded == 0 && quiet.objectsChanged.isEmpty)
        let again = try await clickstream.run(store, options: options)
        #expect(again.counts.loadsReplaced == 1)
        #expect(try clickstream.count(fromKey) == after)

        // A "correction" that is mostly garbage is over the pipeline's limit: the reload is rolled
        // back whole, and the load it would have replaced stays, rows and manifest entry.
        try String(repeating: "{not json\n", count: 20).write(to: file, atomically: true, encoding: .utf8)
        let refused = try await clickstream.run(store, options: options)
        #expect(
            refused.objectsFailed.first?.error.contains("the reload was rolled back whole and the earlier load stays") == true,
            "\(refused.objectsFailed)")
        #expect(try clickstream.count(fromKey) == after)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest WHERE object_key = '\(key)' AND run_id = \(again.runID)") == 1)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest_replaced WHERE replaced_by_run = \(refused.runID)") == 0)
    }

    @Test func aReloadIsRefusedWhereAnAppendTargetKeepsNoLineage() async throws {
        let clickstream = try Clickstream()
        var pipeline = clickstream.pipeline
        for index in pipeline.targets.indices where pipeline.targets[index].mode == .append {
            pipeline.targets[index].removeObjectRows = nil
        }
        var options = clickstream.options()
        options.reload = true
        options.objectKeys = ["events/2026/11/20/09/part-0000.jsonl"]
        let error = await #expect(throws: ExecutorError.self) {
            try await clickstream.run(FolderStore(root: sampleBucket), options: options, pipeline: pipeline)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("append target analytics.fact_events has no column with `{ derived: object_key }`"))
        #expect(try clickstream.count("SELECT count(*) FROM sluice.load_runs") == 0, "refused before anything")
    }

    /// Polls `sql` until its first row is `expected` (at most 60 s).
    func waitFor(_ clickstream: Clickstream, _ sql: String, _ expected: [String]) async throws -> Bool {
        let watcher = try Connection(clickstream.database)
        for _ in 0..<600 {
            if try watcher.query(sql).rows.first?.map({ $0 ?? "" }) == expected { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test(arguments: ["mid-copy", "before-commit", "after-commit"])
    func aBackendTerminatedMidLoadIsRetriedAndNothingHalfLoadedIsVisible(point: String) async throws {
        let clickstream = try Clickstream()
        var options = clickstream.options()
        options.terminateBackendAt = point
        let result = try await clickstream.run(FolderStore(root: sampleBucket), options: options)
        #expect(result.succeeded, "\(result.objectsFailed)")
        try expectSampleLoaded(clickstream)
        // after-commit: the server committed and the reply was lost; the run is credited with the
        // object all the same, as the manifest credits it.
        #expect(result.objectsLoaded == 2)
        try expectRunsAgreeWithTheManifest(clickstream)
    }

    @Test func refusedRecordsAreAlsoCopiedToTheQuarantineBucket() async throws {
        let clickstream = try Clickstream()
        let bucket = try temporaryFolder("quarantine")
        defer { try? FileManager.default.removeItem(at: bucket) }
        var pipeline = clickstream.pipeline
        pipeline.quarantine.bucket = "rejects"
        pipeline.quarantine.prefix = "quarantine/"
        var options = clickstream.options()
        options.quarantineSink = FolderStore(root: bucket)
        let result = try await clickstream.run(FolderStore(root: sampleBucket), options: options, pipeline: pipeline)
        #expect(
            result.quarantineCopies == [
                "quarantine/clickstream/events/2026/11/20/09/part-0000.jsonl.run-1.jsonl",
                "quarantine/clickstream/events/2026/11/20/10/part-0001.jsonl.gz.run-1.jsonl",
            ])
        var copied: [[String: Any]] = []
        for key in result.quarantineCopies {
            let text = try String(contentsOf: bucket.appendingPathComponent(key), encoding: .utf8)
            copied += try text.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }
        #expect(copied.count == (try Expected.load()).records_quarantined)
        #expect(copied.allSatisfy { $0["reason"] is String && $0["record"] is String && $0["line"] is Int })
    }

    @Test func aDatabaseOnAnotherSchemaIsRefused() async throws {
        let clickstream = try Clickstream()
        try Connection(clickstream.database).query("INSERT INTO sluice.schema_version (schema_digest, source, statements) VALUES ('0000', 'test', 0)")
        let error = await #expect(throws: ExecutorError.self) { try await clickstream.run(FolderStore(root: sampleBucket)) }
        #expect(error?.description.contains("not the one this plan was compiled against") == true)
    }
}
