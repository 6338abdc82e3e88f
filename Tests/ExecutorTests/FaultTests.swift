import Foundation
import PipelineExecutor
import PlanFormat
import PostgresClient
import S3Client
import TestSupport
import Testing

/// Loading through a fault-injecting proxy in front of moto's S3: whatever the fault, no corrupted or
/// partial object is ever committed, and every fault ends with exactly the sample's rows after at most
/// one clean rerun. The proxy damages answers the way a broken network or endpoint does.
@Suite("Loads under S3 faults", .serialized)
struct FaultTests {
    let moto: MotoServer.Instance
    let bucket: String
    let proxy: FaultProxy
    let clickstream: Clickstream
    /// Listed with a prefix without "/" (moto miscomputes such signatures; see LoadTests).
    let pipeline: PipelinePlan

    init() async throws {
        moto = try MotoServer.shared.get()
        bucket = "faults-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let client = moto.client()
        try await client.createBucket(bucket)
        for file in try FileManager.default.subpathsOfDirectory(atPath: sampleBucket.path).sorted() {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: sampleBucket.appendingPathComponent(file).path, isDirectory: &isDirectory)
            if isDirectory.boolValue { continue }
            try await client.putObject(bucket: bucket, key: file, body: Array(try Data(contentsOf: sampleBucket.appendingPathComponent(file))))
        }
        proxy = try await FaultProxy.start(upstream: moto.endpoint)
        clickstream = try Clickstream()
        var pipeline = clickstream.pipeline
        pipeline.source.staticPrefix = "events"
        self.pipeline = pipeline
    }

    static let plainObject = "events/2026/11/20/09/part-0000.jsonl"
    static let gzipObject = "events/2026/11/20/10/part-0001.jsonl.gz"

    func store(timeouts: S3Client.Timeouts = S3Client.Timeouts()) -> S3Store {
        var policy = RetryPolicy()
        policy.budget = .seconds(4)
        policy.transientBaseDelay = .milliseconds(10)
        policy.throttlingBaseDelay = .milliseconds(200)
        return S3Store(client: moto.client(endpoint: proxy.endpoint, retryPolicy: policy, timeouts: timeouts), bucket: bucket)
    }

    func run(_ store: S3Store) async throws -> PipelineResult { try await clickstream.run(store, pipeline: pipeline) }

    /// Nothing of `key` anywhere: not in the manifest, the quarantine or the fact table's lineage.
    func expectNothingOf(_ key: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest WHERE object_key = '\(key)'") == 0, sourceLocation: sourceLocation)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.quarantine WHERE object_key = '\(key)'") == 0, sourceLocation: sourceLocation)
    }

    @Test(arguments: ["truncate", "bitflip"])
    func aDamagedObjectIsNeverCommittedAndOneCleanRerunLoadsIt(kind: String) async throws {
        // Every answer for the plain object is damaged: it fails, after its re-reads; the other loads.
        try await proxy.inject([["op": "get", "key": "part-0000", "kind": kind, "times": 1000]])
        let damaged = try await run(store())
        #expect(damaged.objectsLoaded == 1)
        #expect(damaged.objectsFailed.map(\.key) == [Self.plainObject])
        let error = damaged.objectsFailed.first?.error ?? ""
        #expect(error.contains("GetObject s3://\(bucket)/\(Self.plainObject) at \(proxy.endpoint.absoluteString)"), "\(error)")
        #expect(error.contains(kind == "truncate" ? "but the object was listed with" : "the bytes were altered on the way"), "\(error)")
        try expectNothingOf(Self.plainObject)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.load_runs WHERE status = 'failed'") == 1)

        try await proxy.inject([])
        let rerun = try await run(store())
        #expect(rerun.succeeded)
        #expect(rerun.objectsLoaded == 1)
        try expectSampleLoaded(clickstream)
        try expectRunsAgreeWithTheManifest(clickstream)
    }

    /// One fault each, once: the run retries, resumes or reads again, and ends clean by itself.
    @Test(
        arguments: [
            ["op": "get", "key": "part-0000", "kind": "bitflip", "bits": 3],
            ["op": "get", "key": "part-0001", "kind": "bitflip", "bits": 1],  // inside gzip: the inflater fails before the checksum is known
            ["op": "get", "key": "part-0000", "kind": "truncate"],
            ["op": "get", "key": "part-0001", "kind": "reset", "after": 2000],
            ["op": "get", "key": "part-0000", "kind": "stall", "after": 5000, "seconds": 3],
            ["op": "list", "kind": "reset"],
            ["op": "list", "kind": "truncate"],
            ["op": "get", "kind": "status", "status": 500, "code": "InternalError"],
        ] as [[String: any Sendable]])
    func aPassingFaultEndsCleanInTheSameRun(rule: [String: any Sendable]) async throws {
        var timeouts = S3Client.Timeouts()
        timeouts.read = .seconds(1)
        try await proxy.inject([rule])
        let result = try await run(store(timeouts: timeouts))
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(try await proxy.injected().values.reduce(0, +) == 1, "the fault happened")
        try expectSampleLoaded(clickstream)
        try expectRunsAgreeWithTheManifest(clickstream)
    }

    @Test func aThrottleIsWaitedOut() async throws {
        try await proxy.inject([["op": "any", "kind": "throttle", "seconds": 3]])
        var policy = RetryPolicy()
        policy.throttlingBaseDelay = .milliseconds(200)
        let store = S3Store(client: moto.client(endpoint: proxy.endpoint, retryPolicy: policy), bucket: bucket)
        let result = try await run(store)
        #expect(result.succeeded)
        try expectSampleLoaded(clickstream)
    }

    @Test func aRefusingEndpointFailsTheRunNamingItAndLoadsNothing() async throws {
        var policy = RetryPolicy()
        policy.budget = .seconds(1)
        let endpoint = URL(string: "http://127.0.0.1:\(refusedPort())")!
        let store = S3Store(client: moto.client(endpoint: endpoint, retryPolicy: policy), bucket: bucket)
        let error = await #expect(throws: S3TransportError.self) { try await run(store) }
        #expect(
            error?.description.hasPrefix("ListObjectsV2 s3://\(bucket)/events at \(endpoint.absoluteString): connection refused") == true,
            "\(String(describing: error))")
        #expect(try clickstream.count("SELECT count(*) FROM sluice.load_runs WHERE status = 'failed' AND error LIKE '%connection refused%'") == 1)
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest") == 0)
    }

    @Test func noTransactionIsOpenWhileTheSourceIsSilent() async throws {
        // The first object's answer is held back for 3 s before its head: the loader waits outside any transaction.
        try await proxy.inject([["op": "get", "key": "part-0000", "kind": "stall-head", "seconds": 3]])
        let store = store()
        let running = Task { try await run(store) }
        try await Task.sleep(for: .milliseconds(1500))
        let open = try clickstream.count(
            """
            SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice run clickstream' AND xact_start IS NOT NULL
            """)
        #expect(open == 0, "no transaction (and no COPY) held open while S3 is silent")
        #expect(try await running.value.succeeded)
        try expectSampleLoaded(clickstream)
    }
}

