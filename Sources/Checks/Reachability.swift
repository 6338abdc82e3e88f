import SluiceCore

/// Where a network interface of a workload sits: one per subnet a function or endpoint spans.
public struct Placement: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case function, host, warehouse, endpoint = "interface endpoint" }
    public var kind: Kind
    public var name: String
    public var subnet: Subnet
    public var securityGroups: [String]
    public var hasPublicAddress: Bool
    /// Lambda functions never get public addresses, whatever their subnet.
    public var isFunction: Bool

    /// The ports this interface opens connections from, where responses return: on a host, the
    /// range AWS documents for Linux kernels (Amazon Linux among them), 32768-61000; Lambda's
    /// 1024-65535 otherwise.
    public var ephemeralPorts: PortRange { kind == .host ? PortRange(32768, 61000) : .ephemeral }

    /// `function 'etl'`, `host 'warehouse'`, `warehouse 'dw'`
    public var owner: String { "\(kind.rawValue) '\(name)'" }

    public var description: String {
        "\(owner) in subnet '\(subnet.name)' (\(subnet.type.rawValue)) with security group\(securityGroups.count == 1 ? "" : "s") \(securityGroups.map { "'\($0)'" }.joined(separator: ", "))"
    }
}

/// Whether a property must hold for every address of a range (proving reachability) or can
/// hold for some address (proving exposure). NACLs and CIDR peers are judged accordingly.
public enum Quantifier: Sendable { case every, some }

/// The answer to a reachability question, with the hops that justify it.
public enum Verdict: Sendable {
    case reachable(path: [String])
    case blocked(reason: String, path: [String])

    public var isReachable: Bool { if case .reachable = self { return true } else { return false } }
    public var path: [String] {
        switch self {
        case .reachable(let p), .blocked(_, let p): return p
        }
    }
}

/// Answers "can A open a TCP connection to B on port P?" from the model alone: routes (longest
/// prefix match), network ACLs (stateless, so the return traffic on ephemeral ports counts) and
/// security groups (stateful, so only the initiating direction counts).
public struct ReachabilityEngine: Sendable {
    public let spec: Spec
    var network: Network { spec.network }

    public init(spec: Spec) { self.spec = spec }

    // MARK: Placements

    public func placements(ofFunction function: Function) -> [Placement] {
        function.subnets.compactMap { network.subnet($0) }.map {
            Placement(
                kind: .function, name: function.name, subnet: $0, securityGroups: function.securityGroups, hasPublicAddress: false, isFunction: true)
        }
    }

    public func placements(ofHost host: Host) -> [Placement] {
        network.subnet(host.subnet).map {
            [
                Placement(
                    kind: .host, name: host.name, subnet: $0, securityGroups: host.securityGroups, hasPublicAddress: host.publicIP, isFunction: false)
            ]
        } ?? []
    }

    public func placements(ofWorkload name: String) -> [Placement] {
        if let function = spec.compute.function(name) { return placements(ofFunction: function) }
        if let host = spec.compute.host(name) { return placements(ofHost: host) }
        return []
    }

    public func placements(ofWarehouse warehouse: Warehouse) -> [Placement] {
        var publicAddress = warehouse.publiclyAccessible
        if case .ec2(let hostName) = warehouse.engine, let host = spec.compute.host(hostName) { publicAddress = publicAddress || host.publicIP }
        return warehouse.subnets.compactMap { network.subnet($0) }.map {
            Placement(
                kind: .warehouse, name: warehouse.name, subnet: $0, securityGroups: warehouse.securityGroups, hasPublicAddress: publicAddress,
                isFunction: false)
        }
    }

    /// Every interface in the spec: functions, hosts, and the warehouse when it is managed.
    public func allPlacements() -> [Placement] {
        var result = spec.compute.functions.flatMap(placements(ofFunction:)) + spec.compute.hosts.flatMap(placements(ofHost:))
        if let warehouse = spec.warehouse, warehouse.engine.isManaged { result += placements(ofWarehouse: warehouse) }
        return result
    }

    // MARK: Inside the VPC

