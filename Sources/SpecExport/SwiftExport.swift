import SluiceCore
import SpecLoader
import YAML

/// A YAML spec's tree written as a Swift spec against SluiceDSL: one declaration per spec part, typed
/// enums where YAML has words, and nothing the loader would default written out. Compiled and run,
/// the result gives the same tree back, so the same model (tested for every reference spec).
public struct SwiftExport {
    public struct Unsupported: Error, CustomStringConvertible {
        public var parts: [String]
        public var description: String { "the Swift DSL cannot express: " + parts.joined(separator: "; ") }
    }

    private var source = SwiftSource()
    private var unsupported: [String] = []

    /// The root must come from a spec that loaded without errors (`LoadResult.root`, includes merged).
    public static func render(_ root: YAMLNode, source name: String) throws -> String {
        var export = SwiftExport()
        export.source.add("// Exported by `sluice export --swift` from \(name). Both forms give the same model and the same generated/ output.")
        export.source.add("import SluiceDSL")
        export.source.add("")
        var body = SwiftSource()
        export.spec(root, into: &body)
        guard export.unsupported.isEmpty else { throw Unsupported(parts: export.unsupported) }
        export.source.block("let spec = Spec") { out in
            for line in body.lines { out.add(line) }
        }
        return export.source.text
    }

    private typealias S = SwiftSource

    private mutating func spec(_ root: YAMLNode, into out: inout SwiftSource) {
        if let project = root["project"] {
            out.add(
                S.call(
                    "Project",
                    [
                        ("", string(project["name"])), ("region", string(project["region"])), ("account", string(project["account"])),
                        ("tags", project["tags"].map(stringMap)),
                    ]))
        }
        if let network = root["network"] { out.blank(); self.network(network, into: &out) }
        if let identity = root["identity"] {
            out.blank()
            for role in identity["roles"]?.items ?? [] {
                out.add(
                    S.call(
                        "Role",
                        [
                            ("", string(role["name"])), ("workload", string(role["workload"])),
                            ("statements", role["statements"].map(statements)),
                        ]))
            }
        }
        if let storage = root["storage"] { out.blank(); self.storage(storage, into: &out) }
        if let messaging = root["messaging"] { out.blank(); self.messaging(messaging, into: &out) }
        if let compute = root["compute"] { out.blank(); self.compute(compute, into: &out) }
        if let warehouse = root["warehouse"] { out.blank(); self.warehouse(warehouse, into: &out) }
        for pipeline in root["pipelines"]?.items ?? [] { out.blank(); self.pipeline(pipeline, into: &out) }
        if let suppressions = root["suppressions"]?.items, !suppressions.isEmpty {
            out.blank()
            for item in suppressions {
                out.add(
                    S.call("Suppression", [("", string(item["rule"])), ("subject", string(item["subject"])), ("reason", string(item["reason"]))]))
            }
        }
        for environment in root["environments"]?.items ?? [] { out.blank(); self.environment(environment, into: &out) }
    }

    private func environment(_ environment: YAMLNode, into out: inout SwiftSource) {
        out.block(S.call("Environment", [("", string(environment["name"]))])) { out in
            for function in environment["functions"]?.items ?? [] {
                out.add(
                    S.call(
                        "FunctionSettings",
                        [
                            ("", string(function["name"])), ("memory", plain(function["memory"])), ("timeout", plain(function["timeout"])),
                            ("reservedConcurrency", plain(function["reserved_concurrency"])),
                            ("logRetentionDays", plain(function["log_retention_days"])),
                        ]))
            }
            for host in environment["hosts"]?.items ?? [] {
                out.add(S.call("HostSettings", [("", string(host["name"])), ("instanceType", string(host["instance_type"]))]))
            }
            if let warehouse = environment["warehouse"] {
                out.add(S.call("WarehouseSettings", [("instanceClass", string(warehouse["instance_class"]))]))
            }
            for pipeline in environment["pipelines"]?.items ?? [] {
                let schedule = pipeline["schedule"].map { $0.text == "off" ? ".off" : Self.schedule($0.text) }
                out.add(S.call("PipelineSettings", [("", string(pipeline["name"])), ("schedule", schedule)]))
            }
        }
    }

    // MARK: Values

