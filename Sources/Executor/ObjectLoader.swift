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

/// What the reader hands the loader, in order: per object, its start, COPY text in chunks, its end.
enum StagedEvent {
    case begin(SourceObject)
    case chunk([UInt8])
    case end(ObjectCounts, fingerprint: String)
    /// The object cannot be read (truncated gzip, a broken JSON array, the source failed).
    case failed(Error)
}

/// A bounded queue between the reader (parsing object N+1) and the loader (the database merging
/// object N), so the two cores work at once while memory stays at most `capacity` bytes of COPY text.
final class StagedChannel: @unchecked Sendable {
    static let capacity = 32 << 20
    private let condition = NSCondition()
    /// Taken slots are set to nil at once, so a chunk's memory goes when the loader has sent it.
    private var events: [StagedEvent?] = []
    private var head = 0
    private var bytes = 0
    private var closed = false
    private var cancelled = false

    /// Blocks while the queue is full; false once the loader has cancelled.
    @discardableResult
    func put(_ event: StagedEvent) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let size: Int
        if case .chunk(let chunk) = event { size = chunk.count } else { size = 0 }
        while bytes + size > Self.capacity && bytes > 0 && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        events.append(event)
        bytes += size
        condition.broadcast()
        return true
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next event; nil once the reader has closed the channel and everything was taken.
    func take() -> StagedEvent? {
        condition.lock()
        defer { condition.unlock() }
        while head == events.count && !closed { condition.wait() }
        guard head < events.count, let event = events[head] else { return nil }
        events[head] = nil
        head += 1
        if case .chunk(let chunk) = event { bytes -= chunk.count }
        if head > 1024 { events.removeFirst(head); head = 0 }
        condition.broadcast()
        return event
    }

    /// The loader stops reading (a lost connection): the reader's next put returns false.
    func cancel() {
        condition.lock()
        cancelled = true
        events.removeAll()
        head = 0
        bytes = 0
        condition.broadcast()
        condition.unlock()
    }
}

/// Reads objects and turns their records into COPY text for the staging table: accepted rows and
/// refused ones alike, with the counts. Runs ahead of the loader, in one task at a time: the runner
/// waits for a reader to stop before it starts the next (the record program is not shared).
struct ObjectReader: @unchecked Sendable {
    let pipeline: PipelinePlan
    let program: RecordProgram
    let store: ObjectStore
    /// Called every few thousand records with the count so far (progress display).
    var progress: ((String, Int) -> Void)?

    /// Flushed to the loader at this size.
    static let chunkBytes = 256 << 10

    /// Reads `objects` in order into `channel`, then closes it.
    func read(_ objects: [SourceObject], into channel: StagedChannel) async {
        defer { channel.close() }
        for object in objects {
            guard channel.put(.begin(object)) else { return }
            do {
                let (counts, fingerprint) = try await read(object, into: channel)
                guard channel.put(.end(counts, fingerprint: fingerprint)) else { return }
            } catch is CancellationError {
                return
            } catch {
                guard channel.put(.failed(error)) else { return }
            }
        }
    }

    private func read(_ object: SourceObject, into channel: StagedChannel) async throws -> (ObjectCounts, String) {
        var counts = ObjectCounts()
        var reader = try RecordReader(pipeline: pipeline, program: program, key: object.key)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.chunkBytes + 64 << 10)
        var row = CopyRow()
        let columnCount = pipeline.targets.reduce(0) { $0 + $1.columns.count }
        program.startBatch()
        func flush() throws {
            guard !buffer.isEmpty else { return }
            guard channel.put(.chunk(buffer)) else { throw CancellationError() }
            buffer.removeAll(keepingCapacity: true)
        }
        let handle: (RecordReader.Record) throws -> Void = { record in
            counts.recordsRead += 1
            switch record.outcome {
            case .accepted:
                counts.recordsLoaded += 1
            case .filtered(let name):
                counts.recordsFiltered[name, default: 0] += 1
                return
            case .duplicate:
                counts.recordsDuplicate += 1
                return
            case .refused:
                counts.recordsQuarantined += 1
            }
            row.reset()
            row.integer(counts.recordsRead)
            row.separator()
            row.integer(record.line)
            if case .refused(let reason, let field) = record.outcome {
                row.separator(); row.field(reason)
                row.separator(); row.field(field)
                row.separator(); row.field(record.raw())
                for _ in 0..<columnCount { row.separator(); row.null() }
                row.end()
                buffer.append(contentsOf: row.bytes)
            } else {
                row.bytes.append(contentsOf: [9, 92, 78, 9, 92, 78, 9, 92, 78])  // no reason, field, raw text
                buffer.append(contentsOf: row.bytes)
                buffer.append(contentsOf: record.row.bytes)
                buffer.append(10)
            }
            if buffer.count >= Self.chunkBytes { try flush() }
            if counts.recordsRead % 8192 == 0 { self.progress?(object.key, counts.recordsRead) }
        }
        let fingerprint = try await store.read(object) { chunk in try reader.feed(chunk, handle) }
        try reader.finish(handle)
        try flush()
        progress?(object.key, counts.recordsRead)
        return (counts, fingerprint)
    }
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

    enum Outcome {
        case loaded(ObjectCounts)
        /// The object could not be read; nothing of it was written.
        case unreadable(Error)
    }

    /// Takes the object's events from `channel` (after its `.begin`) through its `.end`.
    func load(_ object: SourceObject, from channel: StagedChannel) throws -> Outcome {
        try connection.query("BEGIN")
        do {
            try connection.execute(pipeline.staging.drop)
            try connection.execute(pipeline.staging.create)
            try connection.startCopy(pipeline.staging.copy)
            var ending: (ObjectCounts, String)?
            var sentFirst = false
            do {
                reading: while let event = channel.take() {
                    switch event {
                    case .chunk(let bytes):
                        try bytes.withUnsafeBytes { try connection.sendCopyData($0) }
                        if !sentFirst { sentFirst = true; try fault("mid-copy") }
                    case .end(let counts, let fingerprint):
                        ending = (counts, fingerprint)
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
            let fingerprint = ending.1
            try connection.finishCopy()
            try merge(object, &counts, fingerprint: fingerprint)
            try fault("before-commit")
            try connection.query("COMMIT")
            try fault("after-commit")
            return .loaded(counts)
        } catch {
            if connection.isAlive { _ = try? connection.query("ROLLBACK") }
            throw error
        }
    }

    private func merge(_ object: SourceObject, _ counts: inout ObjectCounts, fingerprint: String) throws {
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