    /// Can `source` connect to `destination` on TCP `port`?
    /// A blocked answer names every cut on the way (each route, network ACL crossing and security
    /// group that would have to change), not only the first: Reachability Analyzer's complete
    /// blocked path, offline.
    public func reach(from source: Placement, to destination: Placement, port: Int, _ quantifier: Quantifier) -> Verdict {
        var path = ["\(source)"]
        var cuts: [String] = []
        let (from, to) = (source.subnet, destination.subnet)
        for (a, b) in [(from, to), (to, from)] {
            let table = network.routeTable(for: a.name)
            let block = AddressSet(b.cidr)
            // Routes more specific than local take part (or all) of the other subnet out of the VPC.
            let away = routing(table, b.cidr.family).filter { $0.route.target != .local && $0.destinations.overlaps(block) }
            let allAway = away.reduce(AddressSet(b.cidr.family)) { $0.union($1.destinations) }.isSuperset(of: block)
            guard !away.isEmpty, quantifier == .every || allAway else { continue }
            for (route, destinations) in away {
                cuts.append(
                    "subnet '\(a.name)' routes \(destinations.intersection(block)) to \(route.target), not within the VPC (route table '\(table?.name ?? "main")' → \(route.destination))"
                )
            }
        }
        if from.name != to.name {
            if cuts.isEmpty { path.append("route table '\(network.routeTable(for: from.name)?.name ?? "main")' → \(to.cidr) → local") }
            cuts += aclCuts(request: (from, to.cidr, to, from.cidr), port: PortRange(port), quantifier, ephemeral: source.ephemeralPorts)
        }
        let egress = allowingRules(
            groups: source.securityGroups, egress: true, ports: PortRange(port), peerGroups: destination.securityGroups,
            peerRange: to.cidr, prefixListOf: nil, quantifier)
        if egress.isEmpty { cuts.append("no egress rule of \(groupList(source.securityGroups)) allows TCP \(port) to \(destination.owner)") }
        path += describe(egress, egress: true)
        let ingress = allowingRules(
            groups: destination.securityGroups, egress: false, ports: PortRange(port), peerGroups: source.securityGroups,
            peerRange: from.cidr, prefixListOf: nil, quantifier)
        if ingress.isEmpty { cuts.append("no ingress rule of \(groupList(destination.securityGroups)) admits TCP \(port) from \(source.owner)") }
        path += describe(ingress, egress: false)
        guard cuts.isEmpty else { return .blocked(reason: cuts.joined(separator: "; and "), path: path) }
        path.append("\(destination)")
        return .reachable(path: path)
    }

    // MARK: AWS services and the internet

    /// Can `source` reach an AWS service (`s3`, `dynamodb`, `secretsmanager`, …) on 443? For S3 and
    /// DynamoDB, `resource` is the bucket or table, which a gateway endpoint's policy must allow.
    /// `accesses` are the calls that must get through a gateway endpoint's policy (all of them).
    public func reachService(from source: Placement, service: String, resource: String? = nil, accesses: [S3Access] = []) -> Verdict {
        var path = ["\(source)"]
        let table = network.routeTable(for: source.subnet.name)
        let tableName = table?.name ?? "main"
        let anywhere = CIDR.anyIPv4

        // A gateway endpoint's prefix-list route is more specific than any default route.
        if let endpoint = network.endpoints.first(where: { $0.type == .gateway && $0.service == service && $0.routeTables.contains(tableName) }) {
            path.append("route table '\(tableName)' → prefix list of \(service) → gateway endpoint '\(endpoint.name)'")
            var cuts: [String] = []
            if case .statements(let statements) = endpoint.policy, !accesses.isEmpty {
                cuts += accesses.compactMap { PolicyEvaluation.refusal(statements, $0).map { "the policy of endpoint '\(endpoint.name)' \($0)" } }
            } else if let resource, !endpointPolicyAllows(endpoint, resource) {
                cuts.append("the policy of endpoint '\(endpoint.name)' does not allow '\(resource)'")
            }
            // The prefix list is S3's public ranges: the subnet's ACL must pass them, in and out.
            cuts += aclCuts(request: (source.subnet, anywhere, nil, anywhere), port: PortRange(443), .every, ephemeral: source.ephemeralPorts)
            let rules = allowingRules(
                groups: source.securityGroups, egress: true, ports: PortRange(443), peerGroups: [], peerRange: anywhere,
                prefixListOf: endpoint.name, .every)
            if rules.isEmpty {
                cuts.append("no egress rule of \(groupList(source.securityGroups)) allows TCP 443 to the prefix list of endpoint '\(endpoint.name)'")
            }
            path += describe(rules, egress: true)
            guard cuts.isEmpty else { return .blocked(reason: cuts.joined(separator: "; and "), path: path) }
            return .reachable(path: path + ["\(service)\(resource.map { " '\($0)'" } ?? "")"])
        }
        // An interface endpoint with private DNS answers for the service inside the VPC with the
        // addresses of all its network interfaces, and a client may use any: every one must be reachable.
        if let endpoint = network.endpoints.first(where: { $0.type == .interface && $0.service == service }) {
            let subnets = endpoint.subnets.compactMap { network.subnet($0) }
            guard !subnets.isEmpty else { return .blocked(reason: "interface endpoint '\(endpoint.name)' has no subnets", path: path) }
            var hops: [String] = []
            for subnet in subnets {
                let target = Placement(
                    kind: .endpoint, name: endpoint.name, subnet: subnet, securityGroups: endpoint.securityGroups,
                    hasPublicAddress: false, isFunction: false)
                switch reach(from: source, to: target, port: 443, .every) {
                case .reachable(let path): hops = hops.isEmpty ? path : hops
                case .blocked(let reason, let path):
                    return .blocked(
                        reason:
                            "interface endpoint '\(endpoint.name)' is not reachable in subnet '\(subnet.name)' (private DNS hands out every subnet's address): \(reason)",
                        path: path)
                }
            }
            return .reachable(path: hops + [service])
        }
        return reachInternet(from: source, purpose: service, path: path)
    }

