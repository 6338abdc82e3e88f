import Foundation

/// IPv4 and IPv6 address blocks. Addresses of both families are held as 128-bit
/// integers so containment, overlap and longest-prefix match share one implementation.
public struct CIDR: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Family: String, Sendable { case v4, v6 }

    public let family: Family
    /// The network address (host bits are zero).
    public let network: UInt128
    public let prefixLength: Int

    public var bitWidth: Int { family == .v4 ? 32 : 128 }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case hostBitsSet(String, canonical: String)

        public var description: String {
            switch self {
            case .malformed(let reason): return reason
            case .hostBitsSet(let text, let canonical):
                return "'\(text)' has host bits set; the block is \(canonical)"
            }
        }
    }

    public init(family: Family, network: UInt128, prefixLength: Int) {
        self.family = family
        self.prefixLength = prefixLength
        let width = family == .v4 ? 32 : 128
        self.network = network & CIDR.mask(prefixLength: prefixLength, width: width)
    }

    /// Parses `10.0.0.0/16` or `2001:db8::/56`. Host bits must be zero, as AWS requires.
    public init(parsing text: String) throws(ParseError) {
        guard let slash = text.firstIndex(of: "/") else {
            throw .malformed("'\(text)' is not a CIDR block (expected address/prefix, e.g. 10.0.0.0/16)")
        }
        let addressText = String(text[..<slash])
        let prefixText = String(text[text.index(after: slash)...])
        guard let (family, address) = CIDR.parseAddress(addressText) else {
            throw .malformed("'\(addressText)' is not an IPv4 or IPv6 address")
        }
        let width = family == .v4 ? 32 : 128
        guard !prefixText.isEmpty, prefixText.allSatisfy(\.isASCII), prefixText.allSatisfy(\.isNumber),
            prefixText.count <= 3, let prefix = Int(prefixText), prefix <= width
        else {
            throw .malformed("'\(prefixText)' is not a prefix length from 0 to \(width)")
        }
        let block = CIDR(family: family, network: address, prefixLength: prefix)
        guard block.network == address else {
            throw .hostBitsSet(text, canonical: block.description)
        }
        self = block
    }

    public static func mask(prefixLength: Int, width: Int) -> UInt128 {
        if prefixLength == 0 { return 0 }
        let all: UInt128 = width == 32 ? UInt128(UInt32.max) : UInt128.max
        return (all << UInt128(width - prefixLength)) & all
    }

    public var hostMask: UInt128 {
        let all: UInt128 = family == .v4 ? UInt128(UInt32.max) : UInt128.max
        return ~CIDR.mask(prefixLength: prefixLength, width: bitWidth) & all
    }

    public var firstAddress: UInt128 { network }
    public var lastAddress: UInt128 { network | hostMask }

    /// Number of addresses, saturating at UInt128.max for ::/0.
    public var addressCount: UInt128 {
        let bits = bitWidth - prefixLength
        return bits >= 128 ? UInt128.max : (UInt128(1) << UInt128(bits))
    }

    public func contains(_ other: CIDR) -> Bool {
        family == other.family && other.prefixLength >= prefixLength
            && (other.network & CIDR.mask(prefixLength: prefixLength, width: bitWidth)) == network
    }

    public func contains(address: UInt128, family: Family) -> Bool {
        self.family == family && (address & CIDR.mask(prefixLength: prefixLength, width: bitWidth)) == network
    }

    public func overlaps(_ other: CIDR) -> Bool { contains(other) || other.contains(self) }

    /// `0.0.0.0/0` or `::/0`: the default route / "anywhere".
    public var isDefault: Bool { prefixLength == 0 }

    public static let anyIPv4 = CIDR(family: .v4, network: 0, prefixLength: 0)
    public static let anyIPv6 = CIDR(family: .v6, network: 0, prefixLength: 0)

    /// RFC 1918, RFC 4193 and friends: addresses that are never routed on the internet.
    public static let privateBlocks: [CIDR] = [
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128",
    ].map { try! CIDR(parsing: $0) }

    public var isPrivateRange: Bool { CIDR.privateBlocks.contains { $0.contains(self) } }

    public var description: String {
        "\(CIDR.format(network, family: family))/\(prefixLength)"
    }

    public static func < (a: CIDR, b: CIDR) -> Bool {
        (a.family == .v4 ? 0 : 1, a.network, a.prefixLength) < (b.family == .v4 ? 0 : 1, b.network, b.prefixLength)
    }

    /// The entry whose block contains `destination` with the longest prefix, as a VPC router picks routes.
    public static func longestPrefixMatch<T>(_ destination: CIDR, in entries: [(CIDR, T)]) -> (CIDR, T)? {
        entries.filter { $0.0.contains(destination) }.max { $0.0.prefixLength < $1.0.prefixLength }
    }

    // MARK: Address text

    static func parseAddress(_ text: String) -> (Family, UInt128)? {
        if text.contains(":") { return parseIPv6(text).map { (.v6, $0) } }
        return parseIPv4(text).map { (.v4, UInt128($0)) }
    }

    static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            // No leading zeros: "010" is octal in some parsers and rejected by AWS.
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part == "0" || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseIPv6(_ text: String) -> UInt128? {
        var head: [UInt16] = [], tail: [UInt16] = []
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count), g.allSatisfy(\.isHexDigit), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let h = groups(halves[0]) else { return nil }
        head = h
        if halves.count == 2 {
            guard let t = groups(halves[1]) else { return nil }
            tail = t
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard head.count == 8 else { return nil }
        }
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    static func format(_ value: UInt128, family: Family) -> String {
        if family == .v4 {
            let v = UInt32(truncatingIfNeeded: value)
            return [24, 16, 8, 0].map { String((v >> UInt32($0)) & 0xff) }.joined(separator: ".")
        }
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> UInt128(112 - 16 * $0)) }
        // RFC 5952: compress the longest run (length >= 2) of zero groups.
        var bestStart = -1, bestLength = 0, runStart = -1
        for (i, g) in groups.enumerated().map({ ($0.offset, $0.element) }) + [(8, UInt16(1))] {
            if g == 0 && i < 8 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestLength < 2 { return hex.joined(separator: ":") }
        return hex[..<bestStart].joined(separator: ":") + "::" + hex[(bestStart + bestLength)...].joined(separator: ":")
    }
}
