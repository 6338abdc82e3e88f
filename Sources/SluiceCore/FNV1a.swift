/// FNV-1a, 64 bits: a stable fingerprint (never a security hash) for derived names, lock keys and
/// the schema digest. Swift's own `Hasher` is seeded per process, so it cannot serve here.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public init(_ text: String) { add(text) }

    public mutating func add(_ text: String) {
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }

    /// Lower-case hex without leading zeros.
    public var hex: String { String(value, radix: 16) }
}