    private func string(_ node: YAMLNode?) -> String? { node.map { S.string($0.text) } }
    private func strings(_ node: YAMLNode?) -> String? { node.map { S.strings($0.strings) } }
    private func plain(_ node: YAMLNode?) -> String? { node.map(\.text) }
    private func word(_ node: YAMLNode?, _ table: [String: String] = [:]) -> String? { node.map { S.member($0.text, table) } }
    private func stringMap(_ node: YAMLNode) -> String {
        S.dictionary(node.pairs.compactMap { pair in pair.key.scalar.map { ($0, pair.value.text) } }.sorted { $0.key < $1.key })
    }

    private func port(_ rule: YAMLNode) -> String? {
        guard let node = rule["ports"] ?? rule["port"] else { return nil }
        let text = node.text.replacingOccurrences(of: " ", with: "")
        if text == "all" { return ".all" }
        let named = ["5432": ".postgres", "443": ".https", "80": ".http", "22": ".ssh", "1024-65535": ".ephemeral"]
        if let name = named[text] { return name }
        let bounds = text.split(separator: "-")
        if bounds.count == 2 { return ".range(\(bounds[0]), \(bounds[1]))" }
        return text
    }

    private func peer(_ rule: YAMLNode) -> String {
        if let group = rule["security_group"] { return S.string(group.text) }
        if let endpoint = rule["prefix_list"] { return ".prefixList(\(S.string(endpoint.text)))" }
        let cidr = rule["cidr"]?.text ?? ""
        return cidr == "0.0.0.0/0" ? ".anywhere" : ".cidr(\(S.string(cidr)))"
    }

    private func statements(_ node: YAMLNode) -> String { S.list(node.items.map(statement)) }

    private func statement(_ node: YAMLNode) -> String {
        let resources = node["resources"]?.strings.map(iamResource) ?? []
        var conditions: String?
        if let operators = node["conditions"] {
            conditions =
                "["
                + operators.pairs.map { op in
                    "\(S.string(op.key.text)): ["
                        + op.value.pairs.map { "\(S.string($0.key.text)): \(S.strings($0.value.strings))" }.joined(separator: ", ") + "]"
                }.joined(separator: ", ") + "]"
        }
        return S.call(
            "Statement",
            [
                ("sid", string(node["sid"])), ("effect", word(node["effect"])), ("actions", strings(node["actions"])),
                ("resources", S.list(resources)), ("conditions", conditions),
            ])
    }

    private func iamResource(_ text: String) -> String {
        if text == "*" { return ".any" }
        if text.hasPrefix("arn:") { return ".arn(\(S.string(text)))" }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let (kind, rest) = (parts[0], parts.count > 1 ? parts[1] : "")
        switch kind {
        case "bucket":
            let bucket = rest.split(separator: "/", maxSplits: 1).map(String.init)
            guard bucket.count == 2 else { return ".bucket(\(S.string(rest)))" }
            let prefix = bucket[1].hasSuffix("*") ? String(bucket[1].dropLast()) : bucket[1]
            return ".objects(bucket: \(S.string(bucket[0])), prefix: \(S.string(prefix)))"
        case "secret": return ".secret(\(S.string(rest)))"
        case "table": return ".dynamoTable(\(S.string(rest)))"
        case "topic": return ".topic(\(S.string(rest)))"
        default: return ".queue(\(S.string(rest)))"
        }
    }

    // MARK: Network

