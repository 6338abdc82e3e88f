/// The resolved, typed model of one spec. Checks and renderers see only this, never YAML.
/// References between parts are by name and are guaranteed to resolve: the loader
/// reports dangling ones and leaves them out.
public struct Spec: Sendable {
    public var file: String
    public var project: Project
    public var network: Network
    public var identity: Identity
    public var storage: Storage
    public var messaging: Messaging
    public var compute: Compute
    public var warehouse: Warehouse?
    public var pipelines: [Pipeline]
    public var suppressions: [Suppression]
    /// The stacks this spec deploys as, each with its own values; empty: one environment, the spec's.
    public var environments: [DeploymentEnvironment]

    /// The spec's name in generated files: its file name without the extension, so a YAML spec and
    /// its Swift twin (`clickstream.yaml`, `clickstream.swift`) generate the same bytes.
    public var sourceName: String {
        let base = file.split(separator: "/").last.map(String.init) ?? file
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }

    public init(
        file: String, project: Project, network: Network, identity: Identity = .init(),
        storage: Storage = .init(), messaging: Messaging = .init(), compute: Compute = .init(),
        warehouse: Warehouse? = nil, pipelines: [Pipeline] = [], suppressions: [Suppression] = [],
        environments: [DeploymentEnvironment] = []
    ) {
        self.file = file
        self.project = project
        self.network = network
        self.identity = identity
        self.storage = storage
        self.messaging = messaging
        self.compute = compute
        self.warehouse = warehouse
        self.pipelines = pipelines
        self.suppressions = suppressions
        self.environments = environments
    }
}

public struct Project: Sendable {
    public var name: String
    public var region: String
    /// The AWS account ID; rendered as a parameter so one template serves several accounts.
    public var account: String?
    /// Put on every taggable resource, in key order.
    public var tags: [(key: String, value: String)]
    public var location: SourceLocation

    public init(
        name: String, region: String, account: String? = nil, tags: [(key: String, value: String)] = [],
        location: SourceLocation = .unknown
    ) {
        self.name = name
        self.region = region
        self.account = account
        self.tags = tags
        self.location = location
    }
}

/// Anything referenced by name that a finding can point at.
public protocol Named: Sendable {
    var name: String { get }
    var location: SourceLocation { get }
}

// MARK: - Network

public struct Network: Sendable {
    public var vpc: VPC
    public var internetGateway: InternetGateway?
    public var subnets: [Subnet]
    public var natGateways: [NATGateway]
    /// Explicit and derived route tables; every subnet is associated with exactly one.
    public var routeTables: [RouteTable]
    public var endpoints: [Endpoint]
    public var securityGroups: [SecurityGroup]
    public var networkACLs: [NetworkACL]

    public init(
        vpc: VPC, internetGateway: InternetGateway? = nil, subnets: [Subnet] = [], natGateways: [NATGateway] = [],
        routeTables: [RouteTable] = [], endpoints: [Endpoint] = [], securityGroups: [SecurityGroup] = [],
        networkACLs: [NetworkACL] = []
    ) {
        self.vpc = vpc
        self.internetGateway = internetGateway
        self.subnets = subnets
        self.natGateways = natGateways
        self.routeTables = routeTables
        self.endpoints = endpoints
        self.securityGroups = securityGroups
        self.networkACLs = networkACLs
    }

    public func subnet(_ name: String) -> Subnet? { subnets.first { $0.name == name } }
    public func securityGroup(_ name: String) -> SecurityGroup? { securityGroups.first { $0.name == name } }
    public func natGateway(_ name: String) -> NATGateway? { natGateways.first { $0.name == name } }
    public func endpoint(_ name: String) -> Endpoint? { endpoints.first { $0.name == name } }
    public func routeTable(for subnet: String) -> RouteTable? { routeTables.first { $0.subnets.contains(subnet) } }
    public func networkACL(for subnet: String) -> NetworkACL? { networkACLs.first { $0.subnets.contains(subnet) } }
}

public struct VPC: Named {
    public var name: String
    public var cidr: CIDR
    public var ipv6: CIDR?
    public var location: SourceLocation
    public var cidrLocation: SourceLocation

    public init(
        name: String, cidr: CIDR, ipv6: CIDR? = nil, location: SourceLocation = .unknown,
        cidrLocation: SourceLocation? = nil
    ) {
        self.name = name
        self.cidr = cidr
        self.ipv6 = ipv6
        self.location = location
        self.cidrLocation = cidrLocation ?? location
    }
}

