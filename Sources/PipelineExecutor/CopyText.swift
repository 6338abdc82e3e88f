/// PostgreSQL's COPY text format: tab-separated, newline-terminated, `\N` for NULL, and backslash,
/// tab, newline and carriage return escaped. Rows are built in a byte buffer and sent in chunks.
struct CopyRow {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1024) }

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    mutating func separator() { bytes.append(9) }

    mutating func end() { bytes.append(10) }

    mutating func null() { bytes.append(contentsOf: [92, 78]) }

    mutating func field(_ text: String?) {
        guard var text else { return null() }
        text.withUTF8 { append(escaping: UnsafeRawBufferPointer($0)) }
    }

    mutating func integer(_ value: Int) {
        if value >= 0, value < 10 { bytes.append(UInt8(48 + value)); return }
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func append(escaping raw: UnsafeRawBufferPointer) {
        // Runs without a byte to escape, which is nearly every field, are copied whole.
        var run = raw.startIndex
        for index in raw.indices {
            let escaped: UInt8
            switch raw[index] {
            case 92: escaped = 92
            case 9: escaped = 116
            case 10: escaped = 110
            case 13: escaped = 114
            default: continue
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[run..<index]))
            bytes.append(92)
            bytes.append(escaped)
            run = index + 1
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[run..<raw.endIndex]))
    }
}
