/// A set of integers as sorted, disjoint, non-adjacent closed intervals: what the network checks
/// reason on, because AWS evaluates routes, security groups and network ACLs over sets of
/// addresses and ports, not over the literal blocks a spec happens to write.
public struct IntervalSet<Element: FixedWidthInteger & Sendable>: Hashable, Sendable {
    public private(set) var intervals: [ClosedRange<Element>]

    public init() { intervals = [] }

    public init(_ range: ClosedRange<Element>) { intervals = [range] }

    public init<S: Sequence>(_ ranges: S) where S.Element == ClosedRange<Element> {
        var merged: [ClosedRange<Element>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            // Adjacent intervals merge too: 1...3 and 4...5 are 1...5.
            if let last = merged.last, last.upperBound == .max || range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        intervals = merged
    }

    public var isEmpty: Bool { intervals.isEmpty }

    public func contains(_ value: Element) -> Bool {
        var low = 0, high = intervals.count
        while low < high {
            let middle = (low + high) / 2
            if intervals[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low < intervals.count && intervals[low].contains(value)
    }

    public func union(_ other: IntervalSet) -> IntervalSet { IntervalSet(intervals + other.intervals) }

    public func intersection(_ other: IntervalSet) -> IntervalSet {
        var result: [ClosedRange<Element>] = []
        var (i, j) = (0, 0)
        while i < intervals.count && j < other.intervals.count {
            let (a, b) = (intervals[i], other.intervals[j])
            let low = max(a.lowerBound, b.lowerBound), high = min(a.upperBound, b.upperBound)
            if low <= high { result.append(low...high) }
            if a.upperBound < b.upperBound { i += 1 } else { j += 1 }
        }
        var set = IntervalSet()
        set.intervals = result
        return set
    }

    public func subtracting(_ other: IntervalSet) -> IntervalSet {
        var result: [ClosedRange<Element>] = []
        var j = 0
        for interval in intervals {
            var low = interval.lowerBound
            var open = true
            while j < other.intervals.count && other.intervals[j].upperBound < low { j += 1 }
            var k = j
            while open && k < other.intervals.count && other.intervals[k].lowerBound <= interval.upperBound {
                let cut = other.intervals[k]
                if cut.lowerBound > low { result.append(low...(cut.lowerBound - 1)) }
                if cut.upperBound >= interval.upperBound { open = false } else { low = cut.upperBound + 1 }
                k += 1
            }
            if open { result.append(low...interval.upperBound) }
        }
        var set = IntervalSet()
        set.intervals = result
        return set
    }

    public func isSuperset(of other: IntervalSet) -> Bool { other.subtracting(self).isEmpty }
    public func isDisjoint(with other: IntervalSet) -> Bool { intersection(other).isEmpty }
}

/// Ports 0-65535 as a set.
public typealias PortSet = IntervalSet<Int>

extension IntervalSet where Element == Int {
    public static let allPorts = PortSet(0...65535)

    public init(_ ports: PortRange) { self.init(ports.from...ports.to) }

    /// `22, 1024-32767` (or `all ports`).
    public var portsDescription: String {
        if self == .allPorts { return "all ports" }
        if isEmpty { return "no ports" }
        return intervals.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")
    }
}

/// Addresses of one family as a set.
public struct AddressSet: Hashable, Sendable, CustomStringConvertible {
    public let family: CIDR.Family
    public private(set) var addresses: IntervalSet<UInt128>

    public init(_ family: CIDR.Family, _ addresses: IntervalSet<UInt128> = IntervalSet()) {
        self.family = family
        self.addresses = addresses
    }

    public init(_ block: CIDR) { self.init(block.family, IntervalSet(block.firstAddress...block.lastAddress)) }

    public init(_ family: CIDR.Family, blocks: [CIDR]) {
        self.init(family, IntervalSet(blocks.filter { $0.family == family }.map { $0.firstAddress...$0.lastAddress }))
    }

    public static func all(_ family: CIDR.Family) -> AddressSet { AddressSet(family == .v4 ? CIDR.anyIPv4 : CIDR.anyIPv6) }

    /// Addresses never routed on the internet (the blocks of `CIDR.isPrivateRange`).
    public static func nonInternet(_ family: CIDR.Family) -> AddressSet { AddressSet(family, blocks: CIDR.privateBlocks) }

    /// Every address a host on the internet can have (computed once per family: the checks ask often).
    public static func internet(_ family: CIDR.Family) -> AddressSet { family == .v4 ? internetV4 : internetV6 }
    private static let internetV4 = all(.v4).subtracting(nonInternet(.v4))
    private static let internetV6 = all(.v6).subtracting(nonInternet(.v6))

    /// How many addresses, saturating at UInt128.max (all of IPv6 is one more than it holds).
    public var addressCount: UInt128 {
        addresses.intervals.reduce(UInt128(0)) { total, interval in
            let size = interval.upperBound - interval.lowerBound
            return total >= UInt128.max - size ? UInt128.max : total + size + 1
        }
    }

    public var isEmpty: Bool { addresses.isEmpty }
    public func contains(_ address: UInt128) -> Bool { addresses.contains(address) }
    public func union(_ other: AddressSet) -> AddressSet { same(other) ? AddressSet(family, addresses.union(other.addresses)) : self }
    public func intersection(_ other: AddressSet) -> AddressSet {
        AddressSet(family, same(other) ? addresses.intersection(other.addresses) : IntervalSet())
    }
    public func subtracting(_ other: AddressSet) -> AddressSet { same(other) ? AddressSet(family, addresses.subtracting(other.addresses)) : self }
    public func isSuperset(of other: AddressSet) -> Bool { !same(other) ? other.isEmpty : addresses.isSuperset(of: other.addresses) }
    public func overlaps(_ other: AddressSet) -> Bool { !intersection(other).isEmpty }

    private func same(_ other: AddressSet) -> Bool { family == other.family }

    /// The fewest CIDR blocks that make up the set, in address order.
    public var blocks: [CIDR] {
        let width = family == .v4 ? 32 : 128
        var result: [CIDR] = []
        for interval in addresses.intervals {
            var start = interval.lowerBound
            while true {
                // The largest aligned block at `start` that stays inside the interval.
                var size = start == 0 ? width : min(start.trailingZeroBitCount, width)
                while size > 0 {
                    let last = start | ((UInt128(1) << UInt128(size)) &- 1)
                    if last <= interval.upperBound && last >= start { break }
                    size -= 1
                }
                let block = CIDR(family: family, network: start, prefixLength: width - size)
                result.append(block)
                if block.lastAddress >= interval.upperBound { break }
                start = block.lastAddress + 1
            }
        }
        return result
    }

    /// `0.0.0.0/1, 128.0.0.0/1`, shortened after a few blocks.
    public var description: String {
        if isEmpty { return "no addresses" }
        let all = blocks
        let shown = all.prefix(4).map(\.description).joined(separator: ", ")
        return all.count > 4 ? "\(shown) and \(all.count - 4) more blocks" : shown
    }
}
