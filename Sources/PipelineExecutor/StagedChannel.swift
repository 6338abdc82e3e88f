import Foundation

/// What the reader hands the loader, in order: per object, its start, COPY text in chunks, its end.
enum StagedEvent {
    case begin(SourceObject)
    case chunk([UInt8])
    case end(ObjectCounts, ReadReceipt)
    /// The object cannot be read (truncated gzip, a broken JSON array, the source failed).
    case failed(Error)
}

/// A bounded queue between the reader (parsing object N+1) and the loader (the database merging
/// object N), so the two cores work at once while memory stays at most `capacity` bytes of COPY text
/// and `maxEvents` events (a few hundred tiny objects ahead; more gains nothing and costs memory).
final class StagedChannel: @unchecked Sendable {
    static let capacity = 32 << 20
    static let maxEvents = 1024
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
        while (bytes + size > Self.capacity && bytes > 0 || events.count - head >= Self.maxEvents) && !cancelled { condition.wait() }
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
