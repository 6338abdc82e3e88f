import SluiceCore

/// What changed between two renderings of a template: resources added, removed and modified (with
/// the property paths that changed), and the security-relevant rows — every IAM, bucket, endpoint and
/// queue policy statement, Lambda permission, security-group rule, route and network-ACL entry —
/// added or removed, written with spec names rather than intrinsic functions.
public struct TemplateDiff: Sendable {
    public struct Resource: Sendable, Equatable {
        public var id: String
        public var type: String
        /// Changed property paths (`Properties.CidrBlock`, `Properties.SecurityGroupIngress[1].ToPort`).
        public var paths: [String]
    }
    public struct Row: Sendable, Hashable {
        public enum Change: String, Sendable { case added, removed }
        public var table: String
        public var change: Change
        public var text: String
    }

    public var added: [Resource] = []
    public var removed: [Resource] = []
    public var modified: [Resource] = []
    public var security: [Row] = []

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && modified.isEmpty && security.isEmpty }

    /// The security tables, in the order they are printed.
    public static let tables = ["IAM policy statements", "Lambda permissions", "security group rules", "routes", "network ACL entries"]

    public init(old: TemplateValue?, new: TemplateValue, names: [String: String]) {
        let oldResources = Self.resources(old), newResources = Self.resources(new)
        let oldIDs = Set(oldResources.map(\.0))
        let newIDs = Set(newResources.map(\.0))
        for (id, resource) in newResources where !oldIDs.contains(id) {
            added.append(Resource(id: id, type: Self.type(resource), paths: []))
        }
        for (id, resource) in oldResources where !newIDs.contains(id) {
            removed.append(Resource(id: id, type: Self.type(resource), paths: []))
        }
        for (id, resource) in newResources {
            guard let previous = oldResources.first(where: { $0.0 == id })?.1, previous != resource else { continue }
            var paths: [String] = []
            Self.changedPaths(previous, resource, path: "", into: &paths)
            modified.append(Resource(id: id, type: Self.type(resource), paths: paths))
        }
        let describe = Describer(names: names)
        let before = Set(old.map { describe.rows($0) } ?? []), after = Set(describe.rows(new))
        for table in Self.tables {
            security += after.subtracting(before).filter { $0.table == table }.sorted { $0.text < $1.text }
                .map { Row(table: table, change: .added, text: $0.text) }
            security += before.subtracting(after).filter { $0.table == table }.sorted { $0.text < $1.text }
                .map { Row(table: table, change: .removed, text: $0.text) }
        }
    }

    public static func resources(_ template: TemplateValue?) -> [(String, TemplateValue)] {
        guard case .map(let entries)? = template?["Resources"] else { return [] }
        return entries
    }

    public static func type(_ resource: TemplateValue) -> String {
        if case .string(let type)? = resource["Type"] { return type }
        return "?"
    }

    static func changedPaths(_ a: TemplateValue, _ b: TemplateValue, path: String, into paths: inout [String]) {
        guard a != b else { return }
        switch (a, b) {
        case (.map(let x), .map(let y)):
            var keys = x.map(\.0)
            for key in y.map(\.0) where !keys.contains(key) { keys.append(key) }
            for key in keys {
                let child = path.isEmpty ? key : "\(path).\(key)"
                switch (a[key], b[key]) {
                case (let old?, let new?): changedPaths(old, new, path: child, into: &paths)
                default: paths.append(child)
                }
            }
        case (.list(let x), .list(let y)) where x.count == y.count:
            for (index, pair) in zip(x, y).enumerated() { changedPaths(pair.0, pair.1, path: "\(path)[\(index)]", into: &paths) }
        default:
            paths.append(path)
        }
    }
}

/// Writes template values the way the spec names things: `Ref: SecurityGroupDw` is `security group
/// dw`, the S3 ARN `arn:${AWS::Partition}:s3:::clickstream-raw-${AWS::AccountId}-${AWS::Region}/events/*`
/// is `bucket raw/events/*`.
struct Describer {
    let names: [String: String]

    struct Row: Hashable { var table: String; var text: String }