    private mutating func network(_ network: YAMLNode, into out: inout SwiftSource) {
        let vpc = network["vpc"]
        out.block(S.call("VPC", [("", string(vpc?["name"])), ("cidr", string(vpc?["cidr"])), ("ipv6CIDR", string(vpc?["ipv6_cidr"]))])) { out in
            if let igw = network["internet_gateway"] { out.add(S.call("InternetGateway", [("", S.string(igw.text))])) }
            for subnet in network["subnets"]?.items ?? [] {
                out.add(
                    S.call(
                        "Subnet",
                        [
                            ("", string(subnet["name"])), ("cidr", string(subnet["cidr"])), ("ipv6CIDR", string(subnet["ipv6_cidr"])),
                            ("az", string(subnet["az"])), ("type", word(subnet["type"])),
                        ]))
            }
            for nat in network["nat_gateways"]?.items ?? [] {
                out.add(S.call("NATGateway", [("", string(nat["name"])), ("subnet", string(nat["subnet"]))]))
            }
            for table in network["route_tables"]?.items ?? [] {
                let routes = (table["routes"]?.items ?? []).map { route -> String in
                    let destination = S.string(route["destination"]?.text ?? "")
                    if let igw = route["internet_gateway"] { return ".internetGateway(\(destination), \(S.string(igw.text)))" }
                    return ".natGateway(\(destination), \(S.string(route["nat_gateway"]?.text ?? "")))"
                }
                out.add(
                    S.call(
                        "RouteTable",
                        [
                            ("", string(table["name"])), ("subnets", strings(table["subnets"])),
                            ("routes", routes.isEmpty ? nil : S.list(routes)),
                        ]))
            }
            for endpoint in network["endpoints"]?.items ?? [] { self.endpoint(endpoint, into: &out) }
            for group in network["security_groups"]?.items ?? [] { securityGroup(group, into: &out) }
            for acl in network["network_acls"]?.items ?? [] {
                func entries(_ key: String) -> String? {
                    guard let items = acl[key]?.items, !items.isEmpty else { return nil }
                    return S.list(
                        items.map { entry in
                            S.call(
                                "ACLEntry",
                                [
                                    ("", plain(entry["rule"])), ("", word(entry["action"])), ("protocol", word(entry["protocol"])),
                                    ("ports", port(entry)), ("cidr", string(entry["cidr"])),
                                ])
                        })
                }
                out.add(
                    S.call(
                        "NetworkACL",
                        [
                            ("", string(acl["name"])), ("subnets", strings(acl["subnets"])), ("ingress", entries("ingress")),
                            ("egress", entries("egress")),
                        ]))
            }
        }
    }

    private mutating func endpoint(_ endpoint: YAMLNode, into out: inout SwiftSource) {
        let service = endpoint["service"]?.text ?? ""
        let services = [
            "s3": "s3", "dynamodb": "dynamodb", "secretsmanager": "secretsManager", "logs": "logs", "sts": "sts", "sns": "sns",
            "sqs": "sqs", "kms": "kms", "monitoring": "monitoring",
        ]
        let serviceValue = services[service].map { "." + $0 } ?? S.string(service)
        let type = endpoint["type"]?.text ?? (["s3", "dynamodb"].contains(service) ? "gateway" : "interface")
        if type == "gateway" {
            var policy: String?
            if let node = endpoint["policy"] {
                if node.scalar == "full_access" {
                    policy = ".fullAccess"
                } else if node.scalar == "derived" {
                    policy = ".derived"
                } else if let list = node["statements"] {
                    policy = ".statements(\(statements(list)))"
                } else if let tables = node["tables"] {
                    policy = ".tables(\(S.strings(tables.strings)))"
                } else {
                    policy = ".buckets(\(S.strings(node["buckets"]?.strings ?? [])))"
                }
            }
            out.add(
                S.call(
                    "GatewayEndpoint",
                    [
                        ("", string(endpoint["name"])), ("service", serviceValue), ("routeTables", strings(endpoint["route_tables"])),
                        ("policy", policy),
                    ]))
        } else {
            if endpoint["policy"] != nil { unsupported.append("a policy on interface endpoint '\(endpoint["name"]?.text ?? "")'") }
            if endpoint["route_tables"] != nil { unsupported.append("route_tables on interface endpoint '\(endpoint["name"]?.text ?? "")'") }
            out.add(
                S.call(
                    "InterfaceEndpoint",
                    [
                        ("", string(endpoint["name"])), ("service", serviceValue), ("subnets", strings(endpoint["subnets"])),
                        ("securityGroups", strings(endpoint["security_groups"])),
                    ]))
        }
    }