    /// Out through the default route: a NAT gateway in a public subnet, or the internet gateway
    /// for an interface with a public address.
    func reachInternet(from source: Placement, purpose: String, path: [String], port: Int = 443) -> Verdict {
        var path = path
        let table = network.routeTable(for: source.subnet.name)
        let tableName = table?.name ?? "main"
        guard let route = bestRoute(in: table, to: CIDR.anyIPv4) else {
            return .blocked(
                reason:
                    "subnet '\(source.subnet.name)' → route table '\(tableName)' has no gateway endpoint, interface endpoint or default route for \(purpose)",
                path: path)
        }
        path.append("route table '\(tableName)' → \(route.destination) → \(route.target)")
        // Every internet address must take that way out: more specific routes that send part of the
        // internet elsewhere (two /1s to an internet gateway beside a NAT default) cut it.
        let internet = internetBeyondVPC(.v4)
        let elsewhere = routing(table, .v4).filter { $0.route.target != route.target && $0.destinations.overlaps(internet) }
        if !elsewhere.isEmpty {
            let routes = elsewhere.map { "\($0.route.destination) to \($0.route.target)" }
            return .blocked(
                reason:
                    "subnet '\(source.subnet.name)' sends part of the internet elsewhere than its default route: \(routes.joined(separator: ", "))",
                path: path)
        }
        switch route.target {
        case .natGateway(let name):
            guard let nat = network.natGateway(name), let natSubnet = network.subnet(nat.subnet) else {
                return .blocked(reason: "NAT gateway '\(name)' is not defined", path: path)
            }
            let natTable = network.routeTable(for: natSubnet.name)
            guard let natRoute = bestRoute(in: natTable, to: CIDR.anyIPv4), case .internetGateway = natRoute.target else {
                return .blocked(
                    reason: "NAT gateway '\(name)' sits in subnet '\(natSubnet.name)', whose route table has no default route to an internet gateway",
                    path: path)
            }
            path.append("NAT gateway '\(name)' in subnet '\(natSubnet.name)' → \(natRoute.target)")
            // The NAT subnet's ACL sees the request arrive from the source subnet and leave for the internet
            // (packets keep their internet destination), and the response come back the same way.
            if let blocked = aclBlocks(
                request: (natSubnet, source.subnet.cidr, nil, source.subnet.cidr), port: PortRange(port), .every,
                path: path, inbound: true, ephemeral: source.ephemeralPorts)
            {
                return blocked
            }
            if let blocked = aclBlocks(request: (natSubnet, CIDR.anyIPv4, nil, CIDR.anyIPv4), port: PortRange(port), .every, path: path) {
                return blocked
            }
        case .internetGateway:
            if source.isFunction {
                return .blocked(
                    reason: "a Lambda function never has a public address, so a route to the internet gateway gives it no internet access", path: path
                )
            }
            guard source.hasPublicAddress else {
                return .blocked(reason: "\(source.owner) has no public address, so the internet gateway cannot carry its traffic", path: path)
            }
        case .local, .gatewayEndpoint:
            return .blocked(reason: "the default route does not leave the VPC", path: path)
        }
        if let blocked = aclBlocks(
            request: (source.subnet, CIDR.anyIPv4, nil, CIDR.anyIPv4), port: PortRange(port), .every, path: path,
            ephemeral: source.ephemeralPorts)
        {
            return blocked
        }
        let rules = allowingRules(
            groups: source.securityGroups, egress: true, ports: PortRange(port), peerGroups: [], peerRange: CIDR.anyIPv4,
            prefixListOf: nil, .every)
        guard !rules.isEmpty else {
            return .blocked(reason: "no egress rule of \(groupList(source.securityGroups)) allows TCP \(port) to 0.0.0.0/0", path: path)
        }
        path += describe(rules, egress: true)
        return .reachable(path: path + [purpose])
    }

