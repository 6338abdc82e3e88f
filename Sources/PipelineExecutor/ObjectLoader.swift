import Crypto
import Foundation
import PlanFormat
import PostgresClient

/// What one object's load counted.
public struct ObjectCounts: Codable, Equatable, Sendable {
    public var recordsRead = 0
    public var recordsLoaded = 0
    public var recordsDuplicate = 0
    public var recordsFiltered: [String: Int] = [:]
    public var recordsQuarantined = 0
    /// Rows each target's merge wrote (inserted or updated).
    public var rowsWritten: [String: Int] = [:]
    /// A reload: rows of earlier loads removed from append targets before loading again, per target.
    public var rowsRemoved: [String: Int] = [:]
    /// A reload: earlier loads of the object it replaced (moved to sluice.manifest_replaced).
    public var loadsReplaced = 0
    /// What the object's shape said once (columns of its header that no field reads); not summed.
    public var notes: [String] = []

    mutating func add(_ other: ObjectCounts) {
        recordsRead += other.recordsRead
        recordsLoaded += other.recordsLoaded
        recordsDuplicate += other.recordsDuplicate
        recordsFiltered.merge(other.recordsFiltered, uniquingKeysWith: +)
        recordsQuarantined += other.recordsQuarantined
        rowsWritten.merge(other.rowsWritten, uniquingKeysWith: +)
        rowsRemoved.merge(other.rowsRemoved, uniquingKeysWith: +)
        loadsReplaced += other.loadsReplaced
    }

    public var filteredTotal: Int { recordsFiltered.values.reduce(0, +) }
}

/// Loads one object in one transaction: the COPY of its staged rows, each target's merge, the
/// quarantine, and the manifest row. Either all of it commits or none of it does, so a crash
/// anywhere leaves the object as if never started.
struct ObjectLoader {
    let pipeline: PipelinePlan
    let connection: Connection
    let runID: String
    /// Load it again even if the manifest has it: its earlier load is replaced (see `replaceEarlierLoad`).
    var reload = false
    /// Called at the points a crash is simulated at (`mid-copy`, `before-commit`, `after-commit`).
    var fault: (String) throws -> Void = { FaultInjection.point($0) }
    /// Told the counts just before COMMIT: if the connection dies during it, the runner can tell
    /// whether the server committed, and credit the run with exactly what the manifest credits it.
    var committing: (ObjectCounts) -> Void = { _ in }
    /// A load beside others, when the order of loads decides what a row holds: where it waits for
    /// its turn. Nil when it loads alone.
    var turn: MergeTurn?

    enum Outcome {
        case loaded(ObjectCounts, ReadReceipt)
        /// The object could not be read; nothing of it was written.
        case unreadable(Error)
        /// More of its records were refused than the pipeline's `max_rejected` allows: none of its rows
        /// were written and it is not in the manifest, but its rejects are in the quarantine table.
        case overRejectLimit(ObjectCounts, reason: String)
        /// A run working beside this one loaded it since this run listed it: nothing was written.
        case loadedByAnotherRun(runID: String)
    }