public struct InternetGateway: Named {
    public var name: String
    public var location: SourceLocation
    public init(name: String, location: SourceLocation = .unknown) {
        self.name = name
        self.location = location
    }
}

/// AWS CDK's three subnet types.
public enum SubnetType: String, Sendable, CaseIterable {
    /// Default route to the internet gateway; resources may have public addresses.
    case `public`
    /// Egress to the internet through a NAT gateway only.
    case `private`
    /// No route to the internet at all.
    case isolated
}

public struct Subnet: Named {
    public var name: String
    public var cidr: CIDR
    public var ipv6: CIDR?
    /// Full availability-zone name, e.g. `eu-west-1a`.
    public var availabilityZone: String
    public var type: SubnetType
    public var location: SourceLocation
    public var cidrLocation: SourceLocation

    public init(
        name: String, cidr: CIDR, ipv6: CIDR? = nil, availabilityZone: String, type: SubnetType,
        location: SourceLocation = .unknown, cidrLocation: SourceLocation? = nil
    ) {
        self.name = name
        self.cidr = cidr
        self.ipv6 = ipv6
        self.availabilityZone = availabilityZone
        self.type = type
        self.location = location
        self.cidrLocation = cidrLocation ?? location
    }

    /// AWS reserves the first four and the last address of every subnet.
    public var usableAddresses: Int {
        let count = cidr.addressCount
        return count > 5 ? Int(min(count, UInt128(Int.max))) - 5 : 0
    }
}

public struct NATGateway: Named {
    public var name: String
    public var subnet: String
    public var location: SourceLocation
    public init(name: String, subnet: String, location: SourceLocation = .unknown) {
        self.name = name
        self.subnet = subnet
        self.location = location
    }
}

public enum RouteTarget: Hashable, Sendable, CustomStringConvertible {
    /// Traffic stays in the VPC (the implicit route for the VPC's own blocks).
    case local
    case internetGateway(String)
    case natGateway(String)
    /// A gateway endpoint's prefix-list route (S3, DynamoDB).
    case gatewayEndpoint(String)

    public var description: String {
        switch self {
        case .local: return "local"
        case .internetGateway(let name): return "internet gateway '\(name)'"
        case .natGateway(let name): return "NAT gateway '\(name)'"
        case .gatewayEndpoint(let name): return "gateway endpoint '\(name)'"
        }
    }
}

public struct Route: Hashable, Sendable {
    public var destination: CIDR
    public var target: RouteTarget
    public var location: SourceLocation
    public init(destination: CIDR, target: RouteTarget, location: SourceLocation = .unknown) {
        self.destination = destination
        self.target = target
        self.location = location
    }
}

public struct RouteTable: Named {
    public var name: String
    public var subnets: [String]
    /// Explicit routes; the VPC's local routes are implicit.
    public var routes: [Route]
    /// True when the compiler built this table from subnet types.
    public var derived: Bool
    public var location: SourceLocation

    public init(name: String, subnets: [String], routes: [Route], derived: Bool = false, location: SourceLocation = .unknown) {
        self.name = name
        self.subnets = subnets
        self.routes = routes
        self.derived = derived
        self.location = location
    }
}

public enum EndpointType: String, Sendable, CaseIterable { case gateway, interface }

public struct Endpoint: Named {
    public var name: String
    /// The AWS service short name: `s3`, `dynamodb`, `secretsmanager`, `logs`, `sts`, …
    public var service: String
    public var type: EndpointType
    /// Gateway endpoints: the route tables that get the service's prefix-list route.
    public var routeTables: [String]
    /// Interface endpoints: where the ENIs live and what guards them.
    public var subnets: [String]
    public var securityGroups: [String]
    public var policy: EndpointPolicy
    public var location: SourceLocation

    public init(
        name: String, service: String, type: EndpointType, routeTables: [String] = [], subnets: [String] = [],
        securityGroups: [String] = [], policy: EndpointPolicy = .derived, location: SourceLocation = .unknown
    ) {
        self.name = name
        self.service = service
        self.type = type
        self.routeTables = routeTables
        self.subnets = subnets
        self.securityGroups = securityGroups
        self.policy = policy
        self.location = location
    }
}