    private func securityGroup(_ group: YAMLNode, into out: inout SwiftSource) {
        let ingress = group["ingress"]?.items ?? [], egress = group["egress"]?.items ?? []
        let outbound = group.contains("egress") && egress.isEmpty ? ".none" : nil
        let head = S.call("SecurityGroup", [("", string(group["name"])), ("description", string(group["description"])), ("outbound", outbound)])
        guard !(ingress.isEmpty && egress.isEmpty) else { out.add(head); return }
        out.block(head) { out in
            for (kind, label, rules) in [("Ingress", "from", ingress), ("Egress", "to", egress)] {
                for rule in rules {
                    out.add(
                        S.call(
                            kind,
                            [
                                ("", port(rule) ?? "nil"), ("protocol", word(rule["protocol"])), (label, peer(rule)),
                                ("description", string(rule["description"])),
                            ]))
                }
            }
        }
    }

    // MARK: Storage, messaging, compute

    private mutating func storage(_ storage: YAMLNode, into out: inout SwiftSource) {
        for bucket in storage["buckets"]?.items ?? [] {
            let lifecycle = (bucket["lifecycle"]?.items ?? []).map { rule -> String in
                let transitions = (rule["transitions"]?.items ?? []).map {
                    "(days: \($0["days"]?.text ?? "0"), storageClass: \(S.member($0["storage_class"]?.text ?? "", Self.storageClasses)))"
                }
                return S.call(
                    "LifecycleRule",
                    [
                        ("", string(rule["id"])), ("prefix", string(rule["prefix"])),
                        ("transitions", transitions.isEmpty ? nil : S.list(transitions)),
                        ("expireDays", plain(rule["expire_days"])), ("noncurrentExpireDays", plain(rule["noncurrent_expire_days"])),
                    ])
            }
            let notifications = (bucket["notifications"]?.items ?? []).map { note -> String in
                let target = ["function", "queue", "topic"].first { note[$0] != nil } ?? "function"
                return S.call(
                    "BucketNotification",
                    [
                        ("", ".\(target)(\(S.string(note[target]?.text ?? "")))"), ("events", strings(note["events"])),
                        ("prefix", string(note["prefix"])), ("suffix", string(note["suffix"])),
                    ])
            }
            func list(_ items: [String]) -> String? { items.isEmpty ? nil : S.list(items) }
            out.add(
                S.call(
                    "Bucket",
                    [
                        ("", string(bucket["name"])), ("purpose", string(bucket["purpose"])), ("prefixes", strings(bucket["prefixes"])),
                        ("encryption", word(bucket["encryption"], ["sse-s3": "sseS3", "sse-kms": "sseKMS", "none": "unencrypted"])),
                        ("kmsKey", string(bucket["kms_key"])), ("versioning", plain(bucket["versioning"])),
                        ("blockPublicAccess", plain(bucket["block_public_access"])), ("lifecycle", list(lifecycle)),
                        ("notifications", list(notifications)),
                    ]))
        }
        for table in storage["dynamodb_tables"]?.items ?? [] {
            let types = ["S": "string", "N": "number", "B": "binary"]
            out.add(
                S.call(
                    "DynamoDBTable",
                    [
                        ("", string(table["name"])), ("partitionKey", string(table["partition_key"]?["name"])),
                        ("", word(table["partition_key"]?["type"], types)), ("sortKey", string(table["sort_key"]?["name"])),
                        ("", word(table["sort_key"]?["type"], types)), ("ttlAttribute", string(table["ttl_attribute"])),
                    ]))
        }
    }

    static let storageClasses = [
        "STANDARD_IA": "standardIA", "ONEZONE_IA": "oneZoneIA", "INTELLIGENT_TIERING": "intelligentTiering",
        "GLACIER_IR": "glacierIR", "GLACIER": "glacier", "DEEP_ARCHIVE": "deepArchive",
    ]

    private func messaging(_ messaging: YAMLNode, into out: inout SwiftSource) {
        for topic in messaging["topics"]?.items ?? [] {
            out.add(S.call("Topic", [("", string(topic["name"])), ("email", strings(topic["email"])), ("queues", strings(topic["queues"]))]))
        }
        for queue in messaging["queues"]?.items ?? [] {
            out.add(
                S.call(
                    "Queue",
                    [
                        ("", string(queue["name"])), ("visibilityTimeout", plain(queue["visibility_timeout"])),
                        ("retentionSeconds", plain(queue["retention_seconds"])), ("deadLetter", string(queue["dead_letter"]?["queue"])),
                        ("maxReceiveCount", plain(queue["dead_letter"]?["max_receive_count"])),
                    ]))
        }
        for secret in messaging["secrets"]?.items ?? [] {
            out.add(
                S.call(
                    "Secret",
                    [
                        ("", string(secret["name"])), ("description", string(secret["description"])),
                        ("generateFor", string(secret["generate_for"])),
                    ]))
        }
    }

