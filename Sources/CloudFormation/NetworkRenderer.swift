import SluiceCore

/// VPC, subnets, gateways, route tables, endpoints, security groups and network ACLs.
enum NetworkRenderer {
    static func render(into t: TemplateBuilder, policies: PolicyRenderer) {
        let network = t.spec.network
        let vpc = LogicalID.vpc(network.vpc.name)
        t.resource(
            vpc, "AWS::EC2::VPC",
            [
                ("CidrBlock", .string(network.vpc.cidr.description)),
                // Interface endpoints with private DNS need both.
                ("EnableDnsHostnames", true),
                ("EnableDnsSupport", true),
                ("Tags", t.tags(network.vpc.name)),
            ])
        let ipv6Block = LogicalID.make("VpcIpv6", network.vpc.name)
        if network.vpc.ipv6 != nil {
            // AWS assigns the VPC's /56; subnets take the /64 at the same offset as in the spec.
            t.resource(ipv6Block, "AWS::EC2::VPCCidrBlock", [("VpcId", .ref(vpc)), ("AmazonProvidedIpv6CidrBlock", true)])
        }
        var attachment: String?
        if let igw = network.internetGateway {
            let id = LogicalID.internetGateway(igw.name)
            t.resource(id, "AWS::EC2::InternetGateway", [("Tags", t.tags(igw.name))])
            attachment = LogicalID.make("GatewayAttachment", igw.name)
            t.resource(attachment!, "AWS::EC2::VPCGatewayAttachment", [("VpcId", .ref(vpc)), ("InternetGatewayId", .ref(id))])
        }
        for subnet in network.subnets {
            var properties: [(String, TemplateValue)] = [
                ("VpcId", .ref(vpc)),
                ("CidrBlock", .string(subnet.cidr.description)),
                ("AvailabilityZone", availabilityZone(subnet.availabilityZone, region: t.spec.project.region)),
                // Never on by default, public subnets included: a host that needs an address asks for one.
                ("MapPublicIpOnLaunch", false),
            ]
            var dependsOn: [String] = []
            if let block = subnet.ipv6, let vpcBlock = network.vpc.ipv6 {
                let offset = Int((block.network - vpcBlock.network) >> 64)
                properties.append(
                    (
                        "Ipv6CidrBlock",
                        .map([
                            (
                                "Fn::Select",
                                .list([
                                    .int(offset),
                                    .map([
                                        (
                                            "Fn::Cidr",
                                            .list([
                                                .select(0, .getAtt(vpc, "Ipv6CidrBlocks")), .int(256), "64",
                                            ])
                                        )
                                    ]),
                                ])
                            )
                        ])
                    ))
                dependsOn.append(ipv6Block)
            }
            properties.append(("Tags", t.tags(subnet.name)))
            t.resource(LogicalID.subnet(subnet.name), "AWS::EC2::Subnet", properties, dependsOn: dependsOn)
        }
        for nat in network.natGateways {
            let eip = LogicalID.make("NatAddress", nat.name)
            t.resource(eip, "AWS::EC2::EIP", [("Domain", "vpc"), ("Tags", t.tags(nat.name))], dependsOn: attachment.map { [$0] } ?? [])
            t.resource(
                LogicalID.natGateway(nat.name), "AWS::EC2::NatGateway",
                [
                    ("AllocationId", .getAtt(eip, "AllocationId")),
                    ("SubnetId", .ref(LogicalID.subnet(nat.subnet))),
                    ("Tags", t.tags(nat.name)),
                ])
        }
        for table in network.routeTables {
            let id = LogicalID.routeTable(table.name)
            t.resource(id, "AWS::EC2::RouteTable", [("VpcId", .ref(vpc)), ("Tags", t.tags(table.name))])
            for subnet in table.subnets {
                t.resource(
                    LogicalID.make("RouteTableAssociation", subnet), "AWS::EC2::SubnetRouteTableAssociation",
                    [
                        ("RouteTableId", .ref(id)), ("SubnetId", .ref(LogicalID.subnet(subnet))),
                    ])
            }
            for route in table.routes {
                let destination: (String, TemplateValue) =
                    route.destination.family == .v4
                    ? ("DestinationCidrBlock", .string(route.destination.description))
                    : ("DestinationIpv6CidrBlock", .string(route.destination.description))
                let routeID = LogicalID.make("Route", "\(table.name) \(routeName(route.destination))")
                switch route.target {
                case .internetGateway(let name):
                    t.resource(
                        routeID, "AWS::EC2::Route", [("RouteTableId", .ref(id)), destination, ("GatewayId", .ref(LogicalID.internetGateway(name)))],
                        dependsOn: attachment.map { [$0] } ?? [])
                case .natGateway(let name):
                    t.resource(
                        routeID, "AWS::EC2::Route", [("RouteTableId", .ref(id)), destination, ("NatGatewayId", .ref(LogicalID.natGateway(name)))])
                case .local, .gatewayEndpoint:
                    // The VPC's own route is implicit; a gateway endpoint adds its prefix-list route itself.
                    break
                }
            }
        }
        for group in network.securityGroups { renderSecurityGroup(group, vpc: vpc, into: t) }
        for endpoint in network.endpoints {
            var properties: [(String, TemplateValue)] = [
                ("ServiceName", .sub("com.amazonaws.${AWS::Region}.\(endpoint.service)")),
                ("VpcEndpointType", endpoint.type == .gateway ? "Gateway" : "Interface"),
                ("VpcId", .ref(vpc)),
            ]
            if endpoint.type == .gateway {
                properties.append(("RouteTableIds", .list(endpoint.routeTables.map { .ref(LogicalID.routeTable($0)) })))
            } else {
                properties.append(("SubnetIds", .list(endpoint.subnets.map { .ref(LogicalID.subnet($0)) })))
                properties.append(("SecurityGroupIds", .list(endpoint.securityGroups.map { .getAtt(LogicalID.securityGroup($0), "GroupId") })))
                properties.append(("PrivateDnsEnabled", true))
            }
            if let document = policies.endpointPolicy(endpoint) { properties.append(("PolicyDocument", document)) }
            t.resource(LogicalID.endpoint(endpoint.name), "AWS::EC2::VPCEndpoint", properties)
        }
        for acl in network.networkACLs {
            let id = LogicalID.networkACL(acl.name)
            t.resource(id, "AWS::EC2::NetworkAcl", [("VpcId", .ref(vpc)), ("Tags", t.tags(acl.name))])
            for (egress, entries) in [(false, acl.ingress), (true, acl.egress)] {
                for entry in entries {
                    var properties: [(String, TemplateValue)] = [
                        ("NetworkAclId", .ref(id)),
                        ("RuleNumber", .int(entry.number)),
                        ("Protocol", .int(protocolNumber(entry.proto))),
                        ("RuleAction", .string(entry.action.rawValue)),
                        ("Egress", .bool(egress)),
                        entry.cidr.family == .v4
                            ? ("CidrBlock", .string(entry.cidr.description)) : ("Ipv6CidrBlock", .string(entry.cidr.description)),
                    ]
                    switch entry.proto {
                    case .tcp, .udp: properties.append(("PortRange", .map([("From", .int(entry.ports.from)), ("To", .int(entry.ports.to))])))
                    case .icmp: properties.append(("Icmp", .map([("Code", -1), ("Type", -1)])))
                    case .all: break
                    }
                    t.resource(
                        LogicalID.make("NetworkAclEntry", "\(acl.name) \(egress ? "out" : "in") \(entry.number)"), "AWS::EC2::NetworkAclEntry",
                        properties)
                }
            }
            for subnet in acl.subnets {
                t.resource(
                    LogicalID.make("NetworkAclAssociation", subnet), "AWS::EC2::SubnetNetworkAclAssociation",
                    [
                        ("NetworkAclId", .ref(id)), ("SubnetId", .ref(LogicalID.subnet(subnet))),
                    ])
            }
        }
    }