    func value(_ value: TemplateValue?) -> String {
        guard let value else { return "—" }
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list(let items): return items.map { self.value($0) }.joined(separator: ", ")
        case .map(let entries):
            if entries.count == 1, let (key, inner) = entries.first {
                switch key {
                case "Ref": if case .string(let id) = inner { return names[id] ?? id }
                case "Fn::GetAtt": if case .list(let parts) = inner, case .string(let id)? = parts.first { return names[id] ?? id }
                case "Fn::Sub": if case .string(let text) = inner { return substitute(text) }
                default: break
                }
            }
            return "{" + entries.map { "\($0.0): \(self.value($0.1))" }.joined(separator: ", ") + "}"
        }
    }

    func substitute(_ text: String) -> String {
        var result = text.replacingOccurrences(of: "arn:${AWS::Partition}:s3:::", with: "")
        for (pattern, name) in names where pattern.hasPrefix("s3name:") {
            result = result.replacingOccurrences(of: String(pattern.dropFirst("s3name:".count)), with: name)
        }
        // `${BucketRaw.Arn}` and friends.
        for (id, name) in names where !id.hasPrefix("s3name:") {
            result = result.replacingOccurrences(of: "${\(id).Arn}", with: name).replacingOccurrences(of: "${\(id)}", with: name)
        }
        return result
    }

    func rows(_ template: TemplateValue) -> [Row] {
        var rows: [Row] = []
        for (id, resource) in TemplateDiff.resources(template) {
            let properties = resource["Properties"]
            let owner = names[id] ?? id
            switch TemplateDiff.type(resource) {
            case "AWS::IAM::Role":
                if case .list(let policies)? = properties?["Policies"] {
                    for policy in policies { rows += statements(policy["PolicyDocument"], owner: owner) }
                }
            case "AWS::S3::BucketPolicy": rows += statements(properties?["PolicyDocument"], owner: "policy of \(value(properties?["Bucket"]))")
            case "AWS::SQS::QueuePolicy": rows += statements(properties?["PolicyDocument"], owner: "policy of \(value(properties?["Queues"]))")
            case "AWS::EC2::VPCEndpoint":
                rows += statements(properties?["PolicyDocument"], owner: owner)
                if case .list(let tables)? = properties?["RouteTableIds"] {
                    for table in tables {
                        rows.append(Row(table: "routes", text: "\(value(table)): \(value(properties?["ServiceName"])) prefix list → \(owner)"))
                    }
                }
            case "AWS::Lambda::Permission":
                rows.append(
                    Row(
                        table: "Lambda permissions",
                        text:
                            "\(value(properties?["Principal"])) may \(value(properties?["Action"])) \(value(properties?["FunctionName"])) from \(value(properties?["SourceArn"]))"
                    ))
            case "AWS::EC2::SecurityGroup":
                for (key, direction) in [("SecurityGroupIngress", "ingress"), ("SecurityGroupEgress", "egress")] {
                    if case .list(let rules)? = properties?[key] {
                        for rule in rules {
                            rows.append(Row(table: "security group rules", text: securityRule(rule, group: owner, direction: direction)))
                        }
                    }
                }
            case "AWS::EC2::SecurityGroupIngress":
                rows.append(
                    Row(
                        table: "security group rules",
                        text: securityRule(properties ?? .map([]), group: value(properties?["GroupId"]), direction: "ingress")))
            case "AWS::EC2::SecurityGroupEgress":
                rows.append(
                    Row(
                        table: "security group rules",
                        text: securityRule(properties ?? .map([]), group: value(properties?["GroupId"]), direction: "egress")))
            case "AWS::EC2::Route":
                let destination = value(properties?["DestinationCidrBlock"] ?? properties?["DestinationIpv6CidrBlock"])
                let target = value(properties?["GatewayId"] ?? properties?["NatGatewayId"] ?? properties?["VpcEndpointId"])
                rows.append(Row(table: "routes", text: "\(value(properties?["RouteTableId"])): \(destination) → \(target)"))
            case "AWS::EC2::NetworkAclEntry":
                let direction = properties?["Egress"] == true ? "egress" : "ingress"
                var ports = ""
                if let range = properties?["PortRange"] { ports = " ports \(value(range["From"]))-\(value(range["To"]))" }
                rows.append(
                    Row(
                        table: "network ACL entries",
                        text:
                            "\(value(properties?["NetworkAclId"])) \(direction) #\(value(properties?["RuleNumber"])): \(value(properties?["RuleAction"])) protocol \(value(properties?["Protocol"]))\(ports) \(value(properties?["CidrBlock"] ?? properties?["Ipv6CidrBlock"]))"
                    ))
            default: break
            }
        }
        return rows
    }

    func statements(_ document: TemplateValue?, owner: String) -> [Row] {
        guard case .list(let statements)? = document?["Statement"] else { return [] }
        return statements.map { statement in
            let sid = statement["Sid"].map { " [\(value($0))]" } ?? ""
            var text = "\(owner)\(sid): \(value(statement["Effect"])) \(value(statement["Action"])) on \(value(statement["Resource"]))"
            if let principal = statement["Principal"] { text += " for \(value(principal))" }
            if let condition = statement["Condition"] { text += " when \(value(condition))" }
            return Row(table: "IAM policy statements", text: text)
        }
    }

    func securityRule(_ rule: TemplateValue, group: String, direction: String) -> String {
        let proto = value(rule["IpProtocol"])
        let ports = rule["FromPort"] == nil ? "all ports" : "\(value(rule["FromPort"]))-\(value(rule["ToPort"]))"
        let peer =
            rule["CidrIp"] ?? rule["CidrIpv6"] ?? rule["SourceSecurityGroupId"] ?? rule["DestinationSecurityGroupId"]
            ?? rule["SourcePrefixListId"] ?? rule["DestinationPrefixListId"]
        let side = direction == "ingress" ? "from" : "to"
        return "\(group) \(direction) \(proto == "-1" ? "all" : proto) \(ports) \(side) \(value(peer)) (\(value(rule["Description"])))"
    }
}

