import SluiceCore
import Testing

@testable import Checks

@Suite struct NetworkACLEvaluationTests {
    func entry(_ n: Int, _ action: RuleAction, _ cidr: String, _ ports: PortRange = .all, _ proto: IPProtocol = .tcp) throws -> NetworkACLEntry {
        NetworkACLEntry(number: n, proto: proto, ports: ports, cidr: try CIDR(parsing: cidr), action: action)
    }

    @Test func firstMatchingRuleDecides() throws {
        let entries = [try entry(200, .allow, "0.0.0.0/0"), try entry(100, .deny, "10.0.5.0/24")]
        let blocked = NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: PortRange(5432), range: try CIDR(parsing: "10.0.5.0/24"), .every)
        #expect(!blocked.allowed)
        #expect(blocked.entry?.number == 100)
        let allowed = NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: PortRange(5432), range: try CIDR(parsing: "10.0.6.0/24"), .every)
        #expect(allowed.allowed && allowed.entry?.number == 200)
    }

    @Test func partialOverlapDependsOnTheQuantifier() throws {
        // Rule 100 allows half of the range; nothing else matches.
        let entries = [try entry(100, .allow, "10.0.0.0/25")]
        let range = try CIDR(parsing: "10.0.0.0/24")
        #expect(!NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: PortRange(22), range: range, .every).allowed)
        #expect(NetworkACLEvaluation.evaluate(entries, proto: .tcp, ports: PortRange(22), range: range, .some).allowed)
        // A partial deny before a full allow: not every address passes, some do.
        let mixed = [try entry(100, .deny, "10.0.0.0/25"), try entry(110, .allow, "0.0.0.0/0")]
        #expect(!NetworkACLEvaluation.evaluate(mixed, proto: .tcp, ports: PortRange(22), range: range, .every).allowed)
        #expect(NetworkACLEvaluation.evaluate(mixed, proto: .tcp, ports: PortRange(22), range: range, .some).allowed)
    }

    @Test func ephemeralPortsMustBeCoveredWhole() throws {
        let linuxOnly = [try entry(100, .allow, "0.0.0.0/0", PortRange(32768, 60999))]
        #expect(!NetworkACLEvaluation.evaluate(linuxOnly, proto: .tcp, ports: .ephemeral, range: .anyIPv4, .every).allowed)
        let udpOnly = [try entry(100, .allow, "0.0.0.0/0", .all, .udp)]
        #expect(!NetworkACLEvaluation.evaluate(udpOnly, proto: .tcp, ports: .ephemeral, range: .anyIPv4, .some).allowed)
        #expect(!NetworkACLEvaluation.evaluate([], proto: .tcp, ports: .ephemeral, range: .anyIPv4, .some).allowed)  // implicit deny
    }
}

@Suite struct ReachabilityEngineTests {
    static func subnet(_ name: String, _ cidr: String, _ type: SubnetType, az: String = "eu-west-1a") -> Subnet {
        Subnet(name: name, cidr: try! CIDR(parsing: cidr), availabilityZone: az, type: type)
    }

    static func spec(acls: [NetworkACL] = [], routes: [RouteTable]? = nil, endpoints: [Endpoint] = [], etlEgress: [SecurityGroupRule]? = nil) -> Spec
    {
        let subnets = [subnet("pub", "10.0.0.0/24", .public), subnet("etl", "10.0.1.0/24", .isolated), subnet("db", "10.0.2.0/24", .isolated)]
        let groups = [
            SecurityGroup(
                name: "etl", description: "",
                egress: etlEgress ?? [
                    SecurityGroupRule(ports: PortRange(5432), peer: .securityGroup("dw")),
                    SecurityGroupRule(ports: PortRange(443), peer: .prefixList(endpoint: "s3")),
                ]),
            SecurityGroup(name: "dw", description: "", ingress: [SecurityGroupRule(ports: PortRange(5432), peer: .securityGroup("etl"))]),
        ]
        let tables =
            routes ?? [
                RouteTable(name: "public", subnets: ["pub"], routes: [Route(destination: .anyIPv4, target: .internetGateway("igw"))]),
                RouteTable(name: "isolated", subnets: ["etl", "db"], routes: []),
            ]
        let network = Network(
            vpc: VPC(name: "v", cidr: try! CIDR(parsing: "10.0.0.0/16")), internetGateway: InternetGateway(name: "igw"),
            subnets: subnets, routeTables: tables, endpoints: endpoints, securityGroups: groups, networkACLs: acls)
        return Spec(file: "t", project: Project(name: "t", region: "eu-west-1"), network: network)
    }

    func placement(_ engine: ReachabilityEngine, _ subnet: String, _ groups: [String], function: Bool = true, publicIP: Bool = false) -> Placement {
        Placement(
            kind: function ? .function : .host, name: "x", subnet: engine.spec.network.subnet(subnet)!, securityGroups: groups,
            hasPublicAddress: publicIP, isFunction: function)
    }