    /// Takes the object's events from `channel` (after its `.begin`) through its `.end`. The
    /// transaction opens only once the object's first bytes are ready, so a source that is slow or
    /// down never holds a transaction (and its COPY) open.
    func load(_ object: SourceObject, from channel: StagedChannel) throws -> Outcome {
        guard let first = channel.take() else { throw CancellationError() }
        if case .failed(let error) = first { return .unreadable(error) }
        try connection.query("BEGIN")
        do {
            // The object's own lock, then the manifest again under it: of two runs given the same
            // object at once, the second waits here for the first to commit or roll back.
            try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [String(Self.lockKey(pipeline: pipeline.name, object: object.key))])
            var replaced: (run: String?, counts: ObjectCounts) = (nil, ObjectCounts())
            if reload {
                replaced = try replaceEarlierLoad(of: object)
            } else if let loadedBy = try connection.query(
                "SELECT run_id FROM sluice.manifest WHERE pipeline = $1 AND object_key = $2 LIMIT 1", [pipeline.name, object.key]
            ).scalar {
                try connection.query("ROLLBACK")
                try skip(from: first, in: channel)
                return .loadedByAnotherRun(runID: loadedBy)
            }
            try connection.execute(pipeline.staging.drop)
            try connection.execute(pipeline.staging.create)
            try connection.startCopy(pipeline.staging.copy)
            var ending: (ObjectCounts, ReadReceipt)?
            var sentFirst = false
            var next: StagedEvent? = first
            do {
                reading: while let event = next ?? channel.take() {
                    next = nil
                    switch event {
                    case .chunk(let bytes):
                        try bytes.withUnsafeBytes { try connection.sendCopyData($0) }
                        if !sentFirst { sentFirst = true; try fault("mid-copy") }
                    case .end(let counts, let receipt):
                        ending = (counts, receipt)
                        break reading
                    case .failed(let error):
                        _ = try? connection.finishCopy(abortingWith: "\(error)")
                        try connection.query("ROLLBACK")
                        return .unreadable(error)
                    case .begin:
                        throw ExecutorError.source("internal: the reader skipped the end of \(object.key)")
                    }
                }
            } catch {
                _ = try? connection.finishCopy(abortingWith: "\(error)")
                throw error
            }
            guard let ending else { throw CancellationError() }
            var counts = ending.0
            counts.rowsRemoved = replaced.counts.rowsRemoved
            counts.loadsReplaced = replaced.counts.loadsReplaced
            let receipt = ending.1
            try connection.finishCopy()
            let limit = pipeline.maxRejected ?? .standard
            func overLimit() throws -> Outcome {
                if replaced.run != nil {
                    // A reload that would replace a good load with a file mostly refused: none of it
                    // happens, the earlier load stays whole (its rows, its manifest entry).
                    try connection.query("ROLLBACK")
                    return .overRejectLimit(
                        counts,
                        reason: "\(counts.recordsQuarantined) of \(counts.recordsRead) records refused, over max_rejected \(limit): "
                            + "the reload was rolled back whole and the earlier load stays; fix the file or the spec and reload again")
                }
                // The rejects say what is wrong with the file: keep them, write nothing else.
                try quarantineRejects(of: object)
                try connection.query("COMMIT")
                return .overRejectLimit(
                    counts,
                    reason: "\(counts.recordsQuarantined) of \(counts.recordsRead) records refused, over max_rejected \(limit): "
                        + "nothing of it was loaded; the refused records are in sluice.quarantine")
            }
            if limit.exceeded(rejected: counts.recordsQuarantined, of: counts.recordsRead) { return try overLimit() }
            guard let written = try mergeTargets(&counts, limit: limit) else { return try overLimit() }
            try finish(object, &counts, written: written, fingerprint: receipt.fingerprint, replacing: replaced.run)
            try fault("before-commit")
            committing(counts)
            try connection.query("COMMIT")
            try fault("after-commit")
            return .loaded(counts, receipt)
        } catch {
            if connection.isAlive { _ = try? connection.query("ROLLBACK") }
            throw error
        }
    }

    /// The advisory lock an object's load holds for its transaction: the first 8 bytes of the
    /// SHA-256 of the pipeline and the key (the pipeline and migration locks are other numbers).
    static func lockKey(pipeline: String, object: String) -> Int64 {
        let digest = SHA256.hash(data: Data("sluice object:\(pipeline)\u{0}\(object)".utf8))
        return digest.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// Takes the object's remaining events off the channel without loading them.
    private func skip(from first: StagedEvent, in channel: StagedChannel) throws {
        var event: StagedEvent? = first
        while let current = event {
            switch current {
            case .end, .failed: return
            case .begin: throw ExecutorError.source("internal: the reader skipped an object's end")
            case .chunk: event = channel.take()
            }
        }
        throw CancellationError()
    }

    /// Copies the object's refused records from the staging table into `sluice.quarantine`.
    private func quarantineRejects(of object: SourceObject) throws {
        try connection.query(pipeline.staging.quarantine, [runID, pipeline.name, object.key])
    }

    /// One statement of the merge, and the target whose rows it writes (nil: it writes none).
    struct MergeStep {
        var sql: String
        var target: Int?
    }

    /// Every target's merge, in order.
    private var stepsInOrder: [MergeStep] { pipeline.targets.enumerated().map { MergeStep(sql: $1.merge, target: $0) } }

    /// The merges split around the load's turn (see `PipelinePlan.Target.appendAhead`): ahead of it,
    /// the held rows listed and the append targets' other rows; in turn, every target in order, the
    /// append targets with their held rows only. Nil when the plan has no append to split.
    private var stepsAroundTheTurn: (ahead: [MergeStep], inTurn: [MergeStep])? {
        guard pipeline.targets.contains(where: { $0.appendAhead != nil }) else { return nil }
        var ahead = pipeline.staging.heldRows.map { [MergeStep(sql: $0, target: nil)] } ?? []
        var inTurn: [MergeStep] = []
        for (index, target) in pipeline.targets.enumerated() {
            if let early = target.appendAhead {
                ahead.append(.init(sql: early, target: index))
                if let held = target.appendInTurn { inTurn.append(.init(sql: held, target: index)) }
            } else {
                inTurn.append(.init(sql: target.merge, target: index))
            }
        }
        return (ahead, inTurn)
    }

    /// Every target's merge, in order. A row that breaks a constraint (CHECK, foreign key, NOT NULL,
    /// a value out of range) is that row's problem: the rows are found by bisecting the staged rows
    /// under savepoints, refused with PostgreSQL's reason, and the rest merged in the same transaction.
    /// Rows written per target; nil when the refusals take the object over `limit` (nothing merged).
    ///
    /// A load beside others whose turn is still to come appends ahead of it what needs no turn, then
    /// waits. While it waits, it never keeps another session waiting for rows it appended ahead (the
    /// same key on a unique index, written by an earlier load): it gives them back, and appends them
    /// in turn. A wait the server cannot see (for the turn) so never closes a circle of waits.
    private func mergeTargets(_ counts: inout ObjectCounts, limit: PipelinePlan.RejectLimitPlan) throws -> [String: Int]? {
        var probes = 0
        var turnTaken = turn == nil
        var around = turnTaken ? nil : stepsAroundTheTurn
        if around != nil { turn?.waitToAppendAhead() }
        while true {
            let steps = around.map { $0.ahead + $0.inTurn } ?? stepsInOrder
            let turnAt = turnTaken ? -1 : (around?.ahead.count ?? 0)
            try connection.query("SAVEPOINT sluice_merge")
            var written: [String: Int] = [:]
            var failing: (step: Int, error: PostgresError)?
            var steppedBack = false
            for (index, step) in steps.enumerated() {
                if index == turnAt, let turn {
                    turn.appendedAhead()
                    try turn.waitForTurn {
                        if around != nil, !steppedBack, try holdsUpAnotherSession() {
                            try connection.query("ROLLBACK TO SAVEPOINT sluice_merge")
                            steppedBack = true
                        }
                    }
                    turnTaken = true
                    if steppedBack { break }
                }
                do {
                    let rows = try connection.query(step.sql).affectedRows
                    if let target = step.target { written[pipeline.targets[target].table, default: 0] += rows }
                } catch let error as PostgresError where error.isAboutARow && step.target != nil {
                    failing = (index, error)
                    break
                }
            }
            if steppedBack {
                try connection.query("RELEASE SAVEPOINT sluice_merge")
                around = nil
                continue
            }
            guard let failing, let target = steps[failing.step].target else {
                try connection.query("RELEASE SAVEPOINT sluice_merge")
                return written
            }
            try connection.query("ROLLBACK TO SAVEPOINT sluice_merge")
            try connection.query("RELEASE SAVEPOINT sluice_merge")
            let allowed = { (found: Int) in !limit.exceeded(rejected: counts.recordsQuarantined + found, of: counts.recordsRead) }
            let bad = try rowsBreaking(steps: steps, failing: failing.step, error: failing.error, probes: &probes, while: allowed)
            // Not one row alone: rows that conflict only together (or a problem of the batch) fail the object.
            guard !bad.isEmpty else { throw failing.error }
            for row in bad {
                try connection.query(
                    "UPDATE \(pipeline.staging.table) SET sluice_reason = $2, sluice_field = $3 WHERE sluice_ordinal = $1::bigint",
                    [String(row.ordinal), row.reason, pipeline.targets[target].table])
            }
            counts.recordsQuarantined += bad.count
            counts.recordsLoaded -= bad.count
            if limit.exceeded(rejected: counts.recordsQuarantined, of: counts.recordsRead) { return nil }
            // In its turn, the load merges in order: the same rows, nothing ahead to give back.
            if turnTaken { around = nil }
        }
    }

    /// Whether another session waits for a lock this transaction holds. (pg_locks shows every
    /// session's waits whatever the role; pg_blocking_pids is asked only about sessions that wait.)
    private func holdsUpAnotherSession() throws -> Bool {
        try connection.query(
            """
            SELECT EXISTS (SELECT FROM (SELECT DISTINCT pid FROM pg_locks WHERE NOT granted OFFSET 0) AS waiting
                           WHERE pg_backend_pid() = ANY (pg_blocking_pids(waiting.pid)))
            """
        ).scalar == "t"
    }

    /// Probing more than this many row ranges to isolate the failing rows gives up: the object fails
    /// with PostgreSQL's error, as it would without isolation.
    static let maximumProbes = 4096

    /// The staged rows (by ordinal) that make step `failing` fail on their own, with the reason,
    /// by bisection: a range that fails is halved until single rows remain. Each probe runs the
    /// earlier steps in full (they succeeded with every row, and later targets may reference what
    /// they wrote) and the failing one for the range alone, then rolls all of it back.
    /// Stops once `allowed` says more would be over the object's limit.
    private func rowsBreaking(
        steps: [MergeStep], failing: Int, error: PostgresError, probes: inout Int, while allowed: (Int) -> Bool
    ) throws
        -> [(ordinal: Int64, reason: String)]
    {
        let stage = pipeline.staging.table
        if probes == 0 {
            // Each probe reads one range: with an index (and the statistics to use it) that costs the
            // range, not the whole object, so isolating k rows reads about log2(k) + 2 times the rows.
            try connection.query("CREATE INDEX IF NOT EXISTS sluice_stage_ordinal ON \(stage) (sluice_ordinal)")
            try connection.query("ANALYZE \(stage)")
        }
        let bounds = try connection.query("SELECT min(sluice_ordinal), max(sluice_ordinal) FROM \(stage) WHERE sluice_reason IS NULL")
        guard let low = bounds.rows.first?[0].flatMap({ Int64($0) }), let high = bounds.rows.first?[1].flatMap({ Int64($0) }) else { return [] }
        var bad: [(ordinal: Int64, reason: String)] = []
        func probe(_ low: Int64, _ high: Int64) throws -> PostgresError? {
            probes += 1
            guard probes <= Self.maximumProbes else { throw error }
            try connection.query("SAVEPOINT sluice_probe")
            defer {
                _ = try? connection.query("ROLLBACK TO SAVEPOINT sluice_probe")
                _ = try? connection.query("RELEASE SAVEPOINT sluice_probe")
            }
            for earlier in steps[..<failing] { try connection.query(earlier.sql) }
            // The merge over the range alone: its staging table read through a subquery of that range
            // (marking the other rows instead would leave a dead version of every row per probe, and
            // each probe would scan all of them again).
            let whole = "FROM \(stage)\n"
            let merge = steps[failing].sql
            let ranged: String
            if merge.contains(whole) {
                ranged = merge.replacingOccurrences(
                    of: whole, with: "FROM (SELECT * FROM \(stage) WHERE sluice_ordinal BETWEEN \(low) AND \(high)) AS sluice_stage\n")
            } else {
                try connection.query(
                    "UPDATE \(stage) SET sluice_reason = 'probe' WHERE sluice_reason IS NULL AND sluice_ordinal NOT BETWEEN $1::bigint AND $2::bigint",
                    [String(low), String(high)])
                ranged = merge
            }
            do {
                try connection.query(ranged)
                return nil
            } catch let failure as PostgresError where failure.isAboutARow {
                return failure
            }
        }
        func search(_ low: Int64, _ high: Int64, _ failure: PostgresError) throws {
            guard allowed(bad.count) else { return }
            if low == high {
                bad.append((low, failure.rowReason))
                return
            }
            let middle = low + (high - low) / 2
            if let left = try probe(low, middle) { try search(low, middle, left) }
            if let right = try probe(middle + 1, high) { try search(middle + 1, high, right) }
        }
        try search(low, high, error)
        return bad
    }

    /// A reload, inside the object's transaction: its manifest entries move to
    /// `sluice.manifest_replaced` (remembering this run), and the rows it put into append targets are
    /// deleted through their `object_key` lineage column; upsert targets are merged over. Returns the
    /// latest run it replaced, and what was removed.
    private func replaceEarlierLoad(of object: SourceObject) throws -> (run: String?, counts: ObjectCounts) {
        var counts = ObjectCounts()
        let runs = try connection.query(
            """
            WITH moved AS (DELETE FROM sluice.manifest WHERE pipeline = $1 AND object_key = $2 RETURNING *)
            INSERT INTO sluice.manifest_replaced (pipeline, object_key, etag, size_bytes, run_id, records_read, records_loaded,
                records_quarantined, loaded_at, replaced_by_run)
            SELECT pipeline, object_key, etag, size_bytes, run_id, records_read, records_loaded, records_quarantined, loaded_at, $3
            FROM moved RETURNING run_id
            """, [pipeline.name, object.key, runID]
        ).column("run_id").compactMap { $0.flatMap { Int64($0) } }
        guard let latest = runs.max() else { return (nil, counts) }
        counts.loadsReplaced = runs.count
        // What the earlier load refused stays, marked: the reload's own refusals are the current ones.
        try connection.query(
            "UPDATE sluice.quarantine SET replaced_by_run = $3 WHERE pipeline = $1 AND object_key = $2 AND replaced_by_run IS NULL",
            [pipeline.name, object.key, runID])
        for target in pipeline.targets {
            guard let remove = target.removeObjectRows else { continue }
            counts.rowsRemoved[target.table] = try connection.query(remove, [object.key]).affectedRows
        }
        return (String(latest), counts)
    }

    /// The rest of the object's transaction once its rows are merged: counts, rejects, manifest.
    private func finish(
        _ object: SourceObject, _ counts: inout ObjectCounts, written: [String: Int], fingerprint: String, replacing replaced: String?
    ) throws {
        var crossBatchDuplicates = 0
        for target in pipeline.targets {
            let written = written[target.table] ?? 0
            counts.rowsWritten[target.table] = written
            // An append that skipped rows found them already loaded: re-sent records.
            if target.mode == .append { crossBatchDuplicates = max(crossBatchDuplicates, counts.recordsLoaded - written) }
        }
        counts.recordsLoaded -= crossBatchDuplicates
        counts.recordsDuplicate += crossBatchDuplicates
        if counts.recordsQuarantined > 0 { try quarantineRejects(of: object) }
        try connection.query(
            """
            INSERT INTO sluice.manifest (pipeline, object_key, etag, size_bytes, run_id, records_read, records_loaded, records_quarantined,
                replaces_run)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [
                pipeline.name, object.key, fingerprint, String(object.size), runID, String(counts.recordsRead),
                String(counts.recordsLoaded), String(counts.recordsQuarantined), replaced,
            ])
    }
}

/// Test hook: `SLUICE_TEST_CRASH_AT=<point>` kills the process with SIGKILL at that point, so the
/// tests can prove that a runner dying anywhere leaves nothing half-loaded.
enum FaultInjection {
    static let crashPoint = ProcessInfo.processInfo.environment["SLUICE_TEST_CRASH_AT"]

    static func point(_ name: String) {
        if crashPoint == name { kill(getpid(), SIGKILL) }
    }
}

extension PostgresError {
    /// A problem of the values of some row, which isolating that row resolves: integrity constraint
    /// violations (class 23: CHECK, foreign key, NOT NULL, unique) and data exceptions (class 22: a
    /// value out of range, a bad date). Not a lost connection, a cancellation or a serialization failure.
    var isAboutARow: Bool {
        guard let state = sqlState else { return false }
        return state.hasPrefix("23") || state.hasPrefix("22")
    }

    /// What the quarantine says: PostgreSQL's message and its detail (the constraint and the row).
    var rowReason: String {
        detail.map { "\(message) (\(sqlState ?? "")): \($0)" } ?? "\(message) (\(sqlState ?? ""))"
    }
}
