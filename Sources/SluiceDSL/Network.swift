/// `network:` — the VPC and everything in it.
///
/// ```swift
/// VPC("analytics", cidr: "10.0.0.0/16") {
///     Subnet("etl-a", cidr: "10.0.3.0/24", az: "a", type: .isolated)
///     GatewayEndpoint("s3", service: .s3, policy: .buckets(["raw"]))
///     SecurityGroup("dw", description: "Warehouse PostgreSQL", outbound: .none) {
///         Ingress(.postgres, from: "etl", description: "ETL loads")
///     }
/// }
/// ```
public struct VPC: SpecPart {
    public let contributions: [Contribution]

    /// `name` nil is the loader's default name, `vpc`.
    public init(
        _ name: String? = nil, cidr: String, ipv6CIDR: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column,
        @NetworkBuilder _ content: () -> [any NetworkPart]
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var network = SpecNode.mapping(at)
        network.add(.set("vpc", to: .mapping(at, [("name", at.string(name)), ("cidr", at.string(cidr)), ("ipv6_cidr", at.string(ipv6CIDR))])))
        network.add(content().flatMap(\.contributions))
        contributions = [.set("network", to: network)]
    }
}

/// AWS CDK's three subnet types.
public enum SubnetType: String, Sendable {
    /// Routes `0.0.0.0/0` to the internet gateway.
    case `public`
    /// Egress through a NAT gateway only.
    case `private`
    /// No internet route at all.
    case isolated
}

public struct Subnet: NetworkPart {
    public let contributions: [Contribution]

    /// `az` is a zone letter (`"a"`) or a full zone name of the project's region.
    public init(
        _ name: String, cidr: String, ipv6CIDR: String? = nil, az: String, type: SubnetType,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "subnets",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("cidr", at.string(cidr)), ("ipv6_cidr", at.string(ipv6CIDR)), ("az", at.string(az)),
                        ("type", at.word(type)),
                    ]))
        ]
    }
}

public struct InternetGateway: NetworkPart {
    public let contributions: [Contribution]

    public init(_ name: String, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.set("internet_gateway", to: .string(name, at: at))]
    }
}

/// A NAT gateway, with its Elastic IP, in a public subnet.
public struct NATGateway: NetworkPart {
    public let contributions: [Contribution]

    public init(_ name: String, subnet: String, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("nat_gateways", item: .mapping(at, [("name", at.string(name)), ("subnet", at.string(subnet))]))]
    }
}

/// An explicit route table; subnets not named in one get a table derived from their type.
public struct RouteTable: NetworkPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, subnets: [String], routes: [Route] = [],
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "route_tables",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("subnets", at.strings(subnets)),
                        ("routes", routes.isEmpty ? nil : .list(routes.map { $0.node(at) }, at: at)),
                    ]))
        ]
    }
}

/// A route in an explicit table: `.internetGateway("0.0.0.0/0", "igw")`, `.natGateway("0.0.0.0/0", "nat-a")`.
public enum Route: Sendable {
    case internetGateway(_ destination: String, _ gateway: String)
    case natGateway(_ destination: String, _ gateway: String)

    func node(_ at: DeclarationSite) -> SpecNode {
        switch self {
        case .internetGateway(let destination, let gateway):
            return .mapping(at, [("destination", at.string(destination)), ("internet_gateway", at.string(gateway))])
        case .natGateway(let destination, let gateway):
            return .mapping(at, [("destination", at.string(destination)), ("nat_gateway", at.string(gateway))])
        }
    }
}

/// An AWS service's endpoint name. Any name works; the common ones are spelled out.
public struct AWSService: RawRepresentable, ExpressibleByStringLiteral, Sendable, Hashable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public static let s3: AWSService = "s3"
    public static let dynamodb: AWSService = "dynamodb"
    public static let secretsManager: AWSService = "secretsmanager"
    public static let logs: AWSService = "logs"
    public static let sts: AWSService = "sts"
    public static let sns: AWSService = "sns"
    public static let sqs: AWSService = "sqs"
    public static let kms: AWSService = "kms"
    public static let monitoring: AWSService = "monitoring"
}

/// What a gateway endpoint's policy allows.
public enum EndpointPolicy: Sendable {
    /// Exactly the buckets (tables) the spec's workloads read or write — the loader's default.
    case derived
    /// Everything: finding SL302.
    case fullAccess
    case buckets([String])
    case tables([String])
    case statements([Statement])

    func node(_ at: DeclarationSite) -> SpecNode {
        switch self {
        case .derived: return .string("derived", at: at)
        case .fullAccess: return .string("full_access", at: at)
        case .buckets(let names): return .mapping(at, [("buckets", at.strings(names))])
        case .tables(let names): return .mapping(at, [("tables", at.strings(names))])
        case .statements(let statements): return .mapping(at, [("statements", .list(statements.map(\.node), at: at))])
        }
    }
}

/// A gateway endpoint (S3, DynamoDB): a prefix-list route in route tables. No `routeTables` means every
/// route table of a private or isolated subnet.
public struct GatewayEndpoint: NetworkPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, service: AWSService, routeTables: [String]? = nil, policy: EndpointPolicy? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let defaultType = service == .s3 || service == .dynamodb
        contributions = [
            .append(
                "endpoints",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("service", at.string(service.rawValue)), ("type", defaultType ? nil : at.string("gateway")),
                        ("route_tables", at.strings(routeTables)), ("policy", policy?.node(at)),
                    ]))
        ]
    }
}

