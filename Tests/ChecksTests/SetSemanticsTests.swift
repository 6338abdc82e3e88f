import Foundation
import SluiceCore
import SpecLoader
import TestSupport
import Testing

@testable import Checks

/// The network checks reason on sets, as AWS evaluates routes, security groups and network ACLs:
/// unions of rules, first-match over what earlier entries left, longest-prefix match over the
/// whole address space. Each unsafe case has a working twin that must stay clean.
@Suite struct SetSemanticsTests {
    // MARK: The sets, against a brute-force twin

    @Test func intervalSetsAgreeWithPlainSets() {
        var random = SplitMix64(state: 17)
        func draw() -> (PortSet, Set<Int>) {
            let ranges = (0..<Int.random(in: 0...4, using: &random)).map { _ -> ClosedRange<Int> in
                let low = Int.random(in: 0...63, using: &random)
                return low...min(63, low + Int.random(in: 0...12, using: &random))
            }
            return (PortSet(ranges), Set(ranges.flatMap { Array($0) }))
        }
        for _ in 0..<2000 {
            let (a, plainA) = draw(), (b, plainB) = draw()
            #expect(Set(a.union(b).intervals.flatMap { Array($0) }) == plainA.union(plainB))
            #expect(Set(a.intersection(b).intervals.flatMap { Array($0) }) == plainA.intersection(plainB))
            #expect(Set(a.subtracting(b).intervals.flatMap { Array($0) }) == plainA.subtracting(plainB))
            #expect(a.isSuperset(of: b) == plainA.isSuperset(of: plainB))
            #expect((0...63).allSatisfy { a.contains($0) == plainA.contains($0) })
            // Normal form: sorted, disjoint, never adjacent.
            #expect(zip(a.intervals, a.intervals.dropFirst()).allSatisfy { $0.upperBound + 1 < $1.lowerBound })
        }
    }

