import Foundation

/// One record's bytes as read, before parsing. `bytes` stays valid only during the callback, and
/// the memory after it is readable for simdjson's padding.
struct RawRecord {
    var bytes: UnsafeRawBufferPointer
    /// 1-based line (JSON Lines, CSV: the line the record starts on) or element number (JSON array).
    var line: Int
    /// The record was longer than the limit: `bytes` is only its start.
    var oversized = false
}

/// Source bytes in, records out, in bounded memory: a record longer than the limit is cut to its
/// start and reported, and the rest of it is skipped as it streams past.
protocol RecordSplitter {
    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (RawRecord) throws -> Void) throws
    mutating func finish(_ emit: (RawRecord) throws -> Void) throws
}

enum RecordLimits {
    /// Longest record read whole (16 MiB); longer ones are quarantined.
    static let maxRecordBytes = 16 << 20
    /// How much of an oversized record the quarantine keeps.
    static let keptPrefixBytes = 64 << 10
    static let padding = 64
}

/// A growable byte window with padding after its end, compacted as records are consumed.
struct ByteWindow {
    private(set) var storage: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0

    init(capacity: Int = 1 << 20) {
        storage = .allocate(byteCount: capacity + RecordLimits.padding, alignment: 64)
    }

    func free() { storage.deallocate() }

    var count: Int { end - start }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if end + chunk.count + RecordLimits.padding > storage.count {
            let needed = count + chunk.count + RecordLimits.padding
            if needed <= storage.count, start > 0 {
                storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count)
            } else {
                let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(needed, storage.count * 2), alignment: 64)
                grown.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count)
                storage.deallocate()
                storage = grown
            }
            end -= start
            start = 0
        }
        (storage.baseAddress! + end).copyMemory(from: chunk.baseAddress!, byteCount: chunk.count)
        end += chunk.count
        // simdjson reads past the end; give it defined bytes.
        (storage.baseAddress! + end).initializeMemory(as: UInt8.self, repeating: 32, count: RecordLimits.padding)
    }

    func bytes(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.baseAddress! + from, count: to - from)
    }

    subscript(_ index: Int) -> UInt8 { storage[index] }

    /// Drops everything before `index`. Positions stay valid until the next `append`, which may
    /// move the bytes to the front (by the old `start`).
    mutating func consume(upTo index: Int) {
        start = index
    }
}

/// Skips a UTF-8 byte-order mark at the start of an object (spreadsheet exports write one); it is
/// encoding, not data.
struct BOMStripper {
    private var checked = false
    private var held: [UInt8] = []

    mutating func strip(_ chunk: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard !checked else { return try body(chunk) }
        held += chunk
        guard held.count >= 3 else { return }
        checked = true
        let skip = held[0] == 0xEF && held[1] == 0xBB && held[2] == 0xBF ? 3 : 0
        let rest = held
        held = []
        try rest.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[skip...])) }
    }

    mutating func finish(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard !checked else { return }
        checked = true
        let rest = held
        held = []
        if !rest.isEmpty, !(rest.count == 3 && rest == [0xEF, 0xBB, 0xBF]) { try rest.withUnsafeBytes { try body($0) } }
    }
}

/// JSON Lines: one record per line; blank lines are skipped; a trailing `\r` is dropped.
struct LineSplitter: RecordSplitter {
    var window = ByteWindow()
    var line = 0
    /// Inside a line longer than the limit, whose start was reported: the rest is dropped unread.
    var skipping = false

    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (RawRecord) throws -> Void) throws {
        window.append(chunk)
        var scan = window.start
        while true {
            let available = window.end - scan
            guard available > 0, let newline = memchr(window.storage.baseAddress! + scan, 10, available) else { break }
            let index = newline - UnsafeMutableRawPointer(window.storage.baseAddress!)
            try finishLine(from: scan, to: index, emit)
            scan = index + 1
        }
        window.consume(upTo: scan)
        if !skipping, window.count > RecordLimits.maxRecordBytes {
            line += 1
            try emit(RawRecord(bytes: window.bytes(window.start, window.start + RecordLimits.keptPrefixBytes), line: line, oversized: true))
            skipping = true
        }
        if skipping { window.consume(upTo: window.end) }
    }

    private mutating func finishLine(from: Int, to: Int, _ emit: (RawRecord) throws -> Void) throws {
        if skipping {
            skipping = false  // the oversized line ends here; it was reported when it passed the limit
            return
        }
        line += 1
        var to = to
        if to > from, window[to - 1] == 13 { to -= 1 }
        var from = from
        while from < to, window[from] == 32 || window[from] == 9 { from += 1 }
        guard from < to else { return }
        try emit(RawRecord(bytes: window.bytes(from, to), line: line))
    }

    mutating func finish(_ emit: (RawRecord) throws -> Void) throws {
        if window.count > 0 { try finishLine(from: window.start, to: window.end, emit) }
        skipping = false
        window.consume(upTo: window.end)
        window.free()
    }
}