extension TemplateRenderer {
    /// Logical ID → how the spec names it, for the plan's tables.
    public static func displayNames(spec: Spec) -> [String: String] {
        var names: [String: String] = [:]
        let network = spec.network
        names[LogicalID.vpc(network.vpc.name)] = "VPC \(network.vpc.name)"
        if let igw = network.internetGateway { names[LogicalID.internetGateway(igw.name)] = "internet gateway \(igw.name)" }
        for subnet in network.subnets { names[LogicalID.subnet(subnet.name)] = "subnet \(subnet.name)" }
        for nat in network.natGateways { names[LogicalID.natGateway(nat.name)] = "NAT gateway \(nat.name)" }
        for table in network.routeTables { names[LogicalID.routeTable(table.name)] = "route table \(table.name)" }
        for endpoint in network.endpoints { names[LogicalID.endpoint(endpoint.name)] = "endpoint \(endpoint.name)" }
        for group in network.securityGroups { names[LogicalID.securityGroup(group.name)] = "security group \(group.name)" }
        for acl in network.networkACLs { names[LogicalID.networkACL(acl.name)] = "network ACL \(acl.name)" }
        for bucket in spec.storage.buckets {
            names[LogicalID.bucket(bucket.name)] = "bucket \(bucket.name)"
            names["s3name:" + StorageRenderer.bucketName(bucket.name, spec)] = "bucket \(bucket.name)"
        }
        for table in spec.storage.dynamoTables { names[LogicalID.dynamoTable(table.name)] = "DynamoDB table \(table.name)" }
        for topic in spec.messaging.topics { names[LogicalID.topic(topic.name)] = "topic \(topic.name)" }
        for queue in spec.messaging.queues { names[LogicalID.queue(queue.name)] = "queue \(queue.name)" }
        for secret in spec.messaging.secrets { names[LogicalID.secret(secret.name)] = "secret \(secret.name)" }
        if let warehouse = spec.warehouse { names[LogicalID.secret(warehouse.credentialsSecret)] = "secret \(warehouse.credentialsSecret)" }
        for role in spec.identity.roles { names[LogicalID.role(role.name)] = "role \(role.name)" }
        for function in spec.compute.functions {
            names[LogicalID.function(function.name)] = "function \(function.name)"
            names[LogicalID.logGroup(function.name)] = "log group of \(function.name)"
        }
        for host in spec.compute.hosts { names[LogicalID.host(host.name)] = "host \(host.name)" }
        for pipeline in spec.pipelines { names[LogicalID.schedule(pipeline.name)] = "schedule of \(pipeline.name)" }
        return names
    }
}

extension TemplateRenderer {
    /// The logical ID of a spec function's `AWS::Lambda::Function` (a deploy invokes it by its physical name).
    public static func functionLogicalID(_ function: String) -> String { LogicalID.function(function) }
}