    private func uses(_ node: YAMLNode?) -> String? {
        guard let node else { return nil }
        let keys = [
            ("read_buckets", "readBuckets"), ("write_buckets", "writeBuckets"), ("dynamodb_tables", "dynamoDBTables"),
            ("topics", "topics"), ("queues", "queues"), ("secrets", "secrets"),
        ]
        return S.call("Uses", keys.map { ($0.1, node[$0.0].flatMap { $0.strings.isEmpty ? nil : S.strings($0.strings) }) })
    }

    private func compute(_ compute: YAMLNode, into out: inout SwiftSource) {
        let runtimes = [
            "provided.al2023": "providedAL2023", "python3.12": "python312", "python3.13": "python313", "nodejs22.x": "nodejs22",
            "java21": "java21",
        ]
        for function in compute["functions"]?.items ?? [] {
            let runtime = function["runtime"].map { runtimes[$0.text].map { "." + $0 } ?? S.string($0.text) }
            out.add(
                S.call(
                    "Function",
                    [
                        ("", string(function["name"])), ("runtime", runtime), ("handler", string(function["handler"])),
                        ("architecture", word(function["architecture"], ["x86_64": "x86_64"])), ("memory", plain(function["memory"])),
                        ("timeout", plain(function["timeout"])), ("reservedConcurrency", plain(function["reserved_concurrency"])),
                        ("subnets", strings(function["subnets"])), ("securityGroups", strings(function["security_groups"])),
                        ("environment", function["environment"].map(stringMap)), ("uses", uses(function["uses"])),
                        ("deadLetterQueue", string(function["dead_letter_queue"])),
                        ("logRetentionDays", plain(function["log_retention_days"])),
                    ]))
        }
        for host in compute["hosts"]?.items ?? [] {
            out.add(
                S.call(
                    "Host",
                    [
                        ("", string(host["name"])), ("purpose", string(host["purpose"])), ("instanceType", string(host["instance_type"])),
                        ("subnet", string(host["subnet"])), ("securityGroups", strings(host["security_groups"])),
                        ("publicIP", plain(host["public_ip"])), ("uses", uses(host["uses"])),
                    ]))
        }
    }

    // MARK: Warehouse

    /// `.numeric(12, 2)`, `.varchar(2)`, `.text.array`; anything without a named form as `.sql("…")` in canonical spelling.
    static func postgresType(_ text: String) -> String {
        guard let type = PostgresType(parsing: text) else { return ".sql(\(S.string(text)))" }
        var base: String
        switch (type.base, type.modifiers.count) {
        case (.varchar, 1): base = ".varchar(\(type.modifiers[0]))"
        case (.char, 1): base = ".char(\(type.modifiers[0]))"
        case (.numeric, 2): base = ".numeric(\(type.modifiers[0]), \(type.modifiers[1]))"
        case (.doublePrecision, 0): base = ".doublePrecision"
        case (.varchar, 0), (.char, 0): base = ".sql(\(S.string(type.base.rawValue)))"
        case (_, 0): base = "." + type.base.rawValue
        default: base = ".sql(\(S.string(PostgresType(type.base, modifiers: type.modifiers).description)))"
        }
        return type.isArray ? base + ".array" : base
    }

