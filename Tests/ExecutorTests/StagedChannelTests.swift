import Foundation
import Testing

@testable import PipelineExecutor

/// The queue between reader and loader holds a bounded amount, in bytes and in events: a prefix of
/// a million one-record objects must not be read ahead into memory.
@Suite("reader to loader queue")
struct StagedChannelTests {
    /// Puts `events` from a thread of its own, counting those the channel took.
    func startPutting(_ events: [StagedEvent], into channel: StagedChannel) -> Counter {
        let count = Counter()
        let thread = Thread {
            for event in events { guard channel.put(event) else { return }; count.increment() }
        }
        thread.start()
        return count
    }

    /// Waits (up to 10 s, for a loaded machine) until `counter` reaches `value`, then a moment more
    /// in which it must not pass it.
    func settles(_ counter: Counter, at value: Int) -> Int {
        let deadline = Date().addingTimeInterval(10)
        while counter.value < value && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: 0.2)
        return counter.value
    }

    @Test func tinyEventsStopAtTheEventBound() {
        let channel = StagedChannel()
        let put = startPutting(Array(repeating: .chunk([1, 2, 3]), count: StagedChannel.maxEvents + 10), into: channel)
        #expect(settles(put, at: StagedChannel.maxEvents) == StagedChannel.maxEvents)
        _ = channel.take()
        #expect(settles(put, at: StagedChannel.maxEvents + 1) == StagedChannel.maxEvents + 1, "taking one lets one more in")
        channel.cancel()
    }

    @Test func largeChunksStopAtTheByteBound() {
        let channel = StagedChannel()
        let chunk = [UInt8](repeating: 7, count: 8 << 20)
        let put = startPutting(Array(repeating: .chunk(chunk), count: 10), into: channel)
        #expect(settles(put, at: StagedChannel.capacity / chunk.count) == StagedChannel.capacity / chunk.count)
        channel.cancel()
    }

    @Test func everythingPutIsTakenInOrder() {
        let channel = StagedChannel()
        let total = StagedChannel.maxEvents * 3
        let thread = Thread {
            for index in 0..<total { channel.put(.chunk([UInt8(truncatingIfNeeded: index)])) }
            channel.close()
        }
        thread.start()
        var taken: [UInt8] = []
        while let event = channel.take() { if case .chunk(let bytes) = event { taken += bytes } }
        #expect(taken == (0..<total).map { UInt8(truncatingIfNeeded: $0) })
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
