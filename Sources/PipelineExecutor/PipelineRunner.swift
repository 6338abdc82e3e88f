import Crypto
import Foundation
import PlanFormat
import PostgresClient
import S3Client

/// How a run is asked for.
public struct RunOptions: Sendable {
    /// libpq connection string or URL of the warehouse.
    public var database: String
    /// Expand the prefix template hour by hour over [from, to); nil lists the template's fixed part.
    public var window: (from: Date, to: Date)?
    /// Queue behind a runner that holds the pipeline instead of exiting at once.
    public var wait = false
    /// The key `mask: hash` columns are HMAC-SHA-256'd with.
    public var maskKey: Data?
    /// Connection losses tolerated per object before it counts as failed.
    public var maxAttempts = 5
    /// First retry delay; doubled per attempt.
    public var retryDelay: Duration = .milliseconds(200)
    /// Test hook: at this point of the first object's load (`mid-copy`, `before-commit`), the server
    /// terminates the load's session (pg_terminate_backend from a second connection), once.
    public var terminateBackendAt: String?
    /// Where refused records are also written, for pipelines with a quarantine bucket.
    public var quarantineSink: QuarantineSink?
    /// A source with no objects at all under its prefixes is expected (a new deployment, a quiet
    /// hour): a warning instead of a failed run.
    public var allowEmpty = false
    /// Reads of one object whose bytes did not match what the store holds, before it counts as failed.
    public var maxObjectReads = 3
    /// Load exactly these keys (an S3 event's objects) instead of listing the source's prefixes; a key
    /// outside the pipeline's prefix is not its object and is left alone.
    public var objectKeys: [String]?
    /// When the caller must have its answer (a Lambda invocation's deadline): no object is started that
    /// the time left would not finish, judged by the slowest object so far plus `deadlineReserve`. What
    /// is left stays unloaded and is counted in `PipelineResult.objectsLeft`; the next run loads it.
    public var deadline: Date?
    /// Time kept back for what follows the last object: quarantine copies, post-load steps, the report.
    public var deadlineReserve: TimeInterval = 5
    /// Load the chosen objects again even if the manifest has them (after a spec fix or a corrected
    /// file): per object, in one transaction, its earlier load is replaced. Needs the warehouse's
    /// admin: the writer role may not delete.
    public var reload = false
    /// How pipelines with an API source reach it; nil: their APIs are not fetched (what is landed loads).
    public var api: APIAccess?
    /// Objects loaded at once, each in its own transaction on its own connection. Where the order of
    /// loads decides what a row holds (upserts whose last value wins), objects still merge in key order.
    public var connections = 1

    public init(database: String, window: (from: Date, to: Date)? = nil, wait: Bool = false, maskKey: Data? = nil) {
        self.database = database
        self.window = window
        self.wait = wait
        self.maskKey = maskKey
    }
}

/// What the runner reports while it works (progress display) — never needed for correctness.
public enum RunEvent: Sendable {
    /// After each page of the listing: the objects listed and to load so far.
    case listed(pipeline: String, objects: Int, toLoad: Int)
    case objectStarted(key: String)
    case records(key: String, count: Int)
    case objectFinished(key: String, counts: ObjectCounts)
    case retrying(key: String, attempt: Int, reason: String)
    /// An API source's pages were fetched and landed.
    case fetched(pipeline: String, pages: Int, records: Int)
}

/// One pipeline run's result: what `sluice run` prints and `sluice.load_runs` records.
public struct PipelineResult: Codable, Equatable, Sendable {
    public struct Failure: Codable, Equatable, Sendable {
        public var key: String
        public var error: String
    }

    public struct Unverified: Codable, Equatable, Sendable {
        public var key: String
        public var reason: String
    }

    public var pipeline: String
    public var runID: Int
    public var objectsListed = 0
    public var objectsLoaded = 0
    public var objectsSkipped = 0
    /// Keys whose content changed after they were loaded: reported, not reloaded.
    public var objectsChanged: [String] = []
    public var objectsFailed: [Failure] = []
    /// Loaded objects whose content the store gave no checksum to verify (their size was checked).
    public var objectsUnverified: [Unverified] = []
    public var counts = ObjectCounts()
    public var postLoad: [String] = []
    /// A post-load step that failed (the objects are loaded and stay so; later steps did not run).
    public var postLoadFailed: Failure?
    /// Quarantine copies written to the quarantine bucket.
    public var quarantineCopies: [String] = []
    /// What went wrong without failing the run (a quarantine copy that could not be written: the
    /// records are still in sluice.quarantine).
    public var warnings: [String] = []
    /// Objects found new but not started because the deadline was near, and whether the run stopped
    /// for it (pages not yet listed may hold more): the next run loads them.
    public var objectsLeft = 0
    public var stoppedAtDeadline = false
    /// What was fetched from the pipeline's API before loading, and why the fetch failed, if it did
    /// (what it landed is loaded by the run that finishes it).
    public var fetched: FetchReport?
    public var fetchFailed: String?
    public var seconds = 0.0