    /// Rules naming another group become separate SecurityGroupIngress/Egress resources, so two
    /// groups that refer to each other do not form a dependency cycle; the rest stay inline.
    static func renderSecurityGroup(_ group: SecurityGroup, vpc: String, into t: TemplateBuilder) {
        let id = LogicalID.securityGroup(group.name)
        var separate: [(String, String, [(String, TemplateValue)])] = []
        /// The rules of one direction that stay inline; those naming a group go to `separate`.
        func inline(_ rules: [SecurityGroupRule], ingress: Bool) -> [TemplateValue] {
            let (direction, side, resourceType) =
                ingress
                ? ("Ingress", "Source", "AWS::EC2::SecurityGroupIngress")
                : ("Egress", "Destination", "AWS::EC2::SecurityGroupEgress")
            var kept: [TemplateValue] = []
            for (index, rule) in rules.enumerated() {
                var entry = ruleProperties(rule, direction: direction.lowercased())
                switch rule.peer {
                case .cidr(let block):
                    entry.append(block.family == .v4 ? ("CidrIp", .string(block.description)) : ("CidrIpv6", .string(block.description)))
                case .prefixList(let endpoint): entry.append(("\(side)PrefixListId", prefixList(endpoint, t)))
                case .securityGroup(let peer):
                    entry.append(("\(side)SecurityGroupId", .getAtt(LogicalID.securityGroup(peer), "GroupId")))
                    separate.append(
                        (
                            LogicalID.make("\(id)\(direction)", "\(index + 1) \(peer) \(rule.ports.from)"), resourceType,
                            [("GroupId", .getAtt(id, "GroupId"))] + entry
                        ))
                    continue
                }
                kept.append(.map(entry))
            }
            return kept
        }
        let inlineIngress = inline(group.ingress, ingress: true)
        var inlineEgress = inline(group.egress, ingress: false)
        if inlineEgress.isEmpty {
            // Without an inline egress rule AWS allows all outbound traffic; this one (as AWS CDK
            // writes it) matches nothing, so the group has exactly the egress the spec gives it.
            inlineEgress.append(
                .map([
                    ("CidrIp", "255.255.255.255/32"), ("Description", "Disallow all traffic"),
                    ("IpProtocol", "icmp"), ("FromPort", 252), ("ToPort", 86),
                ]))
        }
        var properties: [(String, TemplateValue)] = [("GroupDescription", .string(group.description)), ("VpcId", .ref(vpc))]
        if !inlineIngress.isEmpty { properties.append(("SecurityGroupIngress", .list(inlineIngress))) }
        properties.append(("SecurityGroupEgress", .list(inlineEgress)))
        properties.append(("Tags", t.tags(group.name)))
        t.resource(id, "AWS::EC2::SecurityGroup", properties)
        for (ruleID, type, ruleProperties) in separate { t.resource(ruleID, type, ruleProperties) }
    }

