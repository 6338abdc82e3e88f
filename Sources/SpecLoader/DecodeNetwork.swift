import SluiceCore
import YAML

extension SpecDecoder {
    func decodeNetwork(_ node: YAMLNode) -> Network? {
        guard
            let r = MapReader(node, SpecSchema.network, sink: sink)
        else { return nil }
        let vpc = r.value("vpc", required: true).flatMap(decodeVPC)
        var internetGateway: InternetGateway?
        if let igw = r.string("internet_gateway") {
            define("internet gateway", igw, at: r.location(of: "internet_gateway"))
            internetGateway = InternetGateway(name: igw, location: r.location(of: "internet_gateway"))
        }
        let subnets = r.list("subnets", required: true).compactMap(decodeSubnet)
        let nats = r.list("nat_gateways").compactMap(decodeNAT)
        let routeTables = r.list("route_tables").compactMap(decodeRouteTable)
        let endpoints = r.list("endpoints").compactMap(decodeEndpoint)
        let groups = r.list("security_groups").compactMap(decodeSecurityGroup)
        let acls = r.list("network_acls").compactMap(decodeNetworkACL)
        guard let vpc else { return nil }
        return Network(
            vpc: vpc, internetGateway: internetGateway, subnets: subnets, natGateways: nats, routeTables: routeTables,
            endpoints: endpoints, securityGroups: groups, networkACLs: acls)
    }

    private func decodeVPC(_ node: YAMLNode) -> VPC? {
        guard let r = MapReader(node, SpecSchema.vpc, sink: sink) else { return nil }
        let name = r.has("name") ? self.name(r, kind: "vpc")?.value : "vpc"
        let cidr = self.cidr(r, "cidr", required: true)
        let ipv6 = self.cidr(r, "ipv6_cidr")
        if let cidr, cidr.family != .v4 {
            sink.add(LoaderDiagnostics.badCIDR("the VPC's 'cidr' must be IPv4; put IPv6 in 'ipv6_cidr'", at: r.location(of: "cidr")))
        }
        if let ipv6, ipv6.family != .v6 { sink.add(LoaderDiagnostics.badCIDR("'ipv6_cidr' must be an IPv6 block", at: r.location(of: "ipv6_cidr"))) }
        guard let name, let cidr else { return nil }
        return VPC(name: name, cidr: cidr, ipv6: ipv6, location: r.location, cidrLocation: r.location(of: "cidr"))
    }

    private func decodeSubnet(_ node: YAMLNode) -> Subnet? {
        guard let r = MapReader(node, SpecSchema.subnet, sink: sink) else { return nil }
        let name = self.name(r, kind: "subnet")
        let cidr = self.cidr(r, "cidr", required: true)
        let ipv6 = self.cidr(r, "ipv6_cidr")
        let type = r.word("type", as: SubnetType.self, required: true)
        let az = availabilityZone(r)
        guard let name, let cidr, let type, let az else { return nil }
        return Subnet(
            name: name.value, cidr: cidr, ipv6: ipv6, availabilityZone: az, type: type, location: r.location,
            cidrLocation: r.location(of: "cidr"))
    }

    /// `a` means the region's zone a; a full name must be in the project's region.
    private func availabilityZone(_ r: MapReader) -> String? {
        guard let text = r.string("az", required: true) else { return nil }
        if text.count == 1, let c = text.first, c.isLowercase, c.isASCII { return region + text }
        if text.hasPrefix(region), text.count == region.count + 1, text.last!.isLowercase { return text }
        sink.add(
            LoaderDiagnostics.invalid(
                "availability zone '\(text)' is not a zone of region \(region) (write 'a' or '\(region)a')",
                at: r.location(of: "az")))
        return nil
    }

    private func decodeNAT(_ node: YAMLNode) -> NATGateway? {
        guard let r = MapReader(node, SpecSchema.natGateway, sink: sink) else { return nil }
        let name = self.name(r, kind: "NAT gateway")
        let subnet = r.string("subnet", required: true)
        if let subnet { refer("subnet", subnet, at: r.location(of: "subnet")) }
        guard let name, let subnet else { return nil }
        return NATGateway(name: name.value, subnet: subnet, location: r.location)
    }

    private func decodeRouteTable(_ node: YAMLNode) -> RouteTable? {
        guard let r = MapReader(node, SpecSchema.routeTable, sink: sink) else { return nil }
        let name = self.name(r, kind: "route table")
        let subnets = r.strings("subnets", required: true)
        refer("subnet", subnets)
        for subnet in subnets { define("route table association", subnet.value, at: subnet.location) }
        let routes = r.list("routes").compactMap(decodeRoute)
        guard let name else { return nil }
        return RouteTable(name: name.value, subnets: subnets.map(\.value), routes: routes, location: r.location)
    }