/// Folder sources: the listing in S3's order, a page at a time; a symlinked root; an empty source said.
@Suite("Folder sources")
struct FolderSourceTests {
    @Test func listsInBytewiseKeyOrderAndFollowsASymlinkedRoot() async throws {
        let folder = try temporaryFolder("listing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let keys = ["a-c", "a/b", "a/b0/x", "a/ba", "Z", "é", "a.b/c", ".hidden", "a/.also-hidden"]
        for key in keys {
            let url = folder.appendingPathComponent("data/" + key)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(key.utf8).write(to: url)
        }
        let link = folder.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: folder.appendingPathComponent("data"))
        let listed = try await FolderStore(root: link).list(prefix: "")
        let visible = keys.filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
        #expect(listed.map(\.key) == visible.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(listed.map(\.size) == listed.map { Int64($0.key.utf8.count) })
        #expect(try await FolderStore(root: link).list(prefix: "a/b").map(\.key) == ["a/b", "a/b0/x", "a/ba"])
    }

    @Test func aFileThatChangesWhileReadIsAnIntegrityFailure() async throws {
        let folder = try temporaryFolder("changing")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("{\"a\": 1}\n".utf8).write(to: folder.appendingPathComponent("x.json"))
        let store = FolderStore(root: folder)
        let listed = try #require(try await store.list(prefix: "").first)
        try Data("{\"a\": 1}\n{\"a\": 2}\n".utf8).write(to: folder.appendingPathComponent("x.json"))
        let error = await #expect(throws: ExecutorError.self) { try await store.read(listed) { _ in } }
        guard case .integrity(let message) = error else { Issue.record("expected an integrity error, got \(String(describing: error))"); return }
        #expect(message.contains("was 9 bytes when listed and 18 when read"))
    }