    @Test func addressSetsAreTheFewestAlignedBlocks() throws {
        let halves = AddressSet(.v4, blocks: [try CIDR(parsing: "0.0.0.0/1"), try CIDR(parsing: "128.0.0.0/1")])
        #expect(halves == AddressSet.all(.v4))
        #expect(halves.blocks == [CIDR.anyIPv4])
        let odd = AddressSet(.v4, IntervalSet(UInt128(0x0A00_0001)...UInt128(0x0A00_000A)))  // 10.0.0.1-10.0.0.10
        #expect(odd.blocks.map(\.description) == ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31", "10.0.0.10/32"])
        #expect(AddressSet.all(.v6).blocks == [CIDR.anyIPv6])
        #expect(AddressSet.internet(.v4).overlaps(AddressSet(try CIDR(parsing: "8.8.8.0/24"))))
        #expect(!AddressSet.internet(.v4).overlaps(AddressSet(try CIDR(parsing: "10.1.0.0/16"))))
        var random = SplitMix64(state: 5)
        for _ in 0..<500 {
            let low = UInt128(UInt32.random(in: 0...UInt32.max, using: &random))
            let high = min(UInt128(UInt32.max), low + UInt128(UInt32.random(in: 0...1_000_000, using: &random)))
            let set = AddressSet(.v4, IntervalSet(low...high))
            let blocks = set.blocks
            #expect(AddressSet(.v4, blocks: blocks) == set)
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.lastAddress + 1 == $1.firstAddress })
        }
    }

    // MARK: Network ACLs: first match over sets, against one packet at a time

    /// AWS's documented evaluation of one packet: entries in ascending number, the first whose
    /// protocol, port and block match decides; otherwise the final `*` denies.
    static func concreteACL(_ entries: [NetworkACLEntry], address: UInt128, port: Int) -> Bool {
        for entry in entries.sorted(by: { $0.number < $1.number }) where entry.proto.matches(.tcp) {
            let ports = entry.proto == .all ? PortRange.all : entry.ports
            if entry.cidr.firstAddress <= address && address <= entry.cidr.lastAddress && ports.contains(port: port) { return entry.action == .allow }
        }
        return false
    }

    /// Whether every packet of `block` × `ports` is allowed, whether some is, and how many were followed.
    static func followEveryPacket(_ block: CIDR, _ ports: PortRange, _ allowed: (UInt128, Int) -> Bool) -> (all: Bool, any: Bool, packets: Int) {
        var all = true, any = false, packets = 0
        for address in block.firstAddress...block.lastAddress {
            for port in ports.from...ports.to {
                let passes = allowed(address, port)
                all = all && passes
                any = any || passes
                packets += 1
            }
        }
        return (all, any, packets)
    }

    @Test func networkACLsOnSetsAgreeWithOnePacketAtATime() throws {
        var random = SplitMix64(state: 99)
        var cases = 0, packets = 0
        let base = UInt128(0x0A00_0000)  // 10.0.0.0/24: small enough to follow every packet
        for _ in 0..<400 {
            let entries = (0..<Int.random(in: 0...6, using: &random)).map { index -> NetworkACLEntry in
                let prefix = Int.random(in: 24...32, using: &random)
                let block = CIDR(family: .v4, network: base + UInt128(Int.random(in: 0...255, using: &random)), prefixLength: prefix)
                let low = Int.random(in: 0...20, using: &random)
                return NetworkACLEntry(
                    number: 100 + 10 * Int.random(in: 0...20, using: &random) + index,
                    proto: [.tcp, .tcp, .udp, .all].randomElement(using: &random)!,
                    ports: PortRange(low, low + Int.random(in: 0...10, using: &random)), cidr: block,
                    action: Bool.random(using: &random) ? .allow : .deny)
            }
            let queryBlock = CIDR(
                family: .v4, network: base + UInt128(Int.random(in: 0...255, using: &random)), prefixLength: Int.random(in: 27...32, using: &random))
            let low = Int.random(in: 0...25, using: &random)
            let ports = PortRange(low, low + Int.random(in: 0...8, using: &random))
            let (all, any, followed) = Self.followEveryPacket(queryBlock, ports) { Self.concreteACL(entries, address: $0, port: $1) }
            packets += followed
            let every = NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: ports, range: queryBlock, .every)
            let some = NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: ports, range: queryBlock, .some)
            #expect(every.allowed == all, "\(entries) \(queryBlock) \(ports)")
            #expect(some.allowed == any, "\(entries) \(queryBlock) \(ports)")
            cases += 1
        }
        print("network ACL differential: \(cases) rule sets, \(packets) packets followed one at a time")
    }

    @Test func routingPartitionAgreesWithLongestPrefixMatchPerAddress() throws {
        var random = SplitMix64(state: 41)
        var addresses = 0
        for _ in 0..<200 {
            let targets: [RouteTarget] = [.internetGateway("igw"), .natGateway("nat"), .natGateway("other")]
            let routes = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                Route(
                    destination: CIDR(
                        family: .v4, network: UInt128(UInt32.random(in: 0...UInt32.max, using: &random)),
                        prefixLength: Int.random(in: 0...24, using: &random)),
                    target: targets.randomElement(using: &random)!)
            }
            // AWS refuses two routes for one destination: keep the first.
            var seen = Set<CIDR>()
            let table = RouteTable(name: "t", subnets: ["etl"], routes: routes.filter { seen.insert($0.destination).inserted })
            let engine = ReachabilityEngine(spec: Engine.spec(routes: [table]))
            let partition = engine.routing(table, .v4)
            for _ in 0..<50 {
                let address = UInt128(UInt32.random(in: 0...UInt32.max, using: &random))
                let host = CIDR(family: .v4, network: address, prefixLength: 32)
                let concrete = engine.bestRoute(in: table, to: host)
                let fromSets = partition.first { $0.destinations.contains(address) }?.route
                #expect(concrete?.destination == fromSets?.destination && concrete?.target == fromSets?.target, "\(table.routes) \(host)")
                addresses += 1
            }
        }
        print("route differential: 200 tables, \(addresses) addresses")
    }

    @Test func securityGroupUnionsAgreeWithOnePacketAtATime() throws {
        var random = SplitMix64(state: 7)
        let base = UInt128(0x0A00_0100)  // 10.0.1.0/24
        for _ in 0..<300 {
            let rules = (0..<Int.random(in: 0...5, using: &random)).map { _ -> SecurityGroupRule in
                let low = Int.random(in: 0...20, using: &random)
                return SecurityGroupRule(
                    proto: [.tcp, .tcp, .udp, .all].randomElement(using: &random)!,
                    ports: PortRange(low, low + Int.random(in: 0...8, using: &random)),
                    peer: .cidr(
                        CIDR(
                            family: .v4, network: base + UInt128(Int.random(in: 0...255, using: &random)),
                            prefixLength: Int.random(in: 25...32, using: &random))))
            }
            var spec = Engine.spec()
            spec.network.securityGroups.append(SecurityGroup(name: "g", description: "", egress: rules))
            let engine = ReachabilityEngine(spec: spec)
            let query = CIDR(
                family: .v4, network: base + UInt128(Int.random(in: 0...255, using: &random)), prefixLength: Int.random(in: 28...32, using: &random))
            let low = Int.random(in: 0...24, using: &random)
            let ports = PortRange(low, low + Int.random(in: 0...4, using: &random))
            let (all, any, _) = Self.followEveryPacket(query, ports) { address, port in
                rules.contains { rule in
                    guard rule.proto.matches(.tcp), case .cidr(let block) = rule.peer else { return false }
                    return (rule.proto == .all || rule.ports.contains(port: port)) && block.firstAddress <= address && address <= block.lastAddress
                }
            }
            let every = engine.allowingRules(groups: ["g"], egress: true, ports: ports, peerGroups: [], peerRange: query, prefixListOf: nil, .every)
            let some = engine.allowingRules(groups: ["g"], egress: true, ports: ports, peerGroups: [], peerRange: query, prefixListOf: nil, .some)
            #expect(!every.isEmpty == all, "\(rules) \(query) \(ports)")
            #expect(!some.isEmpty == any, "\(rules) \(query) \(ports)")
        }
    }

    @Test func anAllowSplitOverSeveralEntriesIsAnAllow() throws {
        func entry(_ number: Int, _ ports: PortRange, _ cidr: String) throws -> NetworkACLEntry {
            NetworkACLEntry(number: number, proto: .tcp, ports: ports, cidr: try CIDR(parsing: cidr), action: .allow)
        }
        let split = [try entry(100, PortRange(1024, 32767), "0.0.0.0/0"), try entry(110, PortRange(32768, 65535), "0.0.0.0/0")]
        #expect(NetworkACLEvaluation.evaluate(split, proto: .tcp, ports: .ephemeral, range: .anyIPv4, .every).allowed)
        let halves = [try entry(100, PortRange(443), "0.0.0.0/1"), try entry(110, PortRange(443), "128.0.0.0/1")]
        #expect(NetworkACLEvaluation.evaluate(halves, proto: .tcp, ports: PortRange(443), range: .anyIPv4, .every).allowed)
        // The twin with a gap is refused, naming the final deny.
        let gap = [try entry(100, PortRange(1024, 32767), "0.0.0.0/0"), try entry(110, PortRange(32769, 65535), "0.0.0.0/0")]
        let refused = NetworkACLEvaluation.evaluate(gap, proto: .tcp, ports: .ephemeral, range: .anyIPv4, .every)
        #expect(!refused.allowed && refused.entry == nil)
    }

    // MARK: Security groups: the union of their rules

    typealias Engine = ReachabilityEngineTests

    @Test func aSecurityGroupAllowIsTheUnionOfItsRules() throws {
        func reaches(_ egress: [SecurityGroupRule]) -> Bool {
            let engine = ReachabilityEngine(spec: Engine.spec(etlEgress: egress))
            let etl = Placement(
                kind: .function, name: "etl", subnet: engine.spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false,
                isFunction: true)
            let db = Placement(
                kind: .host, name: "db", subnet: engine.spec.network.subnet("db")!, securityGroups: ["dw"], hasPublicAddress: false, isFunction: false
            )
            return engine.reach(from: etl, to: db, port: 5432, .every).isReachable
        }
        let halves = [
            SecurityGroupRule(ports: PortRange(5432), peer: .cidr(try CIDR(parsing: "10.0.2.0/25"))),
            SecurityGroupRule(ports: PortRange(5432), peer: .cidr(try CIDR(parsing: "10.0.2.128/25"))),
        ]
        #expect(reaches(halves))
        #expect(reaches([SecurityGroupRule(ports: PortRange(5432), peer: .cidr(try CIDR(parsing: "10.0.2.0/24")))]))
        #expect(!reaches([halves[0]]), "half the warehouse subnet is not every address of it")
        // All protocols: every port, whatever the port says (the template renders IpProtocol -1).
        #expect(reaches([SecurityGroupRule(proto: .all, ports: PortRange(443), peer: .cidr(try CIDR(parsing: "10.0.2.0/24")))]))
        #expect(!reaches([SecurityGroupRule(proto: .udp, ports: PortRange(5432), peer: .cidr(try CIDR(parsing: "10.0.2.0/24")))]))
    }

    @Test func returnTrafficUsesTheInitiatorsEphemeralPorts() throws {
        // The database subnet's ACL answers on Linux's range only: enough for a host, not for Lambda.
        let acl = NetworkACL(
            name: "db-acl", subnets: ["db"],
            ingress: [NetworkACLEntry(number: 100, proto: .tcp, ports: PortRange(5432), cidr: try CIDR(parsing: "10.0.1.0/24"), action: .allow)],
            egress: [
                NetworkACLEntry(number: 100, proto: .tcp, ports: PortRange(32768, 61000), cidr: try CIDR(parsing: "10.0.1.0/24"), action: .allow)
            ])
        let engine = ReachabilityEngine(spec: Engine.spec(acls: [acl]))
        let db = Placement(
            kind: .host, name: "db", subnet: engine.spec.network.subnet("db")!, securityGroups: ["dw"], hasPublicAddress: false, isFunction: false)
        let function = Placement(
            kind: .function, name: "etl", subnet: engine.spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false,
            isFunction: true)
        let host = Placement(
            kind: .host, name: "etl", subnet: engine.spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false, isFunction: false)
        #expect(engine.reach(from: host, to: db, port: 5432, .every).isReachable)
        guard case .blocked(let reason, _) = engine.reach(from: function, to: db, port: 5432, .every) else {
            Issue.record("Lambda answers on 1024-65535"); return
        }
        #expect(reason.contains("blocks the response"), "\(reason)")
    }

    @Test func everySubnetOfAnInterfaceEndpointMustBeReachable() throws {
        func spec(_ acls: [NetworkACL]) -> Spec {
            var spec = Engine.spec(
                acls: acls,
                endpoints: [
                    Endpoint(name: "sm", service: "secretsmanager", type: .interface, subnets: ["etl", "db"], securityGroups: ["endpoints"])
                ],
                etlEgress: [SecurityGroupRule(ports: PortRange(443), peer: .securityGroup("endpoints"))])
            spec.network.securityGroups.append(
                SecurityGroup(name: "endpoints", description: "", ingress: [SecurityGroupRule(ports: PortRange(443), peer: .securityGroup("etl"))]))
            return spec
        }
        let open = ReachabilityEngine(spec: spec([]))
        let etl = Placement(
            kind: .function, name: "etl", subnet: open.spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false, isFunction: true
        )
        #expect(open.reachService(from: etl, service: "secretsmanager").isReachable)
        // The endpoint's interface in 'db' sits behind an ACL that admits only 5432: private DNS may hand out its address.
        let dbACL = NetworkACL(
            name: "db-acl", subnets: ["db"],
            ingress: [NetworkACLEntry(number: 100, proto: .tcp, ports: PortRange(5432), cidr: try CIDR(parsing: "10.0.0.0/16"), action: .allow)],
            egress: [NetworkACLEntry(number: 100, proto: .tcp, ports: .ephemeral, cidr: try CIDR(parsing: "10.0.0.0/16"), action: .allow)])
        let halfway = ReachabilityEngine(spec: spec([dbACL]))
        guard case .blocked(let reason, _) = halfway.reachService(from: etl, service: "secretsmanager") else {
            Issue.record("one unreachable interface is enough to fail"); return
        }
        #expect(reason.hasPrefix("interface endpoint 'sm' is not reachable in subnet 'db'"), "\(reason)")
    }

    @Test func aBlockedAnswerNamesEveryCut() throws {
        // The ACL forgets the response, and the function's group never allows 5432: two settings to change.
        let acl = NetworkACL(
            name: "etl-acl", subnets: ["etl"], ingress: [],
            egress: [NetworkACLEntry(number: 100, proto: .tcp, ports: PortRange(5432), cidr: try CIDR(parsing: "10.0.2.0/24"), action: .allow)])
        let engine = ReachabilityEngine(spec: Engine.spec(acls: [acl], etlEgress: []))
        let etl = Placement(
            kind: .function, name: "etl", subnet: engine.spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false,
            isFunction: true)
        let db = Placement(
            kind: .host, name: "db", subnet: engine.spec.network.subnet("db")!, securityGroups: ["dw"], hasPublicAddress: false, isFunction: false)
        guard case .blocked(let reason, _) = engine.reach(from: etl, to: db, port: 5432, .every) else { Issue.record("expected blocked"); return }
        let cuts = reason.components(separatedBy: "; and ")
        #expect(cuts.count == 2, "\(reason)")
        #expect(
            cuts[0].hasPrefix("network ACL 'etl-acl' of subnet 'etl' blocks the response")
                && cuts[1].hasPrefix("no egress rule of security group 'etl'"))
    }

    @Test func aRouteForPartOfASubnetCutsPartOfIt() throws {
        let tables = [
            RouteTable(name: "etl", subnets: ["etl"], routes: [Route(destination: try CIDR(parsing: "10.0.2.0/25"), target: .natGateway("nat"))]),
            RouteTable(name: "db", subnets: ["db"], routes: []),
        ]
        let engine = ReachabilityEngine(spec: Engine.spec(routes: tables))
        let etl = Placement(
            kind: .function, name: "etl", subnet: engine.spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false,
            isFunction: true)
        let db = Placement(
            kind: .host, name: "db", subnet: engine.spec.network.subnet("db")!, securityGroups: ["dw"], hasPublicAddress: false, isFunction: false)
        guard case .blocked(let reason, _) = engine.reach(from: etl, to: db, port: 5432, .every) else {
            Issue.record("half the subnet leaves the VPC"); return
        }
        #expect(reason.hasPrefix("subnet 'etl' routes 10.0.2.0/25 to NAT gateway 'nat', not within the VPC"), "\(reason)")
        #expect(engine.reach(from: etl, to: db, port: 5432, .some).isReachable, "the other half stays local")
    }

    // MARK: Routes: longest-prefix match over the whole space

    static func spec(_ type: SubnetType, routes: [Route], nat: Bool = false) -> Spec {
        var spec = Engine.spec(routes: [
            RouteTable(name: "public", subnets: ["pub"], routes: [Route(destination: .anyIPv4, target: .internetGateway("igw"))]),
            RouteTable(name: "work", subnets: ["etl"], routes: routes),
        ])
        spec.network.subnets = spec.network.subnets.map { subnet in
            var subnet = subnet
            if subnet.name == "etl" { subnet.type = type }
            return subnet
        }
        if nat { spec.network.natGateways = [NATGateway(name: "nat", subnet: "pub")] }
        return spec
    }

    static func findings(_ rule: some Rule, _ spec: Spec) -> [String] { rule.check(CheckContext(spec: spec)).map(\.message) }

    @Test func twoHalvesToAnInternetGatewayAreADefaultRoute() throws {
        let halves = [
            Route(destination: try CIDR(parsing: "0.0.0.0/1"), target: .internetGateway("igw")),
            Route(destination: try CIDR(parsing: "128.0.0.0/1"), target: .internetGateway("igw")),
        ]
        #expect(
            Self.findings(PrivateDefaultRouteRule(), Self.spec(.isolated, routes: halves))
                == ["isolated subnet 'etl' sends every internet address to an internet gateway (routes 0.0.0.0/1, 128.0.0.0/1)"])
        #expect(Self.findings(PrivateDefaultRouteRule(), Self.spec(.public, routes: halves)).isEmpty, "a public subnet may")
        // A private block sent to the gateway goes nowhere, but sends no internet address there.
        #expect(
            Self.findings(
                PrivateDefaultRouteRule(),
                Self.spec(.isolated, routes: [Route(destination: try CIDR(parsing: "192.168.0.0/16"), target: .internetGateway("igw"))])
            ).isEmpty)
        // One public /24 is still some of the internet.
        #expect(
            Self.findings(
                PrivateDefaultRouteRule(),
                Self.spec(
                    .private,
                    routes: [
                        Route(destination: .anyIPv4, target: .natGateway("nat")),
                        Route(destination: try CIDR(parsing: "8.8.8.0/24"), target: .internetGateway("igw")),
                    ], nat: true))
                == ["private subnet 'etl' sends internet addresses to an internet gateway (route 8.8.8.0/24)"])
    }

    @Test func aSplitBesideANATDefaultOverridesTheNAT() throws {
        let nat = Route(destination: .anyIPv4, target: .natGateway("nat"))
        let split = [
            nat, Route(destination: try CIDR(parsing: "0.0.0.0/1"), target: .internetGateway("igw")),
            Route(destination: try CIDR(parsing: "128.0.0.0/1"), target: .internetGateway("igw")),
        ]
        let egress = Self.findings(PrivateSubnetEgressRule(), Self.spec(.private, routes: split, nat: true))
        #expect(egress.count == 1 && egress[0].hasPrefix("private subnet 'etl' sends none of the internet through its NAT gateway"), "\(egress)")
        #expect(Self.findings(PrivateDefaultRouteRule(), Self.spec(.private, routes: split, nat: true)).count == 1)
        #expect(Self.findings(PrivateSubnetEgressRule(), Self.spec(.private, routes: [nat], nat: true)).isEmpty)
        let part = Self.findings(PrivateSubnetEgressRule(), Self.spec(.private, routes: [nat, split[1]], nat: true))
        #expect(part.count == 1 && part[0].hasPrefix("private subnet 'etl' sends only part of the internet through its NAT gateway"), "\(part)")
        // The same split to the NAT is the NAT's whole internet.
        let toNAT = [
            Route(destination: try CIDR(parsing: "0.0.0.0/1"), target: .natGateway("nat")),
            Route(destination: try CIDR(parsing: "128.0.0.0/1"), target: .natGateway("nat")),
        ]
        #expect(Self.findings(PrivateSubnetEgressRule(), Self.spec(.private, routes: toNAT, nat: true)).isEmpty)
    }

    @Test func aSplitBesideANATDefaultCutsAFunctionsInternet() throws {
        let nat = Route(destination: .anyIPv4, target: .natGateway("nat"))
        let half = Route(destination: try CIDR(parsing: "128.0.0.0/1"), target: .internetGateway("igw"))
        func verdict(_ routes: [Route]) -> Verdict {
            var spec = Self.spec(.private, routes: routes, nat: true)
            spec.network.securityGroups[0].egress = [SecurityGroupRule(ports: PortRange(443), peer: .cidr(.anyIPv4))]
            let engine = ReachabilityEngine(spec: spec)
            let etl = Placement(
                kind: .function, name: "etl", subnet: spec.network.subnet("etl")!, securityGroups: ["etl"], hasPublicAddress: false, isFunction: true)
            return engine.reachService(from: etl, service: "sns")
        }
        #expect(verdict([nat]).isReachable)
        guard case .blocked(let reason, _) = verdict([nat, half]) else {
            Issue.record("half the internet goes to a gateway a function cannot use"); return
        }
        #expect(reason.contains("sends part of the internet elsewhere than its default route: 128.0.0.0/1 to internet gateway 'igw'"), "\(reason)")
    }

    @Test func exposureSeesSplitRoutesToTheGateway() throws {
        let halves = [
            Route(destination: try CIDR(parsing: "0.0.0.0/1"), target: .internetGateway("igw")),
            Route(destination: try CIDR(parsing: "128.0.0.0/1"), target: .internetGateway("igw")),
        ]
        var spec = Self.spec(.public, routes: halves)
        spec.network.securityGroups.append(
            SecurityGroup(
                name: "web", description: "", ingress: [SecurityGroupRule(ports: PortRange(5432), peer: .cidr(try CIDR(parsing: "0.0.0.0/1")))]))
        let engine = ReachabilityEngine(spec: spec)
        let host = Placement(
            kind: .host, name: "h", subnet: spec.network.subnet("etl")!, securityGroups: ["web"], hasPublicAddress: true, isFunction: false)
        #expect(engine.reachFromInternet(to: host, port: 5432).isReachable)
        #expect(!engine.reachFromInternet(to: host, port: 22).isReachable)
        // Its twin: the only route to the gateway covers addresses the group does not admit.
        let elsewhere = ReachabilityEngine(
            spec: {
                var s = spec; s.network.routeTables[1].routes = [halves[1]]; return s
            }())
        #expect(!elsewhere.reachFromInternet(to: host, port: 5432).isReachable)
    }

    // MARK: Exposure: a group's rules together, port by port

    static func exposure(_ rules: [SecurityGroupRule], warehousePort: Int? = nil) -> [String] {
        var spec = Engine.spec()
        spec.network.securityGroups.append(SecurityGroup(name: "admin", description: "", ingress: rules))
        if let warehousePort {
            spec.warehouse = Warehouse(
                name: "dw", engine: .rds(instanceClass: "db.t4g.micro"), subnets: ["db"], securityGroups: ["dw"], port: warehousePort,
                database: "dw", credentialsSecret: "dw", clients: [], schemas: ["public"])
        }
        return findings(OpenAdminPortRule(), spec)
    }

    @Test func openAdminPortsAreJudgedOnTheUnionOfRules() throws {
        let halves = [
            SecurityGroupRule(ports: PortRange(22), peer: .cidr(try CIDR(parsing: "0.0.0.0/1"))),
            SecurityGroupRule(ports: PortRange(22), peer: .cidr(try CIDR(parsing: "128.0.0.0/1"))),
        ]
        #expect(Self.exposure(halves) == ["security group 'admin' admits the whole internet (0.0.0.0/1 + 128.0.0.0/1) on 22 (SSH)"])
        #expect(Self.exposure([halves[0]]) == ["security group 'admin' admits 0.0.0.0/1 on 22 (SSH)"], "half the internet is the world to a scanner")
        #expect(
            Self.exposure([SecurityGroupRule(ports: PortRange(22), peer: .cidr(try CIDR(parsing: "198.51.100.0/24")))]).isEmpty, "one office's block")
        #expect(Self.exposure([SecurityGroupRule(ports: PortRange(22), peer: .cidr(try CIDR(parsing: "10.0.0.0/8")))]).isEmpty, "private addresses")
        // All protocols with a port: every port is open, 22 among them.
        let all = Self.exposure([SecurityGroupRule(proto: .all, ports: PortRange(443), peer: .cidr(.anyIPv4))])
        #expect(all.count == 1 && all[0].contains("22 (SSH)") && all[0].contains("5432 (PostgreSQL)"), "\(all)")
        #expect(
            Self.exposure([SecurityGroupRule(proto: .udp, ports: PortRange(5432), peer: .cidr(.anyIPv4))]).isEmpty, "UDP is not a database exposure")
        // The warehouse's own port is a database port.
        #expect(
            Self.exposure([SecurityGroupRule(ports: PortRange(6543), peer: .cidr(.anyIPv4))], warehousePort: 6543)
                == ["security group 'admin' admits 0.0.0.0/0 on 6543 (warehouse 'dw')"])
        #expect(Self.exposure([SecurityGroupRule(ports: PortRange(6543), peer: .cidr(.anyIPv4))]).isEmpty)
    }
}