    /// Can some host on the internet open a connection to `destination` on `port`?
    public func reachFromInternet(to destination: Placement, port: Int) -> Verdict {
        var path = ["the internet"]
        let subnet = destination.subnet
        let table = network.routeTable(for: subnet.name)
        // Hosts the response can return to: internet addresses the table sends to an internet gateway.
        let viaGateway = [CIDR.Family.v4, .v6].map { internetDestinations(of: table, $0, to: Self.isInternetGateway) }
        guard let route = viaGateway.flatMap(\.routes).first else {
            return .blocked(reason: "subnet '\(subnet.name)' has no route to an internet gateway", path: path)
        }
        path.append(
            "\(route.target) ← route table '\(table?.name ?? "main")' \(viaGateway.flatMap(\.routes).map { "\($0.destination)" }.joined(separator: ", ")) (subnet '\(subnet.name)', \(subnet.type.rawValue))"
        )
        guard destination.hasPublicAddress else {
            return .blocked(reason: "\(destination.owner) has no public address", path: path)
        }
        path.append("\(destination.owner) has a public address")
        // Exposed when some internet host gets through everything at one address: routed back through
        // the gateway, its request admitted by the NACL and a security group, the response let out.
        for (family, routed) in zip([CIDR.Family.v4, .v6], viaGateway.map(\.addresses)) where !routed.isEmpty {
            var hosts = routed
            if let acl = network.networkACL(for: subnet.name) {
                let request = NetworkACLEvaluation.evaluate(acl.ingress, proto: .tcp, traffic: TrafficSet(hosts, PortSet(PortRange(port))))
                hosts = hosts.intersection(request.allowed.addresses(family))
                // Internet clients answer on ports of their own choosing: some port in 1024-65535.
                let response = NetworkACLEvaluation.evaluate(acl.egress, proto: .tcp, traffic: TrafficSet(hosts, PortSet(PortRange.ephemeral)))
                hosts = hosts.intersection(response.allowed.addresses(family))
            }
            var admitting: [(group: String, rule: SecurityGroupRule)] = []
            var admitted = AddressSet(family)
            for name in destination.securityGroups {
                for rule in network.securityGroup(name)?.ingress ?? []
                where rule.proto.matches(.tcp) && rule.proto.effectivePorts(rule.ports).contains(port) {
                    guard case .cidr(let block) = rule.peer, block.family == family else { continue }
                    let reached = AddressSet(block).intersection(hosts)
                    guard !reached.isEmpty else { continue }
                    admitted = admitted.union(reached)
                    admitting.append((name, rule))
                }
            }
            guard !admitted.isEmpty else { continue }
            path += describe(admitting, egress: false)
            return .reachable(path: path + ["\(destination) from \(admitted)"])
        }
        return .blocked(reason: "no security group or network ACL rule admits internet traffic on \(port)", path: path)
    }

    // MARK: Building blocks