    private func decodeRoute(_ node: YAMLNode) -> Route? {
        let targets = SpecSchema.route.exactlyOne
        guard let r = MapReader(node, SpecSchema.route, sink: sink) else { return nil }
        let destination = cidr(r, "destination", required: true)
        let given = targets.filter(r.has)
        guard given.count == 1 else {
            sink.add(LoaderDiagnostics.invalid("a route needs exactly one target: internet_gateway or nat_gateway", at: r.location))
            return nil
        }
        guard let destination, let targetName = r.string(given[0]) else { return nil }
        let target: RouteTarget
        if given[0] == "internet_gateway" {
            refer("internet gateway", targetName, at: r.location(of: given[0]))
            target = .internetGateway(targetName)
        } else {
            refer("NAT gateway", targetName, at: r.location(of: given[0]))
            target = .natGateway(targetName)
        }
        return Route(destination: destination, target: target, location: r.location)
    }

    static let gatewayServices = ["s3", "dynamodb"]

    private func decodeEndpoint(_ node: YAMLNode) -> Endpoint? {
        guard
            let r = MapReader(node, SpecSchema.endpoint, sink: sink)
        else { return nil }
        let name = self.name(r, kind: "endpoint")
        let service = r.string("service", required: true)
        if let service, !(service.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) || service.isEmpty {
            sink.add(
                LoaderDiagnostics.invalid(
                    "'\(service)' is not an AWS service endpoint name (s3, dynamodb, secretsmanager, logs, sts, …)",
                    at: r.location(of: "service")))
        }
        let defaultType: EndpointType = Self.gatewayServices.contains(service ?? "") ? .gateway : .interface
        let type = r.word("type", as: EndpointType.self) ?? defaultType
        if type == .gateway, let service, !Self.gatewayServices.contains(service) {
            sink.add(
                LoaderDiagnostics.invalid(
                    "only s3 and dynamodb have gateway endpoints; '\(service)' needs type: interface",
                    at: r.location(of: "type")))
        }
        let routeTables = r.strings("route_tables")
        let subnets = r.strings("subnets")
        let groups = r.strings("security_groups")
        refer("route table", routeTables)
        refer("subnet", subnets)
        refer("security group", groups)
        if type == .gateway, !subnets.isEmpty || !groups.isEmpty {
            sink.add(
                LoaderDiagnostics.invalid(
                    "a gateway endpoint attaches to route_tables; subnets and security_groups are for interface endpoints",
                    at: r.location))
        }
        if type == .interface, subnets.isEmpty {
            sink.add(LoaderDiagnostics.missingKey("subnets", in: "interface endpoint", at: r.location))
        }
        var policy = EndpointPolicy.derived
        if let policyNode = r.value("policy") {
            policy = decodeEndpointPolicy(policyNode, service: service ?? "") ?? .derived
        }
        guard let name, let service else { return nil }
        return Endpoint(
            name: name.value, service: service, type: type, routeTables: routeTables.map(\.value),
            subnets: subnets.map(\.value), securityGroups: groups.map(\.value), policy: policy, location: r.location)
    }

    private func decodeEndpointPolicy(_ node: YAMLNode, service: String) -> EndpointPolicy? {
        if node.scalar == "full_access" { return .fullAccess(location: node.location) }
        if node.scalar == "derived" { return .derived }
        guard let r = MapReader(node, SpecSchema.endpointPolicy, sink: sink) else { return nil }
        if r.has("statements") {
            return .statements(r.list("statements").compactMap(decodeStatement))
        }
        let key = service == "dynamodb" ? "tables" : "buckets"
        let names = r.strings(key, required: true)
        refer(service == "dynamodb" ? "DynamoDB table" : "bucket", names)
        return .resources(names.map(\.value), location: r.location(of: key))
    }

    private func decodeSecurityGroup(_ node: YAMLNode) -> SecurityGroup? {
        guard let r = MapReader(node, SpecSchema.securityGroup, sink: sink) else {
            return nil
        }
        let name = self.name(r, kind: "security group")
        let description = r.string("description") ?? name.map { "\($0.value) security group" } ?? ""
        let ingress = r.list("ingress").compactMap { decodeRule($0, direction: "ingress") }
        // AWS adds allow-all egress when none is given; an explicit empty list means no outbound traffic.
        let egress: [SecurityGroupRule]
        if !r.contains("egress") {
            egress = [
                SecurityGroupRule(
                    proto: .all, ports: .all, peer: .cidr(.anyIPv4), description: "AWS default: all outbound",
                    location: r.location)
            ]
        } else {
            egress = r.list("egress").compactMap { decodeRule($0, direction: "egress") }
        }
        guard let name else { return nil }
        return SecurityGroup(name: name.value, description: description, ingress: ingress, egress: egress, location: r.location)
    }

