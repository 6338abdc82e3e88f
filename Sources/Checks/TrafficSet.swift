import SluiceCore

/// Traffic of one protocol and address family as a union of boxes (addresses × ports): what a
/// rule admits, what is left after earlier NACL entries, what a question asks about.
public struct TrafficSet: Sendable, CustomStringConvertible {
    public struct Box: Sendable {
        public var addresses: AddressSet
        public var ports: PortSet
        public var isEmpty: Bool { addresses.isEmpty || ports.isEmpty }
    }

    public private(set) var boxes: [Box]

    /// Boxes with the same ports are merged, so repeated differences (one per NACL entry) do not
    /// multiply them: there are at most as many boxes as distinct port sets.
    public init(_ boxes: [Box] = []) {
        var merged: [Box] = []
        var indexOfPorts: [PortSet: Int] = [:]
        for box in boxes where !box.isEmpty {
            if let index = indexOfPorts[box.ports] {
                merged[index].addresses = merged[index].addresses.union(box.addresses)
            } else {
                indexOfPorts[box.ports] = merged.count
                merged.append(box)
            }
        }
        self.boxes = merged
    }
    public init(_ addresses: AddressSet, _ ports: PortSet) { self.init([Box(addresses: addresses, ports: ports)]) }

    public var isEmpty: Bool { boxes.isEmpty }

    /// Every address some box holds.
    public func addresses(_ family: CIDR.Family) -> AddressSet {
        boxes.reduce(AddressSet(family)) { $0.union($1.addresses) }
    }

    public func intersection(_ box: Box) -> TrafficSet {
        TrafficSet(boxes.map { Box(addresses: $0.addresses.intersection(box.addresses), ports: $0.ports.intersection(box.ports)) })
    }

    /// R − E = (R.addresses − E.addresses) × R.ports ∪ (R.addresses ∩ E.addresses) × (R.ports − E.ports)
    public func subtracting(_ box: Box) -> TrafficSet {
        TrafficSet(
            boxes.flatMap { own -> [Box] in
                [
                    Box(addresses: own.addresses.subtracting(box.addresses), ports: own.ports),
                    Box(addresses: own.addresses.intersection(box.addresses), ports: own.ports.subtracting(box.ports)),
                ]
            })
    }

    public func union(_ other: TrafficSet) -> TrafficSet { TrafficSet(boxes + other.boxes) }

    public var description: String {
        boxes.map { "\($0.addresses) on \($0.ports.portsDescription)" }.joined(separator: "; ")
    }
}

extension IPProtocol {
    /// The ports a rule of this protocol really covers: AWS ignores the port range of a rule for
    /// all protocols (`IpProtocol: -1`), which opens or denies every port.
    public func effectivePorts(_ ports: PortRange) -> PortSet { self == .all ? .allPorts : PortSet(ports) }
}

/// First-match evaluation of network ACL entries over sets, as AWS documents it: entries in
/// ascending number, each deciding for what earlier entries left of the traffic, and the final
/// `*` entry denying the rest.
public enum NetworkACLEvaluation {
    public struct Outcome: Sendable {
        public var allowed: TrafficSet
        /// What each entry denied, in order; a nil entry is the final `*` deny.
        public var denied: [(entry: NetworkACLEntry?, traffic: TrafficSet)]
        /// The entries that allowed part of the traffic, in order.
        public var allowedBy: [NetworkACLEntry]
    }

    public static func evaluate(_ entries: [NetworkACLEntry], proto: IPProtocol, traffic: TrafficSet) -> Outcome {
        var left = traffic
        var outcome = Outcome(allowed: TrafficSet(), denied: [], allowedBy: [])
        for entry in entries.sorted(by: { $0.number < $1.number }) where entry.proto.matches(proto) && !left.isEmpty {
            let box = TrafficSet.Box(addresses: AddressSet(entry.cidr), ports: entry.proto.effectivePorts(entry.ports))
            let matched = left.intersection(box)
            guard !matched.isEmpty else { continue }
            if entry.action == .allow {
                outcome.allowed = outcome.allowed.union(matched)
                outcome.allowedBy.append(entry)
            } else {
                outcome.denied.append((entry, matched))
            }
            left = left.subtracting(box)
        }
        if !left.isEmpty { outcome.denied.append((nil, left)) }
        return outcome
    }

    /// `.every`: allowed when no part of the range and ports is denied, with the first entry that
    /// allows (or denies) some of it. `.some`: allowed when some part passes, with the first entry
    /// that lets it.
    public static func evaluate(
        _ entries: [NetworkACLEntry], proto: IPProtocol, ports: PortSet, addresses: AddressSet,
        _ quantifier: Quantifier
    ) -> (allowed: Bool, entry: NetworkACLEntry?) {
        let outcome = evaluate(entries, proto: proto, traffic: TrafficSet(addresses, ports))
        switch quantifier {
        case .every: return outcome.denied.isEmpty ? (true, outcome.allowedBy.first) : (false, outcome.denied.first?.entry)
        case .some: return (!outcome.allowed.isEmpty, outcome.allowedBy.first ?? outcome.denied.first?.entry)
        }
    }

    public static func evaluate(
        _ entries: [NetworkACLEntry], proto: IPProtocol, ports: PortRange, range: CIDR,
        _ quantifier: Quantifier
    ) -> (allowed: Bool, entry: NetworkACLEntry?) {
        evaluate(entries, proto: proto, ports: PortSet(ports), addresses: AddressSet(range), quantifier)
    }
}