    public var succeeded: Bool { objectsFailed.isEmpty && postLoadFailed == nil && fetchFailed == nil }
}

/// Runs one pipeline of a plan: every listed object not yet in the manifest loaded in its own
/// transaction, connection losses retried on a new connection.
///
/// Exactly-once is per object: an object's transaction holds that object's advisory lock and looks
/// in the manifest again under it, so runs loading named objects (S3 events, arriving in parallel)
/// work side by side and one given an object another is loading waits, then skips it. A run that
/// lists the source holds the pipeline's lock too: one lister at a time, the next busy or queued.
/// Each run holds a lock on its own id while alive, so a later run can tell a crashed run from a
/// running one. Used by one task at a time; the class holds its connection between objects.
public final class PipelineRunner: @unchecked Sendable {
    let plan: ETLPlan
    let pipeline: PipelinePlan
    let store: ObjectStore
    let options: RunOptions
    let events: @Sendable (RunEvent) -> Void
    private var connection: Connection?
    private var terminated = false
    /// The landing folder of an API fetch that did not finish: its pages are not loaded.
    private var unfinishedFetch: String?
    /// The run's id and start, which lineage columns write.
    private var stamp: (Int64, String)?
    /// The run's own connection, as the loading loop takes it (the side-by-side workers have their own).
    private lazy var mainSession = Session(open: { [unowned self] in try self.liveConnection() }) { [unowned self] in
        self.connection?.close()
        self.connection = nil
    }

    /// A record program for one reader: it keeps per-object state, so each reader has its own.
    /// It is built from the reader's own decoded copy of the plan: the strings and arrays its rules
    /// hold are retained for every record, and shared with another reader's program those reference
    /// counts bounced between the cores (with two connections, a third more CPU; bench/etl).
    private func makeProgram() throws -> RecordProgram {
        let unshared = try JSONDecoder().decode(PipelinePlan.self, from: JSONEncoder().encode(pipeline))
        let program = try RecordProgram(unshared, maskKey: options.maskKey.map { SymmetricKey(data: $0) })
        if let stamp { program.run = stamp }
        return program
    }
    /// Once registered: taken again with the run's lock after a lost connection.
    private var runID: String?
    /// The first key of every run's `pg_advisory_lock(int, int)`; the second is the run id.
    static let runLockClass: Int32 = 0x736C_7275  // "slru"

    public init(
        plan: ETLPlan, pipeline: PipelinePlan, store: ObjectStore, options: RunOptions, events: @escaping @Sendable (RunEvent) -> Void = { _ in }
    ) {
        self.plan = plan
        self.pipeline = pipeline
        self.store = store
        self.options = options
        self.events = events
    }

    public func run() async throws -> PipelineResult {
        let started = Date()
        if options.reload {
            for target in pipeline.targets where target.mode == .append && target.removeObjectRows == nil {
                throw ExecutorError.plan(
                    "pipeline \(pipeline.name) cannot reload: append target \(target.table) has no column with `{ derived: object_key }`, "
                        + "so the rows one object put there cannot be told from the others'; add one (a text column) to reload")
            }
        }
        let program = try makeProgram()
        let connection = try connect()
        defer { connection.close() }
        try checkSchema(connection)
        // The run's row and its lock in one statement: another runner sees the row only once it
        // commits, and by then the lock that says this run is alive is held.
        let runID =
            try connection.query(
                """
                WITH run AS (INSERT INTO sluice.load_runs (pipeline) VALUES ($1) RETURNING run_id)
                SELECT run_id, pg_advisory_lock($2::int, (run_id % 2147483648)::int) FROM run
                """, [pipeline.name, String(Self.runLockClass)]
            ).scalar ?? "0"
        self.runID = runID
        // A run marked running whose lock nobody holds ended without saying so (a crash, a killed
        // environment): it is failed, and what it did not commit is not loaded.
        try connection.query(
            """
            UPDATE sluice.load_runs r SET status = 'failed', finished_at = now(),
                error = 'the runner stopped before it finished (found by a later run)'
            WHERE r.pipeline = $1 AND r.status = 'running' AND r.run_id <> $2::bigint AND NOT EXISTS (
                SELECT FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid = $3::bigint::oid AND l.objid = (r.run_id % 2147483648)::oid)
            """, [pipeline.name, runID, String(Self.runLockClass)])
        var result = PipelineResult(pipeline: pipeline.name, runID: Int(runID) ?? 0)
        let stamp = (Int64(runID) ?? 0, ISO8601DateFormatter().string(from: started))
        self.stamp = stamp
        program.run = stamp
        do {
            if let api = pipeline.source.api, options.objectKeys == nil, !options.reload {
                try (store as? LandingStore)?.prepare()
                if let access = options.api, access.fetch {
                    do { result.fetched = try await fetch(api, access: access, runID: runID) } catch let error as APIFetcher.Failure {
                        // The pages landed before the failure stay unloaded until a later run completes the fetch.
                        result.fetchFailed = "\(api.url): \(error)"
                    }
                } else {
                    result.warnings.append("the API was not fetched: loading what is landed")
                }
            }
            if pipeline.source.api != nil {
                // Whoever asks (a listing run, an S3 notification of a landed page, a reload), the pages of
                // a fetch still going on are not loaded: a continued fetch may write them again.
                unfinishedFetch = try connection.query("SELECT fetching_into FROM sluice.api_cursors WHERE pipeline = $1", [pipeline.name]).scalar
            }
            try await load(into: &result, program: program, runID: runID)
        } catch {
            try? record(result, runID: runID, status: "failed", error: "\(error)")
            throw error
        }
        result.seconds = Date().timeIntervalSince(started)
        try record(
            result, runID: runID, status: result.succeeded ? "succeeded" : "failed",
            error: result.fetchFailed.map { "fetching \($0)" } ?? result.objectsFailed.first.map { "\($0.key): \($0.error)" }
                ?? result.postLoadFailed.map { "post-load \($0.key): \($0.error)" })
        return result
    }