    @Test func securityGroupsAreStatefulButNACLsAreNot() throws {
        let allowRequestOnly = NetworkACL(
            name: "etl-acl", subnets: ["etl"],
            ingress: [],  // forgets the response on the ephemeral ports
            egress: [NetworkACLEntry(number: 100, proto: .tcp, ports: PortRange(5432), cidr: try CIDR(parsing: "10.0.2.0/24"), action: .allow)])
        let engine = ReachabilityEngine(spec: Self.spec(acls: [allowRequestOnly]))
        let verdict = engine.reach(from: placement(engine, "etl", ["etl"]), to: placement(engine, "db", ["dw"]), port: 5432, .every)
        guard case .blocked(let reason, _) = verdict else { Issue.record("expected blocked"); return }
        #expect(reason.contains("blocks the response"))

        let engineWithoutACL = ReachabilityEngine(spec: Self.spec())
        #expect(
            engineWithoutACL.reach(
                from: placement(engineWithoutACL, "etl", ["etl"]), to: placement(engineWithoutACL, "db", ["dw"]), port: 5432, .every
            ).isReachable)
        // Security groups are checked in both directions: the warehouse never opened egress, and need not.
        #expect(
            !engineWithoutACL.reach(
                from: placement(engineWithoutACL, "db", ["dw"]), to: placement(engineWithoutACL, "etl", ["etl"]), port: 5432, .some
            ).isReachable)
    }

    @Test func gatewayEndpointBeatsTheDefaultRouteAndHonoursItsPolicy() {
        let endpoint = Endpoint(name: "s3", service: "s3", type: .gateway, routeTables: ["isolated"], policy: .resources(["raw"], location: .unknown))
        let engine = ReachabilityEngine(spec: Self.spec(endpoints: [endpoint]))
        let etl = placement(engine, "etl", ["etl"])
        #expect(engine.reachService(from: etl, service: "s3", resource: "raw").isReachable)
        #expect(!engine.reachService(from: etl, service: "s3", resource: "other").isReachable)
        #expect(!engine.reachService(from: etl, service: "dynamodb", resource: "t").isReachable)
    }

    @Test func lambdaGetsNoInternetFromAnInternetGatewayRoute() {
        let engine = ReachabilityEngine(spec: Self.spec(etlEgress: [SecurityGroupRule(proto: .all, ports: .all, peer: .cidr(.anyIPv4))]))
        guard case .blocked(let reason, _) = engine.reachService(from: placement(engine, "pub", ["etl"], function: true), service: "s3") else {
            Issue.record("a function in a public subnet must not reach the internet"); return
        }
        #expect(reason.contains("never has a public address"))
        #expect(engine.reachService(from: placement(engine, "pub", ["etl"], function: false, publicIP: true), service: "s3").isReachable)
    }

    @Test func theNATSubnetsACLCountsBothWays() throws {
        let tables = [
            RouteTable(name: "public", subnets: ["pub"], routes: [Route(destination: .anyIPv4, target: .internetGateway("igw"))]),
            RouteTable(name: "private", subnets: ["etl"], routes: [Route(destination: .anyIPv4, target: .natGateway("nat"))]),
        ]
        let egress = [SecurityGroupRule(ports: PortRange(443), peer: .cidr(.anyIPv4))]
        func spec(_ acls: [NetworkACL]) -> Spec {
            var spec = Self.spec(acls: acls, routes: tables, etlEgress: egress)
            spec.network.natGateways = [NATGateway(name: "nat", subnet: "pub")]
            return spec
        }
        let open = ReachabilityEngine(spec: spec([]))
        #expect(open.reachService(from: placement(open, "etl", ["etl"]), service: "sns").isReachable)
        // The public subnet's ACL lets the internet in and out, but forgets the private subnet's responses.
        let publicACL = NetworkACL(
            name: "public-acl", subnets: ["pub"],
            ingress: [NetworkACLEntry(number: 100, proto: .all, ports: .all, cidr: .anyIPv4, action: .allow)],
            egress: [NetworkACLEntry(number: 100, proto: .tcp, ports: PortRange(443), cidr: .anyIPv4, action: .allow)])
        let engine = ReachabilityEngine(spec: spec([publicACL]))
        guard case .blocked(let reason, _) = engine.reachService(from: placement(engine, "etl", ["etl"]), service: "sns") else {
            Issue.record("the NAT subnet's ACL blocks the response to the private subnet"); return
        }
        #expect(reason.contains("network ACL 'public-acl' of subnet 'pub' blocks the response (egress to 10.0.1.0/24 on 1024-65535)"))
    }

    @Test func moreSpecificRouteLeavingTheVPCBreaksLocalTraffic() throws {
        let tables = [
            RouteTable(name: "isolated", subnets: ["etl", "db"], routes: []),
            RouteTable(name: "odd", subnets: ["pub"], routes: [Route(destination: try CIDR(parsing: "10.0.2.0/24"), target: .natGateway("nat"))]),
        ]
        let engine = ReachabilityEngine(spec: Self.spec(routes: tables))
        #expect(engine.bestRoute(in: tables[1], to: try CIDR(parsing: "10.0.2.0/24"))?.target == .natGateway("nat"))
        #expect(engine.bestRoute(in: tables[1], to: try CIDR(parsing: "10.0.3.0/24"))?.target == .local)
        let verdict = engine.reach(from: placement(engine, "pub", ["etl"]), to: placement(engine, "db", ["dw"]), port: 5432, .every)
        #expect(!verdict.isReachable)
    }
}