    @Test func anEmptySourceFailsTheRunUnlessExpected() async throws {
        let clickstream = try Clickstream()
        let empty = try temporaryFolder("empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        let error = await #expect(throws: ExecutorError.self) { try await clickstream.run(FolderStore(root: empty)) }
        #expect(error?.description.contains("no objects under 'events/' in \(empty.path)") == true, "\(String(describing: error))")
        #expect(try clickstream.count("SELECT count(*) FROM sluice.load_runs WHERE status = 'failed'") == 1)
        var options = clickstream.options()
        options.allowEmpty = true
        let allowed = try await clickstream.run(FolderStore(root: empty), options: options)
        #expect(allowed.succeeded)
        #expect(allowed.warnings == ["no objects under 'events/' in \(empty.path)"])
    }

    @Test func aListingOfManyPagesLoadsEveryObjectOnce() async throws {
        let clickstream = try Clickstream()
        let folder = try temporaryFolder("pages")
        defer { try? FileManager.default.removeItem(at: folder) }
        // 2,100 one-record objects: three pages of the listing.
        let template = String(try String(contentsOf: sampleBucket.appendingPathComponent(Self.firstLine), encoding: .utf8).split(separator: "\n")[0])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(template.utf8)) as? [String: Any])?["event_id"] as? String)
        for index in 0..<2100 {
            let url = folder.appendingPathComponent(String(format: "events/2026/11/20/%02d/o-%05d.jsonl", index % 24, index))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let record = template.replacingOccurrences(of: id, with: String(format: "%08x-0000-4000-8000-000000000000", index))
            try Data((record + "\n").utf8).write(to: url)
        }
        let result = try await clickstream.run(FolderStore(root: folder))
        #expect(result.objectsListed == 2100)
        #expect(result.objectsLoaded == 2100)
        #expect(try clickstream.count("SELECT count(DISTINCT object_key) FROM sluice.manifest") == 2100)
        let again = try await clickstream.run(FolderStore(root: folder))
        #expect(again.objectsSkipped == 2100 && again.objectsLoaded == 0)
    }

    static let firstLine = "events/2026/11/20/09/part-0000.jsonl"
}

/// What `sluice run` says when the source fails it: the operation, the place and the cause, on stderr.
@Suite("sluice run under source faults")
struct RunCommandFaultTests {
    static let maskKey = ["SLUICE_MASK_KEY": String(decoding: Clickstream.maskKey, as: UTF8.self)]

    @Test func aRefusingEndpointIsNamedAndEveryRetrySaid() throws {
        let clickstream = try Clickstream()
        let endpoint = "http://127.0.0.1:\(refusedPort())"
        let environment = Self.maskKey.merging(["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_MAX_ATTEMPTS": "3"]) {
            $1
        }
        let started = Date()
        let result = try CLI.run(
            [
                "run", "clickstream", "--spec", "specs/clickstream.yaml", "--s3-endpoint", endpoint, "--bucket", "raw=landing",
                "--database", clickstream.database,
            ], environment: environment, removing: ["AWS_PROFILE", "AWS_SESSION_TOKEN"])
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 20)
        let operation = "ListObjectsV2 s3://landing/events/ at \(endpoint)"
        #expect(
            result.stderr.components(separatedBy: "note: retrying \(operation): connection refused").count == 3, "two retries said: \(result.stderr)")
        #expect(result.stderr.contains("error: clickstream: \(operation): connection refused"), "\(result.stderr)")
        #expect(result.stderr.contains("gave up after 3 attempts"), "\(result.stderr)")
        #expect(!result.stderr.contains("Usage:"))
    }

    @Test func anEmptySourceFailsUnlessAllowed() throws {
        let clickstream = try Clickstream()
        let empty = try temporaryFolder("empty-run")
        defer { try? FileManager.default.removeItem(at: empty) }
        try FileManager.default.createDirectory(at: empty.appendingPathComponent("raw"), withIntermediateDirectories: true)
        let arguments = ["run", "clickstream", "--spec", "specs/clickstream.yaml", "--source", empty.path, "--database", clickstream.database]
        let refused = try CLI.run(arguments, environment: Self.maskKey)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error: clickstream: no objects under 'events/' in \(empty.path)/raw: nothing to load"), "\(refused.stderr)")
        let allowed = try CLI.run(arguments + ["--allow-empty"], environment: Self.maskKey)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stderr.contains("warning: clickstream: no objects under 'events/' in \(empty.path)/raw"), "\(allowed.stderr)")
    }
}