    static func ruleProperties(_ rule: SecurityGroupRule, direction: String) -> [(String, TemplateValue)] {
        let description = rule.description ?? "\(direction) \(rule.proto.rawValue) \(rule.ports) (\(rule.peer))"
        var entry: [(String, TemplateValue)] = [
            ("Description", .string(description)), ("IpProtocol", .string(rule.proto == .all ? "-1" : rule.proto.rawValue)),
        ]
        switch rule.proto {
        case .tcp, .udp:
            entry.append(("FromPort", .int(rule.ports.from)))
            entry.append(("ToPort", .int(rule.ports.to)))
        case .icmp:
            entry.append(("FromPort", -1))
            entry.append(("ToPort", -1))
        case .all: break
        }
        return entry
    }

    /// The managed prefix list of the service a gateway endpoint serves.
    static func prefixList(_ endpoint: String, _ t: TemplateBuilder) -> TemplateValue {
        let service = t.spec.network.endpoint(endpoint)?.service ?? "s3"
        let parameter = LogicalID.make("PrefixList", service)
        t.parameter(
            parameter, type: "String",
            description: "ID of the AWS-managed prefix list com.amazonaws.<region>.\(service) (aws ec2 describe-managed-prefix-lists).",
            extra: [("AllowedPattern", "^pl-[0-9a-f]+$")])
        return .ref(parameter)
    }

    static func protocolNumber(_ proto: IPProtocol) -> Int {
        switch proto {
        case .tcp: 6;
        case .udp: 17;
        case .icmp: 1;
        case .all: -1
        }
    }

    static func availabilityZone(_ zone: String, region: String) -> TemplateValue {
        zone.hasPrefix(region) ? .sub("${AWS::Region}\(zone.dropFirst(region.count))") : .string(zone)
    }

    /// `default`, or the range with `x` between its parts (`10x0x0x0x8`), so that 1.11.0.0/16 and
    /// 11.1.0.0/16 stay apart.
    static func routeName(_ destination: CIDR) -> String {
        if destination.isDefault { return destination.family == .v4 ? "default" : "default v6" }
        return String(destination.description.map { $0.isLetter || $0.isNumber ? $0 : "x" })
    }
}