    /// Lists page by page and loads each page's new objects before listing on, so memory stays the
    /// same for ten objects or millions.
    private func load(into result: inout PipelineResult, program: RecordProgram, runID: String) async throws {
        var toLoad = 0
        for prefix in try listedPrefixes() {
            try await store.list(prefix: prefix) { page in
                // A key asked for by name lists the keys it is a prefix of too: only it is loaded.
                let page = options.objectKeys == nil ? page : page.filter { $0.key == prefix }
                // Past the deadline the rest of the listing is not even compared with the manifest.
                guard !result.stoppedAtDeadline else { return }
                result.objectsListed += page.count
                FaultInjection.point("listed")
                // A reload takes every chosen object, loaded or not.
                let loaded = options.reload ? [:] : try manifest(of: page.map(\.key))
                var pending: [SourceObject] = []
                for object in page {
                    if let unfinishedFetch, object.key.hasPrefix(unfinishedFetch) {
                        result.objectsLeft += 1
                        continue
                    }
                    guard let previous = loaded[object.key] else { pending.append(object); continue }
                    // Same bytes: skip. Different bytes under a loaded key: say so, never load twice.
                    let same: Bool
                    if let etag = object.etag {
                        same = previous.fingerprints.contains(etag)
                    } else if let size = previous.size, size != object.size {
                        same = false
                    } else {
                        same = previous.fingerprints.contains(try await store.fingerprint(object))
                    }
                    if same { result.objectsSkipped += 1 } else { result.objectsChanged.append(object.key) }
                }
                toLoad += pending.count
                events(.listed(pipeline: pipeline.name, objects: result.objectsListed, toLoad: toLoad))
                guard !pending.isEmpty else { return }
                result = try await onOwnThread { [self, result, pending] in
                    var result = result
                    let workers = options.reload || options.terminateBackendAt != nil ? 1 : min(options.connections, pending.count)
                    if workers > 1 {
                        try self.loadSideBySide(pending, workers: workers, into: &result, runID: runID)
                    } else {
                        try self.load(Array(pending.enumerated()), into: &result, program: program, runID: runID, session: mainSession, turns: nil)
                    }
                    return result
                }
            }
        }
        if result.objectsListed == 0, options.objectKeys == nil {
            let message = "no objects under \(try prefixes().map { "'\($0)'" }.joined(separator: ", ")) in \(store.location)"
            // An API with nothing new since the last fetch lands nothing: that is no fault of the source.
            guard options.allowEmpty || pipeline.source.api != nil else {
                throw ExecutorError.source(
                    "\(message): nothing to load. Check the source's bucket, prefix or folder; when an empty source is expected, allow it (--allow-empty)"
                )
            }
            result.warnings.append(message)
        }
        if let unfinishedFetch, result.objectsLeft > 0 {
            result.warnings.append(
                "\(result.objectsLeft) page(s) of the unfinished fetch under \(unfinishedFetch) are not loaded: the next fetch lands them again")
        }
        try await copyQuarantine(&result, runID: runID)
        if result.objectsLoaded > 0 {
            for step in pipeline.postLoad {
                // The loads are committed: a failing step fails this run (and its alarm), but is not
                // a reason for the other pipelines not to run. The steps after it depend on it.
                do {
                    try await withConnectionRetries("post-load \(step.name)") { connection in try connection.execute(step.sql) }
                } catch let error as PostgresError where !error.isConnectionFailure {
                    result.postLoadFailed = .init(key: step.name, error: "\(error)")
                    break
                }
                result.postLoad.append(step.name)
            }
        }
    }