    /// Every destination of `family`, split by the route a table uses for it: longest prefix match
    /// over the table's routes and the VPC's local routes, as a partition of the address space. A
    /// destination no route covers is dropped (the rest of the space, not listed).
    public func routing(_ table: RouteTable?, _ family: CIDR.Family) -> [(route: Route, destinations: AddressSet)] {
        var routes = (table?.routes ?? []).filter { $0.destination.family == family }
        for local in [network.vpc.cidr, network.vpc.ipv6].compactMap({ $0 }) where local.family == family {
            routes.append(Route(destination: local, target: .local))
        }
        var covered = AddressSet(family)
        var result: [(route: Route, destinations: AddressSet)] = []
        // The longest prefixes first: each route gets what no more specific route took.
        for route in routes.enumerated().sorted(by: {
            ($1.element.destination.prefixLength, $0.offset) < ($0.element.destination.prefixLength, $1.offset)
        }).map(\.element) {
            let block = AddressSet(route.destination)
            let own = block.subtracting(covered)
            covered = covered.union(block)
            if !own.isEmpty { result.append((route, own)) }
        }
        return result
    }

    /// Internet addresses outside the VPC's own blocks, which stay local even when they are public space.
    public func internetBeyondVPC(_ family: CIDR.Family) -> AddressSet {
        AddressSet.internet(family).subtracting(AddressSet(family, blocks: [network.vpc.cidr] + [network.vpc.ipv6].compactMap { $0 }))
    }

    /// The internet addresses a table sends to targets `matching`, and the routes that send them.
    public func internetDestinations(
        of table: RouteTable?, _ family: CIDR.Family, to matching: (RouteTarget) -> Bool
    ) -> (addresses: AddressSet, routes: [Route]) {
        let internet = AddressSet.internet(family)
        var addresses = AddressSet(family)
        var routes: [Route] = []
        for (route, destinations) in routing(table, family) where matching(route.target) {
            let reached = destinations.intersection(internet)
            guard !reached.isEmpty else { continue }
            addresses = addresses.union(reached)
            routes.append(route)
        }
        return (addresses, routes)
    }

    /// The route a table uses for `destination`: longest prefix match over its routes and the VPC's local routes.
    public func bestRoute(in table: RouteTable?, to destination: CIDR) -> Route? {
        var routes = table?.routes ?? []
        routes.append(Route(destination: network.vpc.cidr, target: .local))
        if let v6 = network.vpc.ipv6 { routes.append(Route(destination: v6, target: .local)) }
        return CIDR.longestPrefixMatch(destination, in: routes.map { ($0.destination, $0) })?.1
    }

    /// Checks the four NACL crossings of a TCP connection from `request.from` (talking to
    /// `request.toRange`) to `request.to` (seeing `request.fromRange`): the request out and in on
    /// `port`, the response out and in on the ephemeral ports. Nil when every crossing allows.
    /// `ephemeral` is the initiator's: a NAT gateway's and Lambda's are 1024-65535, a Linux host's narrower.
    func aclBlocks(
        request: (from: Subnet, toRange: CIDR, to: Subnet?, fromRange: CIDR), port: PortRange, _ quantifier: Quantifier,
        path: [String], inbound: Bool = false, ephemeral: PortRange = .ephemeral
    ) -> Verdict? {
        let cuts = aclCuts(request: request, port: port, quantifier, inbound: inbound, ephemeral: ephemeral)
        return cuts.isEmpty ? nil : .blocked(reason: cuts.joined(separator: "; and "), path: path)
    }

