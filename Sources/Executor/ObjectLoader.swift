import ETLPlan
import Foundation
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

/// Loads one object in one transaction: COPY of every record into the staging table (accepted rows
/// and refused ones alike), each target's merge, the quarantine, and the manifest row. Either all of
/// it commits or none of it does, so a crash anywhere leaves the object as if never started.
struct ObjectLoader {
    let pipeline: PipelinePlan
    let program: RecordProgram
    let connection: Connection
    let runID: String
    /// Called every few thousand records with the count so far (progress display).
    var progress: ((Int) -> Void)?
    /// Called at the points a crash is simulated at (`mid-copy`, `before-commit`, `after-commit`).
    var fault: (String) throws -> Void = { FaultInjection.point($0) }

    /// Flushed to the server at this size, so a load holds about this much in memory.
    static let sendBufferBytes = 256 << 10

    func load(_ object: SourceObject, from store: ObjectStore) async throws -> (ObjectCounts, fingerprint: String) {
        try connection.query("BEGIN")
        do {
            let (counts, fingerprint) = try await stageAndMerge(object, from: store)
            try fault("before-commit")
            try connection.query("COMMIT")
            try fault("after-commit")
            return (counts, fingerprint)
        } catch {
            if connection.isAlive { _ = try? connection.query("ROLLBACK") }
            throw error
        }
    }

    private func stageAndMerge(_ object: SourceObject, from store: ObjectStore) async throws -> (ObjectCounts, String) {
        try connection.execute(pipeline.staging.drop)
        try connection.execute(pipeline.staging.create)
        try connection.startCopy(pipeline.staging.copy)
        var counts = ObjectCounts()
        var fingerprint = ""
        do {
            var reader = try RecordReader(pipeline: pipeline, program: program, key: object.key)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(Self.sendBufferBytes + 64 << 10)
            var row = CopyRow()
            let connection = self.connection
            program.startBatch()
            func flush() throws {
                try buffer.withUnsafeBytes { try connection.sendCopyData($0) }
                buffer.removeAll(keepingCapacity: true)
            }
            let handle: (RecordReader.Record) throws -> Void = { record in
                counts.recordsRead += 1
                row.reset()
                row.integer(counts.recordsRead)
                row.separator()
                row.integer(record.line)
                switch record.outcome {
                case .accepted:
                    row.bytes.append(contentsOf: [9, 92, 78, 9, 92, 78, 9, 92, 78])  // no reason, field, raw text
                    row.bytes.append(contentsOf: record.row.bytes)
                    counts.recordsLoaded += 1
                case .filtered(let name):
                    counts.recordsFiltered[name, default: 0] += 1
                    return
                case .duplicate:
                    counts.recordsDuplicate += 1
                    return
                case .refused(let reason, let field):
                    counts.recordsQuarantined += 1
                    row.separator(); row.field(reason)
                    row.separator(); row.field(field)
                    row.separator(); row.field(record.raw())
                    for _ in 0..<self.columnCount { row.separator(); row.null() }
                }
                row.end()
                buffer.append(contentsOf: row.bytes)
                if buffer.count >= Self.sendBufferBytes { try flush() }
                if counts.recordsRead % 8192 == 0 { self.progress?(counts.recordsRead) }
                if counts.recordsRead == 3 { try flush(); try self.fault("mid-copy") }
            }
            fingerprint = try await store.read(object) { chunk in try reader.feed(chunk, handle) }
            try reader.finish(handle)
            try flush()
            progress?(counts.recordsRead)
        } catch {
            _ = try? connection.finishCopy(abortingWith: "\(error)")
            throw error
        }
        try connection.finishCopy()
        var crossBatchDuplicates = 0
        for target in pipeline.targets {
            let written = try connection.query(target.merge).affectedRows
            counts.rowsWritten[target.table] = written
            // An append that skipped rows found them already loaded: re-sent records.
            if target.mode == "append" { crossBatchDuplicates = max(crossBatchDuplicates, counts.recordsLoaded - written) }
        }
        counts.recordsLoaded -= crossBatchDuplicates
        counts.recordsDuplicate += crossBatchDuplicates
        if counts.recordsQuarantined > 0 {
            try connection.query(pipeline.staging.quarantine, [runID, pipeline.name, object.key])
        }
        try connection.query("""
            INSERT INTO sluice.manifest (pipeline, object_key, etag, size_bytes, run_id, records_read, records_loaded, records_quarantined)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [pipeline.name, object.key, fingerprint, String(object.size), runID, String(counts.recordsRead),
                  String(counts.recordsLoaded), String(counts.recordsQuarantined)])
        return (counts, fingerprint)
    }

    private var columnCount: Int { pipeline.targets.reduce(0) { $0 + $1.columns.count } }
}

/// Test hook: `SLUICE_TEST_CRASH_AT=<point>` kills the process with SIGKILL at that point, so the
/// tests can prove that a runner dying anywhere leaves nothing half-loaded.
enum FaultInjection {
    static let crashPoint = ProcessInfo.processInfo.environment["SLUICE_TEST_CRASH_AT"]

    static func point(_ name: String) {
        if crashPoint == name { kill(getpid(), SIGKILL) }
    }
}