    /// Fetches the API's pages into a landing folder of their own and keeps where the next fetch
    /// starts. The folder is noted before the first request and the way on after each page: a fetch
    /// cut short (a deadline, a crash, an API that gave up) is gone on with by the next run, into the
    /// same folder, and its pages load once it is complete.
    private func fetch(_ api: PipelinePlan.API, access: APIAccess, runID: String) async throws -> FetchReport {
        guard let landing = store as? LandingStore else { throw ExecutorError.plan("pages cannot be landed in \(store.location)") }
        let known = try liveConnection().query(
            "SELECT cursor, fetching_into, resume FROM sluice.api_cursors WHERE pipeline = $1", [pipeline.name]
        ).rows.first
        let since = known?[0] ?? nil
        let interrupted = known?[1] ?? nil
        let resuming = (known?[2] ?? nil).flatMap { try? JSONDecoder().decode(FetchProgress.self, from: Data($0.utf8)) }
        let folder = interrupted ?? Self.landingFolder(prefix: pipeline.source.staticPrefix ?? "", at: Date(), runID: runID)
        try liveConnection().query(
            """
            INSERT INTO sluice.api_cursors (pipeline, fetching_into, run_id) VALUES ($1, $2, $3::bigint)
            ON CONFLICT (pipeline) DO UPDATE SET fetching_into = EXCLUDED.fetching_into, run_id = EXCLUDED.run_id
            """, [pipeline.name, folder, runID])
        var report = FetchReport(landedUnder: folder)
        report.since = since
        report.resumed = interrupted != nil
        let fetcher = APIFetcher(api: api, access: access, landing: landing) { [events] url, attempt, reason in
            events(.retrying(key: url, attempt: attempt, reason: reason))
        }
        let (greatest, pages) = try await fetcher.fetch(
            since: since, resuming: interrupted == nil ? nil : resuming, folder: folder,
            // The time kept back for loading what is landed is not spent fetching.
            deadline: options.deadline?.addingTimeInterval(-options.deadlineReserve), report: &report
        ) { progress in
            try liveConnection().query(
                "UPDATE sluice.api_cursors SET resume = $2 WHERE pipeline = $1",
                [pipeline.name, String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)])
        }
        if interrupted != nil {
            // A page written just before the fetch was cut short, beyond what the fetch now ends with.
            let kept = Set((0..<pages).map { folder + APIFetcher.pageName($0 + 1) })
            for object in try await landing.list(prefix: folder) where !kept.contains(object.key) { try await landing.remove(key: object.key) }
        }
        report.cursor = APIFetcher.Greatest.kept(since: since, greatest: greatest)
        try liveConnection().query(
            """
            UPDATE sluice.api_cursors SET cursor = $2, fetching_into = NULL, resume = NULL, fetched_at = now(), run_id = $3::bigint
            WHERE pipeline = $1
            """, [pipeline.name, report.cursor, runID])
        events(.fetched(pipeline: pipeline.name, pages: report.pages, records: report.records))
        return report
    }

    /// `<prefix><yyyy>/<MM>/<dd>/<HHmmss>-<run>/`: fetches sort by when they started, as they must load.
    static func landingFolder(prefix: String, at date: Date, runID: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return prefix
            + String(
                format: "%04d/%02d/%02d/%02d%02d%02d-%@/", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0,
                parts.second ?? 0, runID)
    }

    /// Runs blocking work (libpq, waiting on the reader) on a thread of its own, never on the
    /// cooperative pool: the reader task needs that pool to make progress.
    private func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Loads `pending` in order, each object in its own transaction, while a reader task parses the
    /// objects ahead. A lost connection, an object the server refuses, or one whose bytes did not
    /// match what the store holds stops the reader; it starts again from the next object to load (or
    /// the same one, to read it again). Blocking: runs on its own thread.
    private func load(
        _ numbered: [(offset: Int, element: SourceObject)], into result: inout PipelineResult, program: RecordProgram, runID: String,
        session: Session, turns: MergeTurns?
    ) throws {
        let pending = numbered.map(\.element)
        // However this worker's objects end, loaded, failed or left, the loads after them may merge.
        var settled = 0
        func settle(through index: Int) {
            guard let turns else { return }
            while settled <= index && settled < numbered.count {
                turns.finished(numbered[settled].offset)
                settled += 1
            }
        }
        defer { settle(through: numbered.count - 1) }
        var next = 0
        var attempt = 1
        var reads = 1
        var afterConnectionLoss = false
        // The counts of the object whose COMMIT was sent last, in case the connection dies during it.
        var lastCommit: (key: String, counts: ObjectCounts)?
        let events = self.events
        let reader = ObjectReader(pipeline: pipeline, program: program, store: store) { key, count in events(.records(key: key, count: count)) }
        var slowest: TimeInterval = 0
        var started = Date()
        while next < pending.count {
            let channel = StagedChannel()
            let remaining = Array(pending[next...])
            let stopped = DispatchSemaphore(value: 0)
            Task {
                await reader.read(remaining, into: channel)
                stopped.signal()
            }
            var restart = false
            var outOfTime = false
            taking: while let event = channel.take() {
                guard case .begin(let object) = event else { continue }
                if let deadline = options.deadline, Date().addingTimeInterval(slowest + options.deadlineReserve) > deadline {
                    outOfTime = true
                    break taking
                }
                started = Date()
                defer { slowest = max(slowest, Date().timeIntervalSince(started)) }
                events(.objectStarted(key: object.key))
                do {
                    let connection = try session.live()
                    // (A reload finds the load it replaces there until its own commits.)
                    if afterConnectionLoss, let loadedBy = try committedBy(object, on: connection), !options.reload || loadedBy == runID {
                        // The COMMIT went through before the connection was lost: credit the run that
                        // the manifest credits, with the counts its manifest row was written with.
                        if loadedBy == runID, let committed = lastCommit, committed.key == object.key {
                            result.objectsLoaded += 1
                            result.counts.add(committed.counts)
                            events(.objectFinished(key: object.key, counts: committed.counts))
                        } else {
                            result.objectsSkipped += 1
                        }
                        settle(through: next)
                        next += 1
                        afterConnectionLoss = false
                        restart = true
                        break taking
                    }
                    afterConnectionLoss = false
                    var loader = ObjectLoader(pipeline: pipeline, connection: connection, runID: runID)
                    loader.reload = options.reload
                    loader.fault = { [self] point in try self.fault(point, connection: connection) }
                    loader.committing = { counts in lastCommit = (object.key, counts) }
                    loader.turn = turns?.turn(of: numbered[next].offset)
                    switch try loader.load(object, from: channel) {
                    case .loaded(let counts, let receipt):
                        result.objectsLoaded += 1
                        result.counts.add(counts)
                        if let reason = receipt.unverified { result.objectsUnverified.append(.init(key: object.key, reason: reason)) }
                        // Said once for every object with the same header, not once per object.
                        for note in counts.notes where !result.warnings.contains(where: { $0.hasSuffix(": " + note) }) {
                            result.warnings.append("\(object.key): \(note)")
                        }
                        events(.objectFinished(key: object.key, counts: counts))
                    case .unreadable(let error):
                        if Self.isWorthRereading(error), reads < options.maxObjectReads {
                            // Rolled back whole: read it again from its first byte.
                            events(.retrying(key: object.key, attempt: reads, reason: "\(error)"))
                            reads += 1
                            restart = true
                            break taking
                        }
                        result.objectsFailed.append(.init(key: object.key, error: "\(error)"))
                    case .loadedByAnotherRun:
                        result.objectsSkipped += 1
                    case .overRejectLimit(let counts, let reason):
                        result.counts.recordsRead += counts.recordsRead
                        result.counts.recordsQuarantined += counts.recordsQuarantined
                        result.objectsFailed.append(.init(key: object.key, error: reason))
                        events(.objectFinished(key: object.key, counts: counts))
                    }
                    settle(through: next)
                    next += 1
                    attempt = 1
                    reads = 1
                } catch let error as PostgresError where error.isConnectionFailure || !session.isAlive {
                    guard attempt < options.maxAttempts else {
                        channel.cancel()
                        stopped.wait()
                        throw error
                    }
                    events(.retrying(key: object.key, attempt: attempt, reason: error.message))
                    session.drop()
                    Self.sleep(delay(after: attempt))
                    attempt += 1
                    afterConnectionLoss = true
                    restart = true
                    break taking
                } catch let error as PostgresError where error.isConflictWithAnotherTransaction && attempt < options.maxAttempts {
                    // Two loads merging the same keys in different orders: the server broke the tie
                    // by rolling this one back. Load it again.
                    events(.retrying(key: object.key, attempt: attempt, reason: error.message))
                    Self.sleep(delay(after: attempt))
                    attempt += 1
                    restart = true
                    break taking
                } catch let error as PostgresError {
                    // The server refused the data (a constraint, a type the executor does not check):
                    // the object rolled back whole; the next run tries it again once fixed.
                    result.objectsFailed.append(.init(key: object.key, error: error.description))
                    settle(through: next)
                    next += 1
                    restart = true
                    break taking
                }
            }
            channel.cancel()
            stopped.wait()
            if outOfTime {
                result.stoppedAtDeadline = true
                result.objectsLeft += pending.count - next
                return
            }
            if !restart { break }
        }
    }

    /// Loads `pending` on `workers` connections at once: object i goes to worker i mod N, each worker
    /// loads its objects in key order with its own reader, record program and connection, and the
    /// counts are added up at the end. When the order of loads decides what a row holds (an upsert
    /// whose last value wins), each object merges only once every object before it has committed
    /// (or failed): the reading, checking and COPY go on side by side, and so do the appends of rows
    /// that reference nothing uncommitted (see `ObjectLoader.mergeTargets`); the rest merges one
    /// object after another. Merges take the rows of each target in key order, so loads beside each
    /// other never wait on each other's rows in opposite orders (a deadlock, retried if it happens
    /// all the same).
    private func loadSideBySide(_ pending: [SourceObject], workers: Int, into result: inout PipelineResult, runID: String) throws {
        let turns = pipeline.targets.contains { $0.mode == .upsert } ? MergeTurns(count: pending.count) : nil
        let numbered = Array(pending.enumerated())
        /// What the workers hand back, under its lock.
        final class Gathered: @unchecked Sendable {
            let lock = NSLock()
            var partials: [(worker: Int, result: PipelineResult)] = []
            var failure: Error?
        }
        let gathered = Gathered()
        let runNumber = result.runID
        let group = DispatchGroup()
        for worker in 0..<workers {
            let mine = numbered.filter { $0.offset % workers == worker }
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                var partial = PipelineResult(pipeline: pipeline.name, runID: runNumber)
                // The first worker loads on the run's own connection; the others open their own, without
                // the pipeline's lock (the run holds it) and named so pg_stat_activity tells them apart.
                let session =
                    worker == 0
                    ? mainSession
                    : Session { [options, pipeline] in
                        try Connection(options.database, applicationName: "sluice run \(pipeline.name) (\(worker + 1) of \(workers))")
                    }
                defer { if worker > 0 { session.drop() } }
                do {
                    let program = try makeProgram()
                    try load(mine, into: &partial, program: program, runID: runID, session: session, turns: turns)
                } catch {
                    gathered.lock.withLock { if gathered.failure == nil { gathered.failure = error } }
                }
                gathered.lock.withLock { gathered.partials.append((worker, partial)) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        // Failures in the page's key order, as one connection would have met them.
        let order = Dictionary(uniqueKeysWithValues: pending.enumerated().map { ($0.element.key, $0.offset) })
        var failed: [PipelineResult.Failure] = []
        for (_, var partial) in gathered.partials.sorted(by: { $0.worker < $1.worker }) {
            failed += partial.objectsFailed
            partial.objectsFailed = []
            result.add(partial)
        }
        result.objectsFailed += failed.sorted { (order[$0.key] ?? 0) < (order[$1.key] ?? 0) }
        if let failure = gathered.failure { throw failure }
    }

    /// Bytes that did not match what the store holds were altered or cut on the way (or the file was
    /// being written): another read may well be clean.
    static func isWorthRereading(_ error: Error) -> Bool {
        if error is S3IntegrityError { return true }
        if case .integrity = error as? ExecutorError { return true }
        return false
    }

    /// Each loaded object's refused records, as JSON Lines in the quarantine bucket, read back from
    /// sluice.quarantine after the commit, so the copy never holds a record the table lacks.
    private func copyQuarantine(_ result: inout PipelineResult, runID: String) async throws {
        guard pipeline.quarantine.bucket != nil, let sink = options.quarantineSink, result.counts.recordsQuarantined > 0 else { return }
        let rows = try liveConnection().query(
            """
            SELECT object_key, line, field, reason, record FROM sluice.quarantine WHERE run_id = $1 ORDER BY object_key, quarantine_id
            """, [runID]
        ).rows
        var byObject: [(key: String, lines: [String])] = []
        for row in rows {
            var entry: [String: Any] = ["reason": row[3] ?? "", "record": row[4] ?? ""]
            if let line = row[1].flatMap({ Int($0) }) { entry["line"] = line }
            if let field = row[2] { entry["field"] = field }
            let json = String(
                decoding: try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
            if byObject.last?.key == row[0] { byObject[byObject.count - 1].lines.append(json) } else { byObject.append((row[0] ?? "", [json])) }
        }
        for (object, lines) in byObject {
            let key = "\(pipeline.quarantine.prefix)\(pipeline.name)/\(object).run-\(runID).jsonl"
            do {
                try await sink.write(key: key, body: Array((lines.joined(separator: "\n") + "\n").utf8))
                result.quarantineCopies.append(key)
            } catch {
                result.warnings.append("could not write \(key) to \(sink.location): \(error); the records are in sluice.quarantine")
            }
        }
    }

    /// Crash and connection-loss simulation at the loader's points (tests only).
    private func fault(_ point: String, connection: Connection) throws {
        FaultInjection.point(point)
        guard point == options.terminateBackendAt, !terminated else { return }
        terminated = true
        let killer = try Connection(options.database)
        try killer.query("SELECT pg_terminate_backend($1)", [String(connection.backendPID)])
        // Wait until the server has really ended it.
        while try killer.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [String(connection.backendPID)]).rows.count > 0 {
            usleep(10_000)
        }
        if point == "after-commit" {
            // A COMMIT whose reply was lost: the server committed, the client saw the connection die.
            throw PostgresError(sqlState: "57P01", message: "terminating connection due to administrator command (after COMMIT, before its reply)")
        }
    }

    private func withConnectionRetries(_ what: String, _ body: (Connection) throws -> Void) async throws {
        var attempt = 1
        while true {
            do {
                return try body(try liveConnection())
            } catch let error as PostgresError where error.isConnectionFailure && attempt < options.maxAttempts {
                events(.retrying(key: what, attempt: attempt, reason: error.message))
                connection?.close()
                connection = nil
                try await Task.sleep(for: delay(after: attempt))
                attempt += 1
            }
        }
    }

    /// The session, reconnected (and the lock taken again) after a loss.
    private func liveConnection() throws -> Connection {
        if let connection, connection.isAlive { return connection }
        return try connect()
    }

    /// Connects with retries (a server restarting refuses connections for a moment) and takes the lock.
    private func connect() throws -> Connection {
        var attempt = 1
        while true {
            do {
                let connection = try Connection(options.database, applicationName: "sluice run \(pipeline.name)")
                if options.objectKeys == nil { try lock(connection) }
                if let runID {
                    try connection.query("SELECT pg_advisory_lock($1::int, ($2::bigint % 2147483648)::int)", [String(Self.runLockClass), runID])
                }
                self.connection = connection
                return connection
            } catch let error as PostgresError where error.isConnectionFailure && attempt < options.maxAttempts {
                Self.sleep(delay(after: attempt))
                attempt += 1
            }
        }
    }

    /// The wait before retry `attempt + 1`: the first delay, doubled per attempt.
    private func delay(after attempt: Int) -> Duration { options.retryDelay * (1 << (attempt - 1)) }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }

    /// One lister per pipeline: a session advisory lock, released when the session ends, however it
    /// ends. Queued behind the holder with `wait`, for no longer than the deadline allows.
    private func lock(_ connection: Connection) throws {
        let key = String(pipeline.lockKey)
        if try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [key]).scalar == "t" { return }
        var patience: Int?
        if let deadline = options.deadline {
            patience = Int((deadline.timeIntervalSinceNow - options.deadlineReserve) * 1000)
        }
        if options.wait, let milliseconds = patience, milliseconds > 0 {
            do {
                try connection.query("SELECT set_config('lock_timeout', $1, false)", ["\(milliseconds)ms"])
                try connection.query("SELECT pg_advisory_lock($1::bigint)", [key])
                try connection.query("SET lock_timeout = 0")
                return
            } catch let error as PostgresError where error.sqlState == "55P03" {
                try connection.query("SET lock_timeout = 0")
            }
        }
        guard options.wait, patience == nil else {
            let holder = try? connection.query(
                """
                SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.locktype = 'advisory' AND l.granted
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint AND l.objsubid = 1
                """, [key]
            ).rows.first
            let description = holder.map { "held by server process \($0[0] ?? "?") (\($0[1] ?? "")) since \($0[2] ?? "?")" } ?? "its lock is held"
            throw ExecutorError.busy(pipeline: pipeline.name, holder: description)
        }
        try connection.query("SELECT pg_advisory_lock($1::bigint)", [key])
    }

    private func checkSchema(_ connection: Connection) throws {
        guard let expected = plan.warehouse?.schemaDigest else { return }
        let actual: String?
        do {
            actual = try connection.query("SELECT schema_digest FROM sluice.schema_version ORDER BY version DESC LIMIT 1").scalar
        } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
            throw ExecutorError.plan("the database has no Sluice schema yet: run sluice apply (or schema.sql) first")
        }
        guard actual == expected else {
            throw ExecutorError.plan(
                "the database's schema (\(actual ?? "none")) is not the one this plan was compiled against (\(expected)): migrate it with sluice apply first"
            )
        }
    }

    /// Which of `keys` are loaded, with the fingerprints and sizes they were loaded with: one page
    /// of the listing at a time, through the manifest's primary key.
    private func manifest(of keys: [String]) throws -> [String: (fingerprints: Set<String>, size: Int64?)] {
        guard !keys.isEmpty else { return [:] }
        var loaded: [String: (fingerprints: Set<String>, size: Int64?)] = [:]
        let rows = try liveConnection().query(
            "SELECT object_key, etag, size_bytes FROM sluice.manifest WHERE pipeline = $1 AND object_key = ANY($2::text[])",
            [pipeline.name, PostgresArray.text(keys)]
        ).rows
        for row in rows {
            guard let key = row[0], let etag = row[1] else { continue }
            loaded[key, default: ([], row[2].flatMap { Int64($0) })].fingerprints.insert(etag)
        }
        return loaded
    }

    /// The run whose load of `object` committed, if one did.
    private func committedBy(_ object: SourceObject, on connection: Connection) throws -> String? {
        try connection.query(
            "SELECT run_id FROM sluice.manifest WHERE pipeline = $1 AND object_key = $2 ORDER BY loaded_at DESC LIMIT 1",
            [pipeline.name, object.key]
        ).scalar
    }

    private func record(_ result: PipelineResult, runID: String, status: String, error: String?) throws {
        let connection = try connection.flatMap { $0.isAlive ? $0 : nil } ?? Connection(options.database)
        try connection.query(
            """
            UPDATE sluice.load_runs SET finished_at = now(), status = $2, error = $3,
                objects_loaded = $4, objects_skipped = $5, objects_changed = $6, objects_failed = $7,
                records_read = $8, records_loaded = $9, records_duplicate = $10, records_filtered = $11, records_quarantined = $12
            WHERE run_id = $1
            """,
            [
                runID, status, error, String(result.objectsLoaded), String(result.objectsSkipped), String(result.objectsChanged.count),
                String(result.objectsFailed.count), String(result.counts.recordsRead), String(result.counts.recordsLoaded),
                String(result.counts.recordsDuplicate), String(result.counts.filteredTotal), String(result.counts.recordsQuarantined),
            ])
    }

    /// The keys asked for that are this pipeline's (under its prefix), else the prefixes to list.
    private func listedPrefixes() throws -> [String] {
        guard let keys = options.objectKeys else { return try prefixes() }
        let prefixes = try prefixes()
        return Array(Set(keys.filter { key in prefixes.contains { key.hasPrefix($0) } })).sorted()
    }

    /// The prefixes to list: the template expanded hour by hour over the window, or its fixed part;
    /// none inside another, so no object is listed twice.
    func prefixes() throws -> [String] {
        let all = try templatePrefixes()
        return all.filter { prefix in !all.contains { $0 != prefix && prefix.hasPrefix($0) } }
    }

    private func templatePrefixes() throws -> [String] {
        guard pipeline.source.kind == .s3 else { return [""] }
        guard let window = options.window, let template = pipeline.source.prefixTemplate, template.contains("{") else {
            return [pipeline.source.staticPrefix ?? pipeline.source.prefixTemplate ?? ""]
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var hour = calendar.dateInterval(of: .hour, for: window.from)!.start
        var prefixes: [String] = []
        while hour < window.to {
            let parts = calendar.dateComponents([.year, .month, .day, .hour], from: hour)
            func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
            let prefix = template.replacingOccurrences(of: "{yyyy}", with: String(format: "%04d", parts.year ?? 0))
                .replacingOccurrences(of: "{MM}", with: two(parts.month)).replacingOccurrences(of: "{dd}", with: two(parts.day))
                .replacingOccurrences(of: "{HH}", with: two(parts.hour))
            if prefixes.last != prefix { prefixes.append(prefix) }
            hour = hour.addingTimeInterval(3600)
            guard prefixes.count <= 24 * 366 else { throw ExecutorError.plan("the window spans more than a year of hourly prefixes") }
        }
        return prefixes
    }
}