    /// Every crossing (of the four) that its network ACL refuses, named with the entry that refuses it.
    func aclCuts(
        request: (from: Subnet, toRange: CIDR, to: Subnet?, fromRange: CIDR), port: PortRange, _ quantifier: Quantifier,
        inbound: Bool = false, ephemeral: PortRange = .ephemeral
    ) -> [String] {
        struct Crossing { let subnet: Subnet; let egress: Bool; let ports: PortRange; let peer: CIDR; let what: String }
        var crossings: [Crossing] = []
        if !inbound {
            crossings.append(Crossing(subnet: request.from, egress: true, ports: port, peer: request.toRange, what: "request"))
            crossings.append(Crossing(subnet: request.from, egress: false, ports: ephemeral, peer: request.toRange, what: "response"))
        }
        if let to = request.to {
            crossings.append(Crossing(subnet: to, egress: false, ports: port, peer: request.fromRange, what: "request"))
            crossings.append(Crossing(subnet: to, egress: true, ports: ephemeral, peer: request.fromRange, what: "response"))
        } else if inbound {
            crossings.append(Crossing(subnet: request.from, egress: false, ports: port, peer: request.toRange, what: "request"))
            crossings.append(Crossing(subnet: request.from, egress: true, ports: ephemeral, peer: request.toRange, what: "response"))
        }
        return crossings.compactMap { crossing in
            guard let acl = network.networkACL(for: crossing.subnet.name) else { return nil }  // the default NACL allows everything
            let entries = crossing.egress ? acl.egress : acl.ingress
            let (allowed, entry) = NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: crossing.ports, range: crossing.peer, quantifier)
            guard !allowed else { return nil }
            let direction = crossing.egress ? "egress to" : "ingress from"
            let rule =
                entry.map { "rule \($0.number) (\($0.action.rawValue) \($0.proto.rawValue) \($0.ports) \($0.cidr))" } ?? "the implicit deny (*)"
            return
                "network ACL '\(acl.name)' of subnet '\(crossing.subnet.name)' blocks the \(crossing.what) (\(direction) \(crossing.peer) on \(crossing.ports)) by \(rule)"
        }
    }

    /// The rules of `groups` that allow the traffic: with `.every`, rules whose union covers every
    /// address of `peerRange` on every port asked (an allow may be split over several rules); with
    /// `.some`, one rule that admits part of it. Empty when the groups do not allow it. Security
    /// groups only allow, and a rule for all protocols covers every port whatever its range says.
    func allowingRules(
        groups: [String], egress: Bool, ports: PortRange, peerGroups: [String], peerRange: CIDR, prefixListOf endpoint: String?,
        _ quantifier: Quantifier
    ) -> [(group: String, rule: SecurityGroupRule)] {
        let family = peerRange.family
        var left = TrafficSet(AddressSet(peerRange), PortSet(ports))
        var used: [(group: String, rule: SecurityGroupRule)] = []
        for name in groups {
            guard let group = network.securityGroup(name) else { continue }
            for rule in egress ? group.egress : group.ingress where rule.proto.matches(.tcp) {
                let addresses: AddressSet
                switch rule.peer {
                // The peer's interfaces are in the group: the rule admits them at whatever address they have.
                case .securityGroup(let peer): guard peerGroups.contains(peer) else { continue }; addresses = .all(family)
                case .prefixList(let e): guard e == endpoint else { continue }; addresses = .all(family)
                case .cidr(let block): addresses = AddressSet(block)
                }
                let box = TrafficSet.Box(addresses: addresses, ports: rule.proto.effectivePorts(rule.ports))
                guard !left.intersection(box).isEmpty else { continue }
                if quantifier == .some { return [(name, rule)] }
                used.append((name, rule))
                left = left.subtracting(box)
                if left.isEmpty { return used }
            }
        }
        return []
    }

    func describe(_ rules: [(group: String, rule: SecurityGroupRule)], egress: Bool) -> [String] {
        rules.map {
            "security group '\($0.group)' \(egress ? "egress" : "ingress") \($0.rule.proto == .all ? "all ports" : "\($0.rule.ports)") \(egress ? "to" : "from") \($0.rule.peer)"
        }
    }

    func endpointPolicyAllows(_ endpoint: Endpoint, _ resource: String) -> Bool {
        switch endpoint.policy {
        case .derived, .fullAccess: return true
        case .resources(let names, _): return names.contains(resource)
        case .statements(let statements):
            return statements.contains { statement in
                statement.effect == .allow
                    && statement.resources.contains {
                        switch $0 {
                        case .any, .arn: return true
                        case .bucket(let b), .bucketObjects(let b, _), .dynamoTable(let b): return b == resource
                        default: return false
                        }
                    }
            }
        }
    }

    static func isInternetGateway(_ target: RouteTarget) -> Bool { if case .internetGateway = target { return true } else { return false } }
    static func isNATGateway(_ target: RouteTarget) -> Bool { if case .natGateway = target { return true } else { return false } }

    func groupList(_ groups: [String]) -> String {
        groups.count == 1 ? "security group '\(groups[0])'" : "security groups \(groups.map { "'\($0)'" }.joined(separator: ", "))"
    }
}