    private func decodeRule(_ node: YAMLNode, direction: String) -> SecurityGroupRule? {
        let peers = SpecSchema.securityGroupRule.exactlyOne
        guard
            let r = MapReader(node, SpecSchema.securityGroupRule, context: "\(direction) rule", sink: sink)
        else { return nil }
        let proto = r.word("protocol", as: IPProtocol.self) ?? .tcp
        var ports = ports(r)
        refuseIgnoredPorts(r, proto, ports, what: "\(direction) rule")
        if ports == nil, !r.has("port"), !r.has("ports") {
            if proto == .all || proto == .icmp {
                ports = .all
            } else {
                sink.add(LoaderDiagnostics.missingKey("port", in: "\(direction) rule", at: r.location))
            }
        }
        let given = peers.filter(r.has)
        guard given.count == 1 else {
            sink.add(
                LoaderDiagnostics.invalid(
                    "an \(direction) rule needs exactly one peer: cidr, security_group or prefix_list",
                    at: r.location))
            return nil
        }
        var peer: Peer?
        switch given[0] {
        case "cidr": peer = cidr(r, "cidr").map(Peer.cidr)
        case "security_group":
            if let group = r.string("security_group") {
                refer("security group", group, at: r.location(of: "security_group"))
                peer = .securityGroup(group)
            }
        default:
            if let endpoint = r.string("prefix_list") {
                refer("endpoint", endpoint, at: r.location(of: "prefix_list"))
                peer = .prefixList(endpoint: endpoint)
            }
        }
        guard let peer, let ports else { return nil }
        return SecurityGroupRule(proto: proto, ports: ports, peer: peer, description: r.string("description"), location: r.location)
    }

    /// AWS ignores the port range of a rule for all protocols (`-1`): it opens, or denies, every
    /// port. A spec that names one would be read as saying something the account does not do.
    private func refuseIgnoredPorts(_ r: MapReader, _ proto: IPProtocol, _ ports: PortRange?, what: String) {
        guard proto == .all, let ports, ports != .all else { return }
        let key = r.has("port") ? "port" : "ports"
        sink.add(
            LoaderDiagnostics.invalid(
                "an \(what) for all protocols covers every port (AWS ignores the range): drop '\(key): \(ports)', or use protocol tcp or udp for \(ports) alone",
                at: r.location(of: key)))
    }

    private func decodeNetworkACL(_ node: YAMLNode) -> NetworkACL? {
        guard let r = MapReader(node, SpecSchema.networkACL, sink: sink) else { return nil }
        let name = self.name(r, kind: "network ACL")
        let subnets = r.strings("subnets", required: true)
        refer("subnet", subnets)
        for subnet in subnets { define("network ACL association", subnet.value, at: subnet.location) }
        let ingress = decodeACLEntries(r.list("ingress"), direction: "ingress")
        let egress = decodeACLEntries(r.list("egress"), direction: "egress")
        guard let name else { return nil }
        return NetworkACL(name: name.value, subnets: subnets.map(\.value), ingress: ingress, egress: egress, location: r.location)
    }

    private func decodeACLEntries(_ nodes: [YAMLNode], direction: String) -> [NetworkACLEntry] {
        var numbers: [Int: SourceLocation] = [:]
        return nodes.compactMap { node in
            guard
                let r = MapReader(node, SpecSchema.networkACLEntry, context: "network ACL \(direction) entry", sink: sink)
            else { return nil }
            let number = r.int("rule", in: 1...32766, required: true)
            let proto = r.word("protocol", as: IPProtocol.self) ?? .tcp
            let ports = (r.has("port") || r.has("ports")) ? self.ports(r) : .all
            refuseIgnoredPorts(r, proto, ports, what: "network ACL \(direction) entry")
            let cidr = cidr(r, "cidr", required: true)
            let action = r.word("action", as: RuleAction.self, required: true)
            if let number {
                if let first = numbers[number] {
                    sink.add(
                        LoaderDiagnostics.duplicateName(
                            "network ACL \(direction) rule", String(number), at: r.location(of: "rule"),
                            first: first))
                }
                numbers[number] = r.location(of: "rule")
            }
            guard let number, let ports, let cidr, let action else { return nil }
            return NetworkACLEntry(number: number, proto: proto, ports: ports, cidr: cidr, action: action, location: r.location)
        }
    }
}