/// A connection as one loading loop uses it: opened when first needed or after it was lost.
final class Session: @unchecked Sendable {
    private var connection: Connection?
    private let open: () throws -> Connection
    private let close: () -> Void

    init(open: @escaping () throws -> Connection, close: @escaping () -> Void = {}) {
        self.open = open
        self.close = close
    }

    func live() throws -> Connection {
        if let connection, connection.isAlive { return connection }
        let opened = try open()
        connection = opened
        return opened
    }

    var isAlive: Bool { connection?.isAlive ?? false }

    func drop() {
        connection?.close()
        connection = nil
        close()
    }
}

/// Where a load beside others stands in its page's order, when the order of loads decides what a
/// row holds (an upsert whose last value wins).
struct MergeTurn {
    /// Waits until every earlier load has appended ahead of its turn, or settled.
    var waitToAppendAhead: () -> Void
    /// This load has appended what it appends ahead of its turn (or will not): the next may.
    var appendedAhead: () -> Void
    /// Waits until every earlier load has settled, calling `meanwhile` every 200 ms of waiting.
    var waitForTurn: (_ meanwhile: () throws -> Void) throws -> Void
}

/// Which objects of a page have settled (committed, failed, skipped or left), and which have
/// appended ahead of their turn, so that a load waits for exactly the loads before it.
final class MergeTurns: @unchecked Sendable {
    private let condition = NSCondition()
    private var settled: [Bool]
    private var appended: [Bool]
    /// Every object before this one has settled.
    private var prefix = 0
    /// Every object before this one has appended ahead, or settled.
    private var appendedPrefix = 0