    private func warehouse(_ warehouse: YAMLNode, into out: inout SwiftSource) {
        let engine: String
        switch warehouse["engine"]?.text {
        case "rds"?: engine = S.call(".rds", [("instanceClass", string(warehouse["instance_class"]))])
        case "aurora"?:
            engine = S.call(".aurora", [("instanceClass", string(warehouse["instance_class"])), ("instances", plain(warehouse["instances"]))])
        default: engine = ".ec2(host: \(S.string(warehouse["host"]?.text ?? "")))"
        }
        let head = S.call(
            "Warehouse",
            [
                ("", string(warehouse["name"])), ("engine", engine), ("subnets", strings(warehouse["subnets"])),
                ("securityGroups", strings(warehouse["security_groups"])), ("port", plain(warehouse["port"])),
                ("database", string(warehouse["database"])),
                ("credentialsSecret", string(warehouse["credentials_secret"])), ("clients", strings(warehouse["clients"])),
                ("publiclyAccessible", plain(warehouse["publicly_accessible"])), ("schemas", strings(warehouse["schemas"])),
            ])
        out.block(head) { out in
            for table in warehouse["tables"]?.items ?? [] { self.table(table, into: &out) }
            for view in warehouse["views"]?.items ?? [] {
                out.add(S.call("View", [("", string(view["name"])), ("schema", string(view["schema"])), ("sql", string(view["sql"]))]))
            }
            for view in warehouse["materialized_views"]?.items ?? [] {
                out.add(
                    S.call(
                        "MaterializedView",
                        [
                            ("", string(view["name"])), ("schema", string(view["schema"])),
                            ("uniqueKey", strings(view["unique_key"])), ("sql", string(view["sql"])),
                        ]))
            }
            for routine in warehouse["routines"]?.items ?? [] {
                let arguments = (routine["arguments"]?.items ?? []).map { "\(S.string($0["name"]?.text ?? "")): \(S.string($0["type"]?.text ?? ""))" }
                out.add(
                    S.call(
                        "Routine",
                        [
                            ("", string(routine["name"])), ("schema", string(routine["schema"])), ("kind", word(routine["kind"], [:])),
                            ("arguments", arguments.isEmpty ? nil : "[" + arguments.joined(separator: ", ") + "]"),
                            ("returns", string(routine["returns"])), ("language", word(routine["language"], [:])), ("body", string(routine["body"])),
                        ]))
            }
            for role in warehouse["roles"]?.items ?? [] {
                let grants = (role["grants"]?.items ?? []).map { grant in
                    S.call(
                        "Grant",
                        [
                            ("", S.list((grant["privileges"]?.strings ?? []).map { S.member($0.lowercased()) })),
                            ("on", S.strings(grant["on"]?.strings ?? [])),
                        ])
                }
                out.add(
                    S.call(
                        "DatabaseRole",
                        [
                            ("", string(role["name"])), ("login", plain(role["login"])),
                            ("grants", grants.isEmpty ? nil : S.list(grants)),
                        ]))
            }
        }
    }

    private func table(_ table: YAMLNode, into out: inout SwiftSource) {
        out.block(S.call("Table", [("", string(table["name"])), ("schema", string(table["schema"])), ("description", string(table["description"]))]))
        { out in
            for column in table["columns"]?.items ?? [] {
                out.add(
                    S.call(
                        "Column",
                        [
                            ("", string(column["name"])), ("", column["type"].map { Self.postgresType($0.text) }),
                            ("notNull", plain(column["not_null"])), ("default", string(column["default"])),
                            ("primaryKey", plain(column["primary_key"])), ("unique", plain(column["unique"])),
                            ("identity", plain(column["identity"])), ("references", string(column["references"])),
                            ("description", string(column["description"])),
                        ]))
            }
            if let key = table["primary_key"]?.strings, !key.isEmpty { out.add("PrimaryKey(" + key.map(S.string).joined(separator: ", ") + ")") }
            for unique in table["unique"]?.items ?? [] { out.add("Unique(" + unique.strings.map(S.string).joined(separator: ", ") + ")") }
            for key in table["foreign_keys"]?.items ?? [] {
                out.add(
                    S.call(
                        "ForeignKey",
                        [
                            ("", strings(key["columns"])), ("references", string(key["references"]?["table"])),
                            ("columns", strings(key["references"]?["columns"])), ("onDelete", word(key["on_delete"])),
                        ]))
            }
            for check in table["checks"]?.items ?? [] {
                out.add(S.call("Check", [("", string(check["name"])), ("", string(check["expression"]))]))
            }
            for index in table["indexes"]?.items ?? [] {
                out.add(
                    S.call(
                        "Index",
                        [
                            ("", strings(index["columns"])), ("name", string(index["name"])), ("unique", plain(index["unique"])),
                            ("method", word(index["method"])), ("where", string(index["where"])),
                        ]))
            }
        }
    }

    // MARK: Pipelines