/// Endpoint policies on IAM's evaluation logic: explicit deny first, then an allow covering every
/// call a pipeline makes; action and ARN wildcards; `s3:prefix`.
@Suite struct PolicyEvaluationTests {
    static func allow(
        _ actions: [String], _ resources: [IAMResource], sid: String? = nil, conditions: [String: [String: [String]]] = [:]
    ) -> PolicyStatement {
        PolicyStatement(sid: sid, effect: .allow, actions: actions, resources: resources, conditions: conditions)
    }
    static func deny(_ actions: [String], _ resources: [IAMResource], sid: String) -> PolicyStatement {
        PolicyStatement(sid: sid, effect: .deny, actions: actions, resources: resources)
    }
    static let reading = S3Access.reading("raw", prefix: "events/")

    static func allows(_ statements: [PolicyStatement], _ accesses: [S3Access] = reading) -> Bool {
        accesses.allSatisfy { if case .allowed = PolicyEvaluation.evaluate(statements, $0) { return true } else { return false } }
    }

    @Test func everyCallMustBeAllowed() {
        let readable = [Self.allow(["s3:GetObject", "s3:ListBucket"], [.arn("arn:aws:s3:::raw"), .arn("arn:aws:s3:::raw/*")])]
        #expect(Self.allows(readable))
        #expect(!Self.allows([Self.allow(["s3:PutObject"], [.arn("arn:aws:s3:::raw/*")])]), "an endpoint for writes only")
        #expect(!Self.allows([Self.allow(["s3:GetObject"], [.arn("arn:aws:s3:::raw/*")])]), "reads without the listing")
        #expect(Self.allows([Self.allow(["s3:Get*", "s3:List*"], [.any])]), "action patterns cover")
        #expect(
            Self.allows([Self.allow(["S3:getobject", "s3:listbucket"], [.bucket("raw"), .bucketObjects("raw", prefix: "events/")])]),
            "actions are case-insensitive")
        #expect(
            !Self.allows([Self.allow(["s3:GetObject", "s3:ListBucket"], [.bucket("raw"), .bucketObjects("raw", prefix: "archive/")])]),
            "another prefix")
        #expect(
            !Self.allows([Self.allow(["s3:GetObject", "s3:ListBucket"], [.arn("arn:aws:s3:::raw"), .arn("arn:aws:s3:::raw/events/2026/*")])]),
            "part of the prefix is not all of it")
    }

    @Test func anExplicitDenyOfPartOfThePrefixWins() {
        let everything = Self.allow(["s3:*"], [.any])
        guard
            case .denied(let statement) = PolicyEvaluation.evaluate(
                [everything, Self.deny(["s3:GetObject"], [.arn("arn:aws:s3:::raw/events/2026/*")], sid: "NoThisYear")],
                Self.reading[1])
        else { Issue.record("a deny of part of the prefix refuses the read"); return }
        #expect(statement.sid == "NoThisYear")
        #expect(Self.allows([everything, Self.deny(["s3:GetObject"], [.arn("arn:aws:s3:::raw/archive/*")], sid: "Archive")]), "a deny elsewhere")
        #expect(Self.allows([everything, Self.deny(["s3:DeleteObject"], [.any], sid: "NoDeletes")]), "a deny of other actions")
        #expect(!Self.allows([everything, Self.deny(["s3:*"], [.bucket("raw")], sid: "NoListing")]))
    }

    @Test func theListingPrefixConditionIsEvaluated() {
        let objects = Self.allow(["s3:GetObject"], [.bucketObjects("raw", prefix: "events/")])
        let listing = { (values: [String]) in Self.allow(["s3:ListBucket"], [.bucket("raw")], conditions: ["StringLike": ["s3:prefix": values]]) }
        #expect(Self.allows([objects, listing(["events/*"])]))
        #expect(!Self.allows([objects, listing(["archive/*"])]))
        // Another condition key cannot be judged before deploy: an allow is taken as granted.
        #expect(
            Self.allows([objects, Self.allow(["s3:ListBucket"], [.bucket("raw")], conditions: ["StringEquals": ["aws:SourceVpce": ["vpce-1"]]])]))
    }

    @Test func globsAgreeWithARegularExpression() throws {
        var random = SplitMix64(state: 3)
        func draw(_ alphabet: [Character], _ length: Int) -> String {
            String((0..<Int.random(in: 0...length, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        }
        for _ in 0..<3000 {
            let pattern = draw(["a", "b", "*", "?"], 6), text = draw(["a", "b"], 8)
            let regex = try Regex("^" + pattern.map { $0 == "*" ? ".*" : $0 == "?" ? "." : String($0) }.joined() + "$")
            #expect(PolicyEvaluation.glob(pattern, matches: text) == (text.wholeMatch(of: regex) != nil), "\(pattern) \(text)")
        }
    }
}

@Suite struct BlockedCutTests {
    @Test func oneCutIsOneFindingAndDifferentCutsStayApart() {
        let answers: [(source: String, target: String?, verdict: Verdict)] = [
            ("etl-a", "db", .blocked(reason: "no egress rule", path: ["a"])),
            ("etl-b", "db", .blocked(reason: "no egress rule", path: ["b"])),
            ("etl-c", "db", .blocked(reason: "network ACL 'c' blocks the response", path: ["c"])),
            ("etl-d", "db", .reachable(path: [])),
        ]
        let cuts = BlockedCut.gather(answers)
        #expect(cuts.map(\.reason) == ["no egress rule", "network ACL 'c' blocks the response"])
        #expect(cuts[0].sources == ["etl-a", "etl-b"] && cuts[0].targets == ["db"] && cuts[0].path == ["a"])
        #expect(BlockedCut.subnets(cuts[0].sources) == "subnets 'etl-a', 'etl-b'" && BlockedCut.subnets(cuts[1].sources) == "subnet 'etl-c'")
    }
}

@Suite struct WarehouseCIDRAdmissionTests {
    /// The SL214 fixture with the warehouse admitting `cidrs` on 5432, and neither the load
    /// balancer's group nor the bastion host.
    static func findings(admitting cidrs: [String]) throws -> [String] {
        var text = try String(contentsOf: packageRoot.appendingPathComponent("specs/invalid/SL214-warehouse-clients-only.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(
            of: "        - { port: 5432, cidr: 10.0.0.0/16 }\n        - { port: 5432, security_group: lb }\n",
            with: cidrs.map { "        - { port: 5432, cidr: \($0) }\n" }.joined())
        text = text.replacingOccurrences(
            of: "    - { name: bastion, instance_type: t3.micro, subnet: etl-a, security_groups: [bastion] }\n", with: "")
        let spec = try #require(SpecLoader.load(path: "admission.yaml") { _ in Array(text.utf8) }.spec)
        return WarehouseClientsOnlyRule().check(CheckContext(spec: spec)).map(\.message)
    }

    @Test func aCIDRBeyondTheClientsSubnetsAdmitsInterfacesNobodyDeclared() throws {
        let wide = try Self.findings(admitting: ["10.0.0.0/16"])
        #expect(wide.count == 1 && wide[0].contains("every network interface in it outside the clients' subnets can connect"), "\(wide)")
        let public_ = try Self.findings(admitting: ["10.0.1.0/24", "10.0.2.0/24", "10.0.0.0/24"])
        #expect(
            public_ == [
                "security group 'dw' admits 10.0.0.0/24 on port 5432: every network interface in 10.0.0.0/24 can connect, those on the VPC's default security group among them; admit the clients by security group"
            ])
        // The twin: exactly the clients' subnets.
        #expect(try Self.findings(admitting: ["10.0.1.0/24", "10.0.2.0/24"]).isEmpty)
    }
}

@Suite struct WarehouseHostBootstrapPolicyTests {
    /// A clean spec whose S3 endpoint has a policy written in the spec, allowing `statements`.
    static func findings(_ statements: String) throws -> (bootstrap: [String], scope: [String]) {
        var text = try String(contentsOf: packageRoot.appendingPathComponent("specs/invalid/SL216-warehouse-host-bootstrap.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(
            of: "      egress: []\n    - name: endpoints",
            with: "      egress: [{ port: 443, prefix_list: s3 }, { port: 443, security_group: endpoints }]\n    - name: endpoints")
        text = text.replacingOccurrences(
            of: "        - { port: 443, security_group: etl }\n",
            with: "        - { port: 443, security_group: etl }\n        - { port: 443, security_group: dw }\n")
        text = text.replacingOccurrences(
            of: "    - { name: s3, service: s3 }\n", with: "    - name: s3\n      service: s3\n      policy:\n        statements:\n" + statements)
        let spec = try #require(SpecLoader.load(path: "policy.yaml") { _ in Array(text.utf8) }.spec)
        let context = CheckContext(spec: spec)
        return (WarehouseHostBootstrapRule().check(context).map(\.message), EndpointPolicyScopeRule().check(context).map(\.message))
    }

    /// The host's first boot through a policy the spec writes: both AWS buckets must be allowed, with
    /// the actions the bootstrap uses; naming them is not a scope error.
    @Test func aWrittenEndpointPolicyMustAdmitTheRepositoryAndTheSignal() throws {
        let repository =
            "          - { effect: allow, actions: [\"s3:GetObject\"], resources: [\"arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*\"] }\n"
        let signal =
            "          - { effect: allow, actions: [\"s3:PutObject\"], resources: [\"arn:aws:s3:::cloudformation-waitcondition-eu-west-1/*\"] }\n"
        let both = try Self.findings(repository + signal)
        #expect(both.bootstrap.isEmpty, "\(both.bootstrap)")
        #expect(both.scope.isEmpty, "\(both.scope)")
        let onlyPackages = try Self.findings(repository)
        #expect(
            onlyPackages.bootstrap == [
                "warehouse host 'warehouse' cannot reach the package repositories and the stack's signal in S3 at first boot from subnet 'db': the policy of endpoint 's3' allows no s3:PutObject on 'cloudformation-waitcondition-eu-west-1/*'"
            ])
        let wrongAction = try Self.findings(
            "          - { effect: allow, actions: [\"s3:PutObject\"], resources: [\"arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*\"] }\n" + signal)
        #expect(
            wrongAction.bootstrap.count == 1 && wrongAction.bootstrap[0].contains("allows no s3:GetObject on 'al2023-repos-eu-west-1-de612dc2/*'"))
    }
}