    init(count: Int) {
        settled = Array(repeating: false, count: count)
        appended = settled
    }

    func turn(of index: Int) -> MergeTurn {
        MergeTurn(
            waitToAppendAhead: { [self] in
                condition.lock()
                defer { condition.unlock() }
                while appendedPrefix < index { condition.wait() }
            },
            appendedAhead: { [self] in mark(index, settled: false) },
            waitForTurn: { [self] meanwhile in
                while true {
                    condition.lock()
                    if prefix < index { _ = condition.wait(until: Date().addingTimeInterval(0.2)) }
                    let ready = prefix >= index
                    condition.unlock()
                    if ready { return }
                    try meanwhile()
                }
            })
    }

    func finished(_ index: Int) { mark(index, settled: true) }

    private func mark(_ index: Int, settled isSettled: Bool) {
        condition.lock()
        defer { condition.unlock() }
        appended[index] = true
        if isSettled { settled[index] = true }
        while prefix < settled.count && settled[prefix] { prefix += 1 }
        while appendedPrefix < appended.count && appended[appendedPrefix] { appendedPrefix += 1 }
        condition.broadcast()
    }
}

extension PipelineResult {
    /// Adds what a worker loading beside others did.
    mutating func add(_ other: PipelineResult) {
        objectsLoaded += other.objectsLoaded
        objectsSkipped += other.objectsSkipped
        objectsChanged += other.objectsChanged
        objectsFailed += other.objectsFailed
        objectsUnverified += other.objectsUnverified
        counts.add(other.counts)
        for warning in other.warnings where !warnings.contains(warning) { warnings.append(warning) }
        objectsLeft += other.objectsLeft
        stoppedAtDeadline = stoppedAtDeadline || other.stoppedAtDeadline
    }
}