    static func schedule(_ expression: String) -> String {
        let inner = expression.dropFirst(5).dropLast()  // what is inside `rate(…)` or `cron(…)`
        if expression.hasPrefix("rate("), expression.hasSuffix(")") {
            let parts = inner.split(separator: " ")
            if parts.count == 2, let value = Int(parts[0]) {
                let unit = parts[1].hasSuffix("s") ? String(parts[1]) : parts[1] + "s"
                let rendered = "rate(\(value) \(value == 1 ? String(unit.dropLast()) : unit))"
                if ["minutes", "hours", "days"].contains(unit), rendered == expression { return ".rate(\(value), .\(unit))" }
            }
        }
        if expression.hasPrefix("cron("), expression.hasSuffix(")") { return ".cron(\(S.string(String(inner))))" }
        return ".expression(\(S.string(expression)))"
    }

    private func pipeline(_ pipeline: YAMLNode, into out: inout SwiftSource) {
        let head = S.call(
            "Pipeline",
            [
                ("", string(pipeline["name"])), ("workload", string(pipeline["workload"])),
                ("schedule", pipeline["schedule"].map { Self.schedule($0.text) }),
            ])
        out.block(head) { out in
            if let source = pipeline["source"] { out.add(self.source(source)) }
            for pair in pipeline["fields"]?.pairs ?? [] {
                let rule = pair.value
                out.add(
                    S.call(
                        "Field",
                        [
                            ("", S.string(pair.key.text)), ("", word(rule["type"])), ("required", plain(rule["required"])),
                            ("pattern", string(rule["pattern"])), ("allowed", strings(rule["enum"])),
                            ("decimal", string(rule["decimal"])), ("group", string(rule["group"])), ("format", string(rule["format"])),
                            ("timeZone", string(rule["time_zone"])),
                        ]))
            }
            for pair in pipeline["derive"]?.pairs ?? [] {
                let kind = pair.value.keys.first ?? "date"
                out.add("Derive(\(S.string(pair.key.text)), .\(kind)(of: \(S.string(pair.value[kind]?.text ?? ""))))")
            }
            for filter in pipeline["filters"]?.items ?? [] {
                let condition: String
                if let value = filter["equals"] {
                    condition = ".equals(\(S.string(value.text)))"
                } else if let values = filter["in"] {
                    condition = ".oneOf(\(S.strings(values.strings)))"
                } else if let pattern = filter["matches"] {
                    condition = ".matches(\(S.string(pattern.text)))"
                } else {
                    condition = ".exists"
                }
                out.add(S.call("Filter", [("", string(filter["name"])), ("field", string(filter["field"])), ("", condition)]))
            }
            if let key = pipeline["dedupe_key"]?.strings, !key.isEmpty { out.add("DedupeKey(" + key.map(S.string).joined(separator: ", ") + ")") }
            for target in pipeline["targets"]?.items ?? [] { self.target(target, into: &out) }
            if let quarantine = pipeline["quarantine"] {
                out.add(S.call("Quarantine", [("bucket", string(quarantine["bucket"])), ("prefix", string(quarantine["prefix"]))]))
            }
            for step in pipeline["post_load"]?.items ?? [] {
                if let view = step["refresh"] {
                    out.add("Refresh(\(S.string(view.text)))")
                } else {
                    out.add("Call(\(S.string(step["call"]?.text ?? "")))")
                }
            }
            if let alarms = pipeline["alarms"] {
                out.add(
                    S.call(
                        "Alarms",
                        [
                            ("topic", string(alarms["topic"])), ("errorThreshold", plain(alarms["error_threshold"])),
                            ("quarantinePercent", alarms["quarantine_rate"].map { String($0.text.dropLast()) }),
                        ]))
            }
            if let limit = pipeline["max_rejected"]?.text {
                out.add(limit.hasSuffix("%") ? "MaxRejected(.percent(\(limit.dropLast())))" : "MaxRejected(.records(\(limit)))")
            }
        }
    }