/// A JSON array of records, `[{…}, {…}]`, split element by element without parsing the whole file.
struct ArraySplitter: RecordSplitter {
    enum Phase { case beforeArray, beforeElement, afterElement, done }
    var window = ByteWindow()
    var phase = Phase.beforeArray
    var element = 0
    // The scan of the element in progress.
    var scan = 0
    var elementStart: Int?
    var depth = 0
    var inString = false
    var escaped = false
    var skipping = false

    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (RawRecord) throws -> Void) throws {
        let offset = window.start
        window.append(chunk)
        // The window may have moved its bytes to the front.
        let shift = offset - window.start
        scan -= shift
        if let start = elementStart { elementStart = start - shift }
        try run(emit)
    }

    private mutating func run(_ emit: (RawRecord) throws -> Void) throws {
        if scan < window.start { scan = window.start }
        while scan < window.end {
            // An element cut by the end of the last chunk: its bytes are not the array's syntax.
            if elementStart != nil {
                guard try scanElement(emit) else { window.consume(upTo: elementStart ?? scan); return }
                continue
            }
            let byte = window[scan]
            switch phase {
            case .beforeArray:
                if isSpace(byte) { scan += 1; continue }
                guard byte == 91 else { throw ExecutorError.format("expected a JSON array, found \(describe(byte))") }
                phase = .beforeElement
                scan += 1
            case .beforeElement, .afterElement:
                if isSpace(byte) { scan += 1; continue }
                if byte == 93 { phase = .done; scan += 1; continue }
                if phase == .afterElement {
                    guard byte == 44 else { throw ExecutorError.format("expected , or ] after element \(element), found \(describe(byte))") }
                    phase = .beforeElement
                    scan += 1
                    continue
                }
                guard try scanElement(emit) else { window.consume(upTo: elementStart ?? scan); return }
            case .done:
                guard isSpace(byte) else { throw ExecutorError.format("unexpected \(describe(byte)) after the array's closing ]") }
                scan += 1
            }
        }
        window.consume(upTo: elementStart ?? scan)
    }

    /// Scans one element; false when the window ends inside it.
    private mutating func scanElement(_ emit: (RawRecord) throws -> Void) throws -> Bool {
        if elementStart == nil {
            elementStart = scan
            element += 1
            depth = 0
            inString = false
            escaped = false
        }
        while scan < window.end {
            let byte = window[scan]
            scan += 1
            if inString {
                if escaped { escaped = false } else if byte == 92 { escaped = true } else if byte == 34 { inString = false }
                if depth == 0, !inString { return try elementEnded(emit) }
                continue
            }
            switch byte {
            case 34: inString = true
            case 123, 91: depth += 1
            case 125, 93:
                if depth == 0 {
                    scan -= 1
                    return try elementEnded(emit)
                }
                depth -= 1
                if depth == 0 { return try elementEnded(emit) }
                if depth < 0 { throw ExecutorError.format("unbalanced \(describe(byte)) in element \(element)") }
            case 44 where depth == 0:
                scan -= 1
                return try elementEnded(emit)
            case _ where depth == 0 && isSpace(byte):
                scan -= 1
                return try elementEnded(emit)
            default: break
            }
        }
        // The window ends inside the element: past the limit, report its start and drop the rest
        // as it streams (strings included: the scan state carries on).
        if !skipping, let start = elementStart, scan - start > RecordLimits.maxRecordBytes {
            try emit(RawRecord(bytes: window.bytes(start, start + RecordLimits.keptPrefixBytes), line: element, oversized: true))
            skipping = true
        }
        if skipping { elementStart = scan }
        return false
    }

    private mutating func elementEnded(_ emit: (RawRecord) throws -> Void) throws -> Bool {
        if !skipping, let start = elementStart {
            try emit(RawRecord(bytes: window.bytes(start, scan), line: element))
        }
        skipping = false
        elementStart = nil
        phase = .afterElement
        return true
    }

    mutating func finish(_ emit: (RawRecord) throws -> Void) throws {
        defer { window.free() }
        if elementStart != nil, depth == 0, !inString {
            _ = try elementEnded(emit)  // a scalar element at the very end
        }
        switch phase {
        case .done: return
        case .beforeArray: if element == 0 { return }  // an empty object holds no records
        default: break
        }
        throw ExecutorError.format("the JSON array ends after element \(element) without its closing ]")
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 10 || byte == 13 || byte == 9 }

    private func describe(_ byte: UInt8) -> String {
        byte >= 32 && byte < 127 ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }
}

/// CSV as RFC 4180 has it: records end at a newline outside quotes, so a quoted field may span lines.
struct CSVSplitter: RecordSplitter {
    var window = ByteWindow()
    let quote: UInt8
    var line = 1
    var scan = 0
    var inQuotes = false
    var recordLine = 1
    /// Inside a record longer than the limit, whose start was reported.
    var skipping = false

    init(quote: UInt8) { self.quote = quote }

    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (RawRecord) throws -> Void) throws {
        let offset = window.start
        window.append(chunk)
        scan -= offset - window.start
        if scan < window.start { scan = window.start }
        var recordStart = window.start
        while scan < window.end {
            let byte = window[scan]
            scan += 1
            if byte == quote { inQuotes.toggle(); continue }
            guard byte == 10 else { continue }
            line += 1
            if inQuotes { continue }
            try ended(from: recordStart, to: scan - 1, emit)
            recordStart = scan
            recordLine = line
        }
        window.consume(upTo: recordStart)
        if !skipping, window.count > RecordLimits.maxRecordBytes {
            try emit(RawRecord(bytes: window.bytes(window.start, window.start + RecordLimits.keptPrefixBytes), line: recordLine, oversized: true))
            skipping = true
        }
        if skipping {
            window.consume(upTo: window.end)
            scan = window.start
        }
    }

    private mutating func ended(from: Int, to: Int, _ emit: (RawRecord) throws -> Void) throws {
        if skipping { skipping = false; return }
        var to = to
        if to > from, window[to - 1] == 13 { to -= 1 }
        guard to > from else { return }  // blank line
        try emit(RawRecord(bytes: window.bytes(from, to), line: recordLine))
    }

    mutating func finish(_ emit: (RawRecord) throws -> Void) throws {
        defer { window.free() }
        if window.count > 0 { try ended(from: window.start, to: window.end, emit) }
    }
}
