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
        for byte in raw {
            switch byte {
            case 92: bytes.append(92); bytes.append(92)
            case 9: bytes.append(92); bytes.append(116)
            case 10: bytes.append(92); bytes.append(110)
            case 13: bytes.append(92); bytes.append(114)
            default: bytes.append(byte)
            }
        }
    }
}