    private func source(_ source: YAMLNode) -> String {
        if let api = source["api"] {
            var pagination: String?
            switch api["pagination"]?.text {
            case "none"?: pagination = ".none"
            case "link"?: pagination = ".link"
            case "cursor"?:
                pagination = ".cursor(param: \(string(api["cursor"]?["param"]) ?? "\"\""), from: \(string(api["cursor"]?["from"]) ?? "\"\""))"
            case "page"?:
                let page = api["page"]
                pagination = S.call(
                    ".page",
                    [
                        ("param", string(page?["param"])), ("first", plain(page?["first"])), ("sizeParam", string(page?["size_param"])),
                        ("size", plain(page?["size"])),
                    ])
            default: pagination = nil
            }
            let incremental = api["incremental"].map {
                S.call("APIIncremental", [("param", string($0["param"])), ("from", string($0["from"]))])
            }
            let auth = api["auth"].map {
                S.call("APIAuth", [("secret", string($0["secret"])), ("header", string($0["header"])), ("scheme", string($0["scheme"]))])
            }
            return S.call(
                "APISource",
                [
                    ("", string(api["url"])), ("records", string(api["records"])), ("pagination", pagination), ("incremental", incremental),
                    ("auth", auth), ("landing", string(source["landing"]?["bucket"])), ("prefix", string(source["landing"]?["prefix"])),
                ])
        }
        var format = S.member(source["format"]?.text ?? "jsonl", ["json_array": "jsonArray"])
        if let csv = source["csv"] {
            format = S.call(
                ".csv",
                [
                    ("header", plain(csv["header"])),
                    (
                        "delimiter",
                        string(csv["delimiter"]).map {
                            csv["delimiter"]?.text == "\\t" ? "\"\\t\"" : $0
                        }
                    ), ("quote", string(csv["quote"])),
                ])
        }
        if let xlsx = source["xlsx"] {
            let sheet = xlsx["sheet"]
            format = S.call(
                ".xlsx",
                [
                    ("sheet", sheet?.isPlainScalar == true && Int(sheet?.text ?? "") != nil ? nil : string(sheet)),
                    ("sheetIndex", sheet?.isPlainScalar == true && Int(sheet?.text ?? "") != nil ? plain(sheet) : nil),
                    ("headerRow", plain(xlsx["header_row"])),
                ])
        }
        let compression = word(source["compression"], ["none": "uncompressed"])
        if let folder = source["folder"] {
            return S.call("FolderSource", [("", S.string(folder.text)), ("format", format), ("compression", compression)])
        }
        return S.call(
            "BucketSource",
            [
                ("", string(source["bucket"])), ("prefix", string(source["prefix"])), ("format", format),
                ("compression", compression),
            ])
    }

    private func target(_ target: YAMLNode, into out: inout SwiftSource) {
        let key = target["key"].map { S.strings($0.strings) }
        let mode: String?
        switch target["mode"]?.text {
        case "upsert"?: mode = ".upsert(key: \(key ?? "[]"))"
        case "versioned_upsert"?: mode = ".versionedUpsert(key: \(key ?? "[]"), versionColumn: \(S.string(target["version_column"]?.text ?? "")))"
        default: mode = key.map { ".append(key: \($0))" }
        }
        out.block(S.call("Target", [("", string(target["table"])), ("mode", mode)])) { out in
            for pair in target["columns"]?.pairs ?? [] {
                let column = S.string(pair.key.text), value = pair.value
                if let path = value.scalar, !value.isNull { out.add("Assign(\(column), \(S.string(path)))"); continue }
                let source: String
                if let path = value["from"] {
                    source = S.string(path.text)
                } else if let name = value["derived"] {
                    source = ".derived(\(S.string(name.text)))"
                } else if let constant = value["const"] {
                    source = ".constant(\(S.string(constant.text)))"
                } else if value["on_update"] != nil {
                    source = ".writtenAt"
                } else if let sql = value["sql"] {
                    source = ".sql(\(S.string(sql.text)))"
                } else {
                    source = ".record"
                }
                out.add(
                    S.call(
                        "Assign",
                        [
                            ("", column), ("", source),
                            ("transform", value["transform"].map { "[" + $0.strings.map { S.member($0) }.joined(separator: ", ") + "]" }),
                            ("map", value["map"].map(stringMap)), ("mapDefault", string(value["map_default"])),
                            ("cast", value["cast"].map { Self.postgresType($0.text) }), ("mask", word(value["mask"])),
                            ("merge", word(value["merge"])),
                        ]))
            }
        }
    }
}
