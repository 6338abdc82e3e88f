import Foundation
import PlanFormat

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
                let (counts, receipt) = try await read(object, into: channel)
                guard channel.put(.end(counts, receipt)) else { return }
            } catch is CancellationError {
                return
            } catch {
                guard channel.put(.failed(error)) else { return }
            }
        }
    }

    private func read(_ object: SourceObject, into channel: StagedChannel) async throws -> (ObjectCounts, ReadReceipt) {
        var counts = ObjectCounts()
        var reader = try RecordReader(pipeline: pipeline, program: program, key: object.key)
        defer { reader.discard() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.chunkBytes + 64 << 10)
        var row = CopyRow()
        let columnCount = pipeline.targets.reduce(0) { $0 + $1.columns.count }
        program.startBatch()
        func flush() throws {
            guard !buffer.isEmpty else { return }
            // A copy of exactly the bytes: handing over the buffer itself would carry its whole
            // reserved capacity (320 KB) into the queue for each one-record object.
            let chunk = buffer.withUnsafeBufferPointer { Array($0) }
            guard channel.put(.chunk(chunk)) else { throw CancellationError() }
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
        // A record that does not parse may be bytes altered on the way: read on to the end, so the
        // store checks its checksum and such an object is read again rather than failed as malformed.
        var unreadable: Error?
        let receipt = try await store.read(object) { chunk in
            guard unreadable == nil else { return }
            do { try reader.feed(chunk, handle) } catch let error as CancellationError { throw error } catch { unreadable = error }
        }
        if let unreadable { throw unreadable }
        try reader.finish(handle)
        counts.notes = reader.notes
        try flush()
        progress?(object.key, counts.recordsRead)
        return (counts, receipt)
    }
}