/// An interface endpoint: network interfaces in the given subnets, behind the given security groups.
public struct InterfaceEndpoint: NetworkPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, service: AWSService, subnets: [String], securityGroups: [String]? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let defaultType = !(service == .s3 || service == .dynamodb)
        contributions = [
            .append(
                "endpoints",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("service", at.string(service.rawValue)), ("type", defaultType ? nil : at.string("interface")),
                        ("subnets", at.strings(subnets)), ("security_groups", at.strings(securityGroups)),
                    ]))
        ]
    }
}

public enum IPProtocol: String, Sendable { case tcp, udp, icmp, all }

/// A port, a range, or all ports. An integer literal is a port: `Ingress(3838, from: "oltp")`.
public enum Port: Sendable, ExpressibleByIntegerLiteral, Equatable {
    case port(Int)
    case range(Int, Int)
    case all

    public init(integerLiteral value: Int) { self = .port(value) }

    public static let postgres = Port.port(5432)
    public static let https = Port.port(443)
    public static let http = Port.port(80)
    public static let ssh = Port.port(22)
    /// The ephemeral ports Lambda and NAT gateways answer from.
    public static let ephemeral = Port.range(1024, 65535)

    func pair(_ at: DeclarationSite) -> (String, SpecNode?) {
        switch self {
        case .port(let number): return ("port", at.int(number))
        case .range(let from, let to): return ("ports", .plain("\(from)-\(to)", at: at))
        case .all: return ("port", .string("all", at: at))
        }
    }
}

/// The other side of a security-group rule. A string literal names a security group.
public enum Peer: Sendable, ExpressibleByStringLiteral {
    case securityGroup(String)
    case cidr(String)
    /// A gateway endpoint's managed prefix list, named by the endpoint.
    case prefixList(String)

    public init(stringLiteral value: String) { self = .securityGroup(value) }

    /// `0.0.0.0/0`.
    public static let anywhere = Peer.cidr("0.0.0.0/0")

    func pair(_ at: DeclarationSite) -> (String, SpecNode?) {
        switch self {
        case .securityGroup(let name): return ("security_group", at.string(name))
        case .cidr(let cidr): return ("cidr", at.string(cidr))
        case .prefixList(let endpoint): return ("prefix_list", at.string(endpoint))
        }
    }
}

/// What a security group may send when it declares no `Egress` rule.
public enum Outbound: Sendable {
    /// The `Egress` rules listed; with none, AWS's default (all traffic to 0.0.0.0/0), as in YAML.
    case rules
    /// No outbound connections at all (YAML's `egress: []`).
    case none
}

public protocol SecurityGroupRule: Sendable { var contributions: [Contribution] { get } }
public typealias SecurityGroupBuilder = PartsBuilder<any SecurityGroupRule>

public struct SecurityGroup: NetworkPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, description: String? = nil, outbound: Outbound = .rules,
        file: String = #filePath, line: Int = #line, column: Int = #column,
        @SecurityGroupBuilder _ rules: () -> [any SecurityGroupRule] = { [] }
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var group = SpecNode.mapping(at, [("name", at.string(name)), ("description", at.string(description))])
        if outbound == .none { group.add(.set("egress", to: .list([], at: at))) }
        group.add(rules().flatMap(\.contributions))
        contributions = [.append("security_groups", item: group)]
    }
}

private func ruleNode(_ port: Port?, _ proto: IPProtocol?, _ peer: Peer, _ description: String?, _ at: DeclarationSite) -> SpecNode {
    .mapping(
        at,
        [
            ("protocol", at.word(proto)), port.map { $0.pair(at) } ?? ("port", nil), peer.pair(at),
            ("description", at.string(description)),
        ])
}

/// An inbound rule: `Ingress(.postgres, from: "etl", description: "ETL loads")`.
public struct Ingress: SecurityGroupRule {
    public let contributions: [Contribution]

    /// `port` may be nil only for `protocol: .all` or `.icmp`.
    public init(
        _ port: Port?, protocol proto: IPProtocol? = nil, from peer: Peer, description: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("ingress", item: ruleNode(port, proto, peer, description, at))]
    }
}

/// An outbound rule: `Egress(.https, to: .prefixList("s3"), description: "raw events")`.
public struct Egress: SecurityGroupRule {
    public let contributions: [Contribution]

    public init(
        _ port: Port?, protocol proto: IPProtocol? = nil, to peer: Peer, description: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("egress", item: ruleNode(port, proto, peer, description, at))]
    }
}

public enum RuleAction: String, Sendable { case allow, deny }

/// A stateless network ACL: entries match in rule-number order, with an implicit deny at the end.
public struct NetworkACL: NetworkPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, subnets: [String], ingress: [ACLEntry] = [], egress: [ACLEntry] = [],
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "network_acls",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("subnets", at.strings(subnets)),
                        ("ingress", ingress.isEmpty ? nil : .list(ingress.map(\.node), at: at)),
                        ("egress", egress.isEmpty ? nil : .list(egress.map(\.node), at: at)),
                    ]))
        ]
    }
}

/// `ACLEntry(100, .allow, ports: .ephemeral, cidr: "10.0.0.0/16")`; no `ports` means all ports.
public struct ACLEntry: Sendable {
    let node: SpecNode

    public init(
        _ rule: Int, _ action: RuleAction, protocol proto: IPProtocol? = nil, ports: Port? = nil, cidr: String,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        node = .mapping(
            at,
            [
                ("rule", at.int(rule)), ("protocol", at.word(proto)), ports.map { $0.pair(at) } ?? ("port", nil),
                ("cidr", at.string(cidr)), ("action", at.word(action)),
            ])
    }
}