public enum EndpointPolicy: Sendable, Equatable {
    /// Built by the compiler from the buckets and tables the spec's workloads touch.
    case derived
    /// Only these buckets (S3) or tables (DynamoDB) of the spec.
    case resources([String], location: SourceLocation)
    /// AWS's default: the whole service. Least-privilege checks flag it.
    case fullAccess(location: SourceLocation)
    case statements([PolicyStatement])
}

public enum IPProtocol: String, Sendable, Hashable, CaseIterable {
    case tcp, udp, icmp, all

    /// Whether a rule with this protocol matches traffic of `other`.
    public func matches(_ other: IPProtocol) -> Bool { self == .all || self == other }
}

public struct PortRange: Hashable, Sendable, CustomStringConvertible {
    public var from: Int
    public var to: Int
    public init(_ from: Int, _ to: Int) {
        self.from = from
        self.to = to
    }
    public init(_ port: Int) { self.init(port, port) }

    public static let all = PortRange(0, 65535)
    /// The client-side ports return traffic goes to. AWS recommends allowing the whole
    /// range on NACLs because Lambda, NAT gateways and ELB use 1024-65535.
    public static let ephemeral = PortRange(1024, 65535)

    public func contains(_ other: PortRange) -> Bool { from <= other.from && other.to <= to }
    public func overlaps(_ other: PortRange) -> Bool { from <= other.to && other.from <= to }
    public func contains(port: Int) -> Bool { from <= port && port <= to }
    public var description: String { self == .all ? "all ports" : from == to ? "\(from)" : "\(from)-\(to)" }
}

/// Who a security-group rule admits or reaches.
public enum Peer: Hashable, Sendable, CustomStringConvertible {
    case cidr(CIDR)
    case securityGroup(String)
    /// A gateway endpoint's managed prefix list (the S3 or DynamoDB address ranges).
    case prefixList(endpoint: String)

    public var description: String {
        switch self {
        case .cidr(let block): return block.description
        case .securityGroup(let name): return "security group '\(name)'"
        case .prefixList(let endpoint): return "prefix list of endpoint '\(endpoint)'"
        }
    }
}

public struct SecurityGroupRule: Hashable, Sendable {
    public var proto: IPProtocol
    public var ports: PortRange
    public var peer: Peer
    public var description: String?
    public var location: SourceLocation
    public init(
        proto: IPProtocol = .tcp, ports: PortRange, peer: Peer, description: String? = nil,
        location: SourceLocation = .unknown
    ) {
        self.proto = proto
        self.ports = ports
        self.peer = peer
        self.description = description
        self.location = location
    }
}

public struct SecurityGroup: Named {
    public var name: String
    public var description: String
    public var ingress: [SecurityGroupRule]
    /// Security groups are stateful; an empty egress list means no outbound connections.
    public var egress: [SecurityGroupRule]
    public var location: SourceLocation

    public init(
        name: String, description: String, ingress: [SecurityGroupRule] = [], egress: [SecurityGroupRule] = [],
        location: SourceLocation = .unknown
    ) {
        self.name = name
        self.description = description
        self.ingress = ingress
        self.egress = egress
        self.location = location
    }
}

public enum RuleAction: String, Sendable, CaseIterable { case allow, deny }

public struct NetworkACLEntry: Hashable, Sendable {
    /// Rules are evaluated in ascending number; the first match decides.
    public var number: Int
    public var proto: IPProtocol
    public var ports: PortRange
    public var cidr: CIDR
    public var action: RuleAction
    public var location: SourceLocation
    public init(
        number: Int, proto: IPProtocol, ports: PortRange, cidr: CIDR, action: RuleAction,
        location: SourceLocation = .unknown
    ) {
        self.number = number
        self.proto = proto
        self.ports = ports
        self.cidr = cidr
        self.action = action
        self.location = location
    }
}

/// Stateless: return traffic must be allowed explicitly, usually on the ephemeral ports.
public struct NetworkACL: Named {
    public var name: String
    public var subnets: [String]
    public var ingress: [NetworkACLEntry]
    public var egress: [NetworkACLEntry]
    public var location: SourceLocation
    public init(
        name: String, subnets: [String], ingress: [NetworkACLEntry], egress: [NetworkACLEntry],
        location: SourceLocation = .unknown
    ) {
        self.name = name
        self.subnets = subnets
        self.ingress = ingress.sorted { $0.number < $1.number }
        self.egress = egress.sorted { $0.number < $1.number }
        self.location = location
    }
}
