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
    /// What the object's shape said once (columns of its header that no field reads); not summed.
    public var notes: [String] = []

    mutating func add(_ other: ObjectCounts) {
        recordsRead += other.recordsRead
        recordsLoaded += other.recordsLoaded
        recordsDuplicate += other.recordsDuplicate
        recordsFiltered.merge(other.recordsFiltered, uniquingKeysWith: +)
        recordsQuarantined += other.recordsQuarantined
        rowsWritten.merge(other.rowsWritten, uniquingKeysWith: +)
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
    /// Called at the points a crash is simulated at (`mid-copy`, `before-commit`, `after-commit`).
    var fault: (String) throws -> Void = { FaultInjection.point($0) }
    /// Told the counts just before COMMIT: if the connection dies during it, the runner can tell
    /// whether the server committed, and credit the run with exactly what the manifest credits it.
    var committing: (ObjectCounts) -> Void = { _ in }

    enum Outcome {
        case loaded(ObjectCounts, ReadReceipt)
        /// The object could not be read; nothing of it was written.
        case unreadable(Error)
        /// More of its records were refused than the pipeline's `max_rejected` allows: none of its rows
        /// were written and it is not in the manifest, but its rejects are in the quarantine table.
        case overRejectLimit(ObjectCounts, reason: String)
    }

    /// Takes the object's events from `channel` (after its `.begin`) through its `.end`. The
    /// transaction opens only once the object's first bytes are ready, so a source that is slow or
    /// down never holds a transaction (and its COPY) open.
    func load(_ object: SourceObject, from channel: StagedChannel) throws -> Outcome {
        guard let first = channel.take() else { throw CancellationError() }
        if case .failed(let error) = first { return .unreadable(error) }
        try connection.query("BEGIN")
        do {
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
            let receipt = ending.1
            try connection.finishCopy()
            let limit = pipeline.maxRejected ?? .standard
            if limit.exceeded(rejected: counts.recordsQuarantined, of: counts.recordsRead) {
                // The rejects say what is wrong with the file: keep them, write nothing else.
                try quarantineRejects(of: object)
                try connection.query("COMMIT")
                return .overRejectLimit(
                    counts,
                    reason: "\(counts.recordsQuarantined) of \(counts.recordsRead) records refused, over max_rejected \(limit): "
                        + "nothing of it was loaded; the refused records are in sluice.quarantine")
            }
            try merge(object, &counts, fingerprint: receipt.fingerprint)
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

    /// Copies the object's refused records from the staging table into `sluice.quarantine`.
    private func quarantineRejects(of object: SourceObject) throws {
        try connection.query(pipeline.staging.quarantine, [runID, pipeline.name, object.key])
    }

    private func merge(_ object: SourceObject, _ counts: inout ObjectCounts, fingerprint: String) throws {
        var crossBatchDuplicates = 0
        for target in pipeline.targets {
            let written = try connection.query(target.merge).affectedRows
            counts.rowsWritten[target.table] = written
            // An append that skipped rows found them already loaded: re-sent records.
            if target.mode == .append { crossBatchDuplicates = max(crossBatchDuplicates, counts.recordsLoaded - written) }
        }
        counts.recordsLoaded -= crossBatchDuplicates
        counts.recordsDuplicate += crossBatchDuplicates
        if counts.recordsQuarantined > 0 { try quarantineRejects(of: object) }
        try connection.query(
            """
            INSERT INTO sluice.manifest (pipeline, object_key, etag, size_bytes, run_id, records_read, records_loaded, records_quarantined)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [
                pipeline.name, object.key, fingerprint, String(object.size), runID, String(counts.recordsRead),
                String(counts.recordsLoaded), String(counts.recordsQuarantined),
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
