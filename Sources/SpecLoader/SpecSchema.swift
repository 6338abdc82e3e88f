import SluiceCore

/// How a key behaves when a spec leaves it out: what the "default" column of docs/spec.md says.
public enum KeyAbsence: Sendable, Hashable {
    /// The mapping is incomplete without it.
    case required
    /// Required in some cases only, said in words ("for interface endpoints").
    case requiredWhen(String)
    /// One of the section's `exactlyOne` alternatives.
    case alternative
    /// Optional; the text (Markdown) says what applies instead ("`tcp`", "none", "derived").
    case defaults(String)
    /// Never written: the key is taken only to refuse it with its reason.
    case refused
}

/// One key of a section: what it holds, what happens without it, and what it means.
public struct SchemaKey: Sendable, Hashable {
    public let name: String
    /// The value's kind in words (Markdown), e.g. "IPv4 CIDR inside the VPC, /16–/28", "list of subnet names".
    public let type: String
    /// The only words the key takes, when it takes a fixed set: the decoder refuses any other, and the
    /// docs list them. Empty for free values.
    public let allowed: [String]
    public let absence: KeyAbsence
    /// What the key means, with an example (Markdown); may be empty where the type says it all.
    public let doc: String

    public var isRequired: Bool { absence == .required }
}

/// One mapping of the spec language: the keys it takes, and the groups of which exactly one is given.
public struct SchemaSection: Sendable, Hashable {
    /// As diagnostics and docs/spec.md name it ("subnet", "pipeline target").
    public let name: String
    public let entries: [SchemaKey]
    /// Alternatives among the keys of which a mapping gives exactly one (a route's target, a rule's peer).
    public let exactlyOne: [String]

    public var keys: [String] { entries.map(\.name) }
    /// Keys taken only to refuse them with a reason (a secret's `value`: secrets are never written in a spec).
    public var refused: [String] { entries.filter { $0.absence == .refused }.map(\.name) }

    public subscript(key: String) -> SchemaKey {
        guard let entry = entries.first(where: { $0.name == key }) else { preconditionFailure("\(name) declares no key '\(key)'") }
        return entry
    }

    /// The words a key takes (see `SchemaKey.allowed`).
    public func allowed(_ key: String) -> [String] { self[key].allowed }

    init(_ name: String, _ entries: [SchemaKey], exactlyOne: [String] = []) {
        self.name = name
        self.entries = entries
        self.exactlyOne = exactlyOne
    }
}

/// Shorthand for the declarations below.
private func key(_ name: String, _ type: String, _ absence: KeyAbsence, _ doc: String = "", allowed: [String] = []) -> SchemaKey {
    SchemaKey(name: name, type: type, allowed: allowed, absence: absence, doc: doc)
}

private func words<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> [String] where T.RawValue == String {
    type.allCases.map(\.rawValue)
}

private let none = KeyAbsence.defaults("none")
private let emptyList = KeyAbsence.defaults("`[]`")

/// Every mapping of a spec and every key it takes, declared once: the decoder's key checking, its
/// suggestions and the words it accepts read it, the tables of docs/spec.md are generated from it
/// (`scripts/update-spec-docs`), and tests hold the decoder, the Swift export and the DSL to it (a key
/// declared here that the decoder never reads or the export loses fails a test).
public enum SpecSchema {
    public static let spec = SchemaSection(
        "the spec",
        [
            key(
                "include", "list of paths", emptyList,
                "Files merged into this one before decoding, relative to this file. Mappings merge by key, lists concatenate (included content first), the same scalar set twice is `SL105`. At most 16 levels; cycles are `SL101`."
            ),
            key("project", "[project](#project)", .required),
            key("network", "[network](#network)", .required),
            key("identity", "[identity](#identity)", none, "Explicit IAM statements; roles are derived."),
            key("storage", "[storage](#storage)", none, "Buckets and DynamoDB tables."),
            key("messaging", "[messaging](#messaging)", none, "SNS topics, SQS queues, Secrets Manager secrets."),
            key("compute", "[compute](#compute)", none, "Lambda functions and EC2 hosts."),
            key("warehouse", "[warehouse](#warehouse)", none, "The PostgreSQL warehouse and its schema."),
            key("pipelines", "list of [pipelines](#pipelines)", emptyList, "Loads from S3 or a folder into the warehouse."),
            key("suppressions", "list of [suppressions](#suppressions)", emptyList, "Accepted findings, each with a written reason."),
            key(
                "environments", "list of [environments](#environments)", emptyList,
                "The stacks the spec deploys as (dev, staging, prod), each with its own sizes, retention and schedules."),
        ])
    public static let project = SchemaSection(
        "project",
        [
            key("name", "string", .required, "`clickstream`"),
            key("region", "AWS region", .required, "`eu-west-1`"),
            key("account", "12-digit string (quote it)", .defaults("none: rendered as a parameter"), "`\"123456789012\"`"),
            key("tags", "mapping string → string", .defaults("`{}`"), "`{ team: analytics }`, put on every taggable resource"),
        ])
    public static let suppression = SchemaSection(
        "suppression",
        [
            key("rule", "rule ID, or a checkov check ID", .required, "`SL215`, `CKV_AWS_18`"),
            key("subject", "`kind:name`", .defaults("every finding of the rule"), "`security_group:proxy` (the subject is in `--format json`)"),
            key("reason", "a sentence", .required, "`break-glass SSH until the VPN lands in Q3`"),
        ])

    // MARK: Network

    public static let network = SchemaSection(
        "network",
        [
            key("vpc", "[vpc](#vpc)", .required),
            key("internet_gateway", "name", .defaults("`igw` when a public subnet exists, else none")),
            key("subnets", "list of [subnet](#subnet)", .required),
            key("nat_gateways", "list of [NAT gateway](#nat-gateway)", emptyList),
            key("route_tables", "list of [route table](#route-table)", .defaults("derived")),
            key("endpoints", "list of [endpoint](#endpoint)", emptyList),
            key("security_groups", "list of [security group](#security-group)", emptyList),
            key("network_acls", "list of [network ACL](#network-acl)", .defaults("`[]` (AWS's default NACL allows all)")),
        ])
    public static let vpc = SchemaSection(
        "vpc",
        [
            key("name", "name", .defaults("`vpc`")),
            key("cidr", "IPv4 CIDR, /16–/28", .required, "`10.0.0.0/16` (`SL107` when malformed or host bits are set, `SL206` for the size)"),
            key("ipv6_cidr", "IPv6 /56", none, "`2600:1f14:abc:de00::/56`"),
        ])
    public static let subnet = SchemaSection(
        "subnet",
        [
            key("name", "name", .required, "`etl-a`"),
            key("cidr", "IPv4 CIDR inside the VPC, /16–/28", .required, "`10.0.3.0/24`"),
            key("ipv6_cidr", "IPv6 /64 inside the VPC's block", none),
            key("az", "zone letter or full zone name of the project's region", .required, "`a` or `eu-west-1a`"),
            key(
                "type", "word", .required,
                "AWS CDK's three types: `public` routes `0.0.0.0/0` to the internet gateway; `private` has egress through a NAT gateway only; `isolated` has no internet route at all.",
                allowed: words(SubnetType.self)),
        ])
    public static let natGateway = SchemaSection(
        "NAT gateway",
        [
            key("name", "name", .required, "`nat-a`"),
            key("subnet", "public subnet name", .required, "A NAT gateway (with an Elastic IP) lives in a public subnet (`SL203`)."),
        ])
    public static let routeTable = SchemaSection(
        "route table",
        [
            key("name", "name", .required, "`etl-rt`"),
            key("subnets", "list of subnet names", .required, "a subnet is in at most one table"),
            key("routes", "list of [route](#route)", emptyList, "the VPC's local routes are implicit"),
        ])
    public static let route = SchemaSection(
        "route",
        [
            key("destination", "CIDR", .required, "`0.0.0.0/0`"),
            key("internet_gateway", "name", .alternative, "`internet_gateway: igw`"),
            key("nat_gateway", "name", .alternative, "`nat_gateway: nat-a`"),
        ],
        exactlyOne: ["internet_gateway", "nat_gateway"])
    public static let endpoint = SchemaSection(
        "endpoint",
        [
            key("name", "name", .required, "`s3`"),
            key("service", "AWS service short name", .required, "`s3`, `dynamodb`, `secretsmanager`, `logs`, `sts`, `sns`, `sqs`"),
            key("type", "word", .defaults("`gateway` for s3 and dynamodb, else `interface`"), allowed: words(EndpointType.self)),
            key("route_tables", "list of route-table names", .defaults("gateway: every route table of a private or isolated subnet")),
            key("subnets", "list of subnet names", .requiredWhen("for interface endpoints")),
            key("security_groups", "list of group names", emptyList, "interface endpoints only"),
            key(
                "policy", "`derived` \\| `full_access` \\| [endpoint policy](#endpoint-policy)",
                .defaults("`derived`: exactly the buckets (tables) the spec's workloads read or write"), "`full_access` is `SL302`"),
        ])
    public static let endpointPolicy = SchemaSection(
        "endpoint policy",
        [
            key("buckets", "list of bucket names", .requiredWhen("for an S3 endpoint without `statements`"), "`{ buckets: [raw] }`"),
            key("tables", "list of DynamoDB table names", .requiredWhen("for a DynamoDB endpoint without `statements`"), "`{ tables: [jobs] }`"),
            key("statements", "list of [policy statement](#policy-statement)", none, "the policy written out, instead of a list of resources"),
        ])
    public static let securityGroup = SchemaSection(
        "security group",
        [
            key("name", "name", .required, "`dw`"),
            key("description", "string", .defaults("`<name> security group`"), "`Warehouse PostgreSQL`"),
            key("ingress", "list of [security group rule](#security-group-rule)", emptyList),
            key(
                "egress", "list of [security group rule](#security-group-rule)",
                .defaults("absent: AWS's default, all traffic to `0.0.0.0/0`; `[]`: no outbound connections")),
        ])
    public static let securityGroupRule = SchemaSection(
        "security group rule",
        [
            key("protocol", "word", .defaults("`tcp`"), allowed: words(IPProtocol.self)),
            key(
                "port", "port, `from-to`, or `all`", .requiredWhen("`port` or `ports` for tcp and udp"),
                "`5432`; refused with `all` protocols, which cover every port"),
            key("ports", "port, `from-to`, or `all`", .requiredWhen("`port` or `ports` for tcp and udp"), "`1024-65535`"),
            key("description", "string", none, "`ETL loads`"),
            key("cidr", "CIDR", .alternative, "`10.0.0.0/16`"),
            key("security_group", "group name", .alternative, "`security_group: etl`"),
            key("prefix_list", "gateway-endpoint name", .alternative, "`prefix_list: s3`, the endpoint's service prefix list"),
        ],
        exactlyOne: ["cidr", "security_group", "prefix_list"])
    public static let networkACL = SchemaSection(
        "network ACL",
        [
            key("name", "name", .required, "`private-stages`"),
            key("subnets", "list of subnet names", .required, "a subnet has at most one ACL"),
            key("ingress", "list of [network ACL entry](#network-acl-entry)", emptyList),
            key("egress", "list of [network ACL entry](#network-acl-entry)", emptyList),
        ])
    public static let networkACLEntry = SchemaSection(
        "network ACL entry",
        [
            key("rule", "1–32766, unique per direction", .required, "`100`; lower numbers are evaluated first"),
            key("protocol", "word", .defaults("`tcp`"), allowed: words(IPProtocol.self)),
            key("port", "port, `from-to`, or `all`", .defaults("`all`"), "refused with `all` protocols"),
            key("ports", "port, `from-to`, or `all`", .defaults("`all`"), "`1024-65535`"),
            key("cidr", "CIDR", .required, "`0.0.0.0/0`"),
            key("action", "word", .required, allowed: words(RuleAction.self)),
        ])

    // MARK: Identity, storage, messaging, compute

    public static let identity = SchemaSection(
        "identity", [key("roles", "list of [role](#role)", emptyList, "renames derived roles and adds statements to them")])
    public static let role = SchemaSection(
        "role",
        [
            key("name", "name", .required, "`transform-stage`"),
            key("workload", "function or host name", .required, "`transform`"),
            key("statements", "list of [policy statement](#policy-statement)", emptyList),
        ])
    public static let policyStatement = SchemaSection(
        "policy statement",
        [
            key("sid", "string", none, "`PartnerApiKey`"),
            key("effect", "word", .defaults("`allow`"), allowed: words(RuleAction.self)),
            key("actions", "list of `service:Action`", .required, "`[secretsmanager:GetSecretValue]`"),
            key(
                "resources", "list", .required,
                "`bucket:raw`, `bucket:raw/events/*`, `secret:NAME`, `table:NAME` (DynamoDB), `topic:NAME`, `queue:NAME`, an ARN, or `*`"),
            key("conditions", "`{operator: {key: values}}`", .defaults("`{}`"), "`{ StringLike: { \"s3:prefix\": [\"events/*\"] } }`"),
        ])
    public static let storage = SchemaSection(
        "storage",
        [
            key("buckets", "list of [bucket](#bucket)", emptyList),
            key("dynamodb_tables", "list of [DynamoDB table](#dynamodb-table)", emptyList),
        ])
    public static let bucket = SchemaSection(
        "bucket",
        [
            key("name", "name", .required, "`raw`"),
            key("purpose", "string", none, "`raw clickstream events`"),
            key("prefixes", "list of strings", emptyList, "`[events/]`"),
            key("encryption", "word", .defaults("`sse-s3`"), "`none` is `SL402`", allowed: ["sse-s3", "sse-kms", "none"]),
            key("kms_key", "key ARN", .defaults("AWS-managed key"), "with `sse-kms`"),
            key("versioning", "bool", .defaults("`true`")),
            key("block_public_access", "bool", .defaults("`true`"), "`false` is `SL401`"),
            key("lifecycle", "list of [lifecycle rule](#lifecycle-rule)", emptyList),
            key("notifications", "list of [bucket notification](#bucket-notification)", emptyList, "`{ prefix: crm/, function: loader }`"),
        ])
    public static let lifecycleRule = SchemaSection(
        "lifecycle rule",
        [
            key("id", "string", .defaults("`rule-<n>`"), "`expire-raw`"),
            key("prefix", "string", .defaults("`\"\"` (the whole bucket)"), "`events/`"),
            key("transitions", "list of [transition](#transition)", emptyList),
            key("expire_days", "days", none, "objects are deleted this many days after creation"),
            key("noncurrent_expire_days", "days", none, "old versions are deleted this many days after they stop being current"),
        ])
    public static let transition = SchemaSection(
        "transition",
        [
            key("days", "0–36500", .required, "`30`"),
            key(
                "storage_class", "word", .required,
                allowed: ["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]),
        ])
    public static let bucketNotification = SchemaSection(
        "bucket notification",
        [
            key("events", "list of S3 event types", .defaults("`[s3:ObjectCreated:*]`")),
            key("prefix", "string", none, "`crm/`"),
            key("suffix", "string", none, "`.csv`"),
            key("function", "function name", .alternative, "the function is invoked with the event"),
            key("queue", "queue name", .alternative, "the event is sent to the queue"),
            key("topic", "topic name", .alternative, "the event is published to the topic"),
        ],
        exactlyOne: ["function", "queue", "topic"])
    public static let dynamoTable = SchemaSection(
        "DynamoDB table",
        [
            key("name", "name", .required, "`jobs`"),
            key("partition_key", "[DynamoDB key](#dynamodb-key)", .required, "`{ name: job_id }`"),
            key("sort_key", "[DynamoDB key](#dynamodb-key)", none),
            key("ttl_attribute", "string", none, "`expires_at`"),
        ])
    public static let dynamoKey = SchemaSection(
        "DynamoDB key",
        [
            key("name", "attribute name", .required, "`job_id`"),
            key("type", "word", .defaults("`S`"), "string, number or binary", allowed: ["S", "N", "B"]),
        ])
    public static let messaging = SchemaSection(
        "messaging",
        [
            key("topics", "list of [topic](#topic)", emptyList),
            key("queues", "list of [queue](#queue)", emptyList),
            key("secrets", "list of [secret](#secret)", emptyList),
        ])
    public static let topic = SchemaSection(
        "topic",
        [
            key("name", "name", .required, "`alerts`"),
            key("email", "list of addresses", emptyList, "`[data-team@example.com]`"),
            key("queues", "list of queue names", emptyList, "SNS → SQS fan-out"),
        ])
    public static let queue = SchemaSection(
        "queue",
        [
            key("name", "name", .required, "`events-consumer`"),
            key("visibility_timeout", "seconds, 0–43200", .defaults("`30`")),
            key("retention_seconds", "60–1209600", .defaults("`345600` (4 days)")),
            key("dead_letter", "[dead_letter](#dead_letter)", none),
        ])
    public static let deadLetter = SchemaSection(
        "dead_letter",
        [
            key("queue", "queue name", .required, "`events-dlq`"),
            key("max_receive_count", "1–1000", .defaults("`5`"), "receives before a message moves to the dead-letter queue"),
        ])
    public static let secret = SchemaSection(
        "secret",
        [
            key("name", "name", .required, "`dw-credentials`"),
            key("description", "string", none),
            key("generate_for", "user name", none, "the password is generated by Secrets Manager"),
            key("value", "—", .refused, "secrets are never written in a spec (`SL111`)"),
        ])
    public static let compute = SchemaSection(
        "compute",
        [
            key("functions", "list of [function](#function)", emptyList, "Lambda functions"),
            key("hosts", "list of [host](#host)", emptyList, "EC2 instances"),
        ])
    public static let uses = SchemaSection(
        "uses",
        [
            key("read_buckets", "list of bucket names", emptyList),
            key("write_buckets", "list of bucket names", emptyList),
            key("dynamodb_tables", "list of DynamoDB table names", emptyList),
            key("topics", "list of topic names", emptyList),
            key("queues", "list of queue names", emptyList),
            key("secrets", "list of secret names", emptyList),
        ])
    public static let function = SchemaSection(
        "function",
        [
            key("name", "name", .required, "`etl`"),
            key("runtime", "Lambda runtime", .defaults("`provided.al2023`")),
            key("handler", "string", .defaults("`bootstrap`")),
            key("architecture", "word", .defaults("`arm64`"), allowed: ["arm64", "x86_64"]),
            key("memory", "MB, 128–10240", .defaults("`1024`")),
            key("timeout", "seconds, 1–900", .defaults("`300`")),
            key("reserved_concurrency", "0–10000", none, "sizes the subnet check `SL207`"),
            key("subnets", "list of subnet names", .required, "the function may run in any of them; checks hold for each"),
            key("security_groups", "list of group names", .required),
            key("environment", "mapping string → string", .defaults("`{}`"), "never secrets: use `uses.secrets`"),
            key("uses", "[uses](#uses)", .defaults("`{}`")),
            key("dead_letter_queue", "queue name", none),
            key(
                "log_retention_days", "a CloudWatch Logs retention value", .defaults("`30`"),
                "`1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653`"),
        ])
    public static let host = SchemaSection(
        "host",
        [
            key("name", "name", .required, "`warehouse`"),
            key("purpose", "string", none, "`warehouse PostgreSQL`, `nginx proxy`"),
            key("instance_type", "`family.size`", .required, "`r6i.large`"),
            key("subnet", "subnet name", .required),
            key("security_groups", "list of group names", .required),
            key("public_ip", "bool", .defaults("`false`")),
            key("uses", "[uses](#uses)", .defaults("`{}`")),
        ])

    // MARK: Warehouse

    public static let warehouse = SchemaSection(
        "warehouse",
        [
            key("name", "name", .defaults("`warehouse`"), "`dw`"),
            key("engine", "word", .required, allowed: ["ec2", "rds", "aurora"]),
            key("host", "host name", .requiredWhen("for `ec2`"), "the database runs on it; its subnet and groups are the warehouse's"),
            key("instance_class", "RDS class", .defaults("`db.t4g.medium` (rds), `db.r6g.large` (aurora)")),
            key("instances", "1–15", .defaults("`2`"), "aurora only"),
            key("subnets", "list of subnet names", .requiredWhen("for rds and aurora"), "at least two zones (`SL404`)"),
            key("security_groups", "list of group names", .requiredWhen("for rds and aurora")),
            key("port", "1–65535", .defaults("`5432`")),
            key("database", "identifier", .required, "`analytics`"),
            key("credentials_secret", "secret name", .required, "never a literal password"),
            key("clients", "list of group names", .required, "the only groups that may reach the port (`SL214`)"),
            key("publicly_accessible", "bool", .defaults("`false`"), "`true` is `SL403`"),
            key("schemas", "list of identifiers", .defaults("`[public]`"), "the first is the default schema"),
            key("tables", "list of [table](#table)", emptyList),
            key("views", "list of [view](#view)", emptyList),
            key("materialized_views", "list of [materialized view](#materialized-view)", emptyList),
            key("roles", "list of [database role](#database-role)", emptyList),
            key("routines", "list of [routine](#routine)", emptyList, "procedures for `post_load: {call: …}`, and functions"),
        ])
    public static let routine = SchemaSection(
        "routine",
        [
            key("name", "identifier", .required, "`close_month`"),
            key("schema", "one of `schemas`", .defaults("the first schema")),
            key("kind", "word", .defaults("`procedure`"), "a `post_load` step calls a procedure", allowed: words(Routine.Kind.self)),
            key("arguments", "list of [routine argument](#routine-argument)", emptyList, "a procedure a pipeline calls takes none"),
            key("returns", "PostgreSQL type", .requiredWhen("for functions"), "`integer`, `void`, `TABLE (month date, total numeric)`"),
            key("language", "word", .defaults("`plpgsql`"), allowed: words(Routine.Language.self)),
            key("body", "text", .required, "the routine's body, checked by PostgreSQL (`sluice plan --validate-sql`, `SL603`)"),
        ])
    public static let routineArgument = SchemaSection(
        "routine argument",
        [
            key("name", "identifier", .required, "`month`"),
            key("type", "PostgreSQL type", .required, "`date`"),
        ])
    public static let table = SchemaSection(
        "table",
        [
            key("name", "identifier", .required, "`fact_events`"),
            key("schema", "one of `schemas`", .defaults("the first schema")),
            key("description", "string", none),
            key("columns", "list of [column](#column)", .required),
            key("primary_key", "list of column names", .defaults("from the columns"), "`[invoice_no, line_no]`"),
            key("unique", "list of column lists", emptyList, "`[[email]]`"),
            key("foreign_keys", "list of [foreign key](#foreign-key)", emptyList),
            key("checks", "list of [check](#check)", emptyList),
            key("indexes", "list of [index](#index)", emptyList),
        ])
    public static let column = SchemaSection(
        "column",
        [
            key("name", "identifier", .required, "`event_id`"),
            key(
                "type", "PostgreSQL type", .required,
                "`uuid`, `text`, `\"numeric(12,2)\"`, `timestamptz`, `jsonb`, `text[]`; aliases accepted (`int`, `timestamp with time zone`); unknown is `SL109`"
            ),
            key("not_null", "bool", .defaults("`false` (`true` for key columns)")),
            key("default", "SQL expression", none, "`now()`, `\"'{}'::jsonb\"`"),
            key("primary_key", "bool", .defaults("`false`")),
            key("unique", "bool", .defaults("`false`")),
            key(
                "references", "`table.column` or `schema.table.column`", none,
                "`dim_users.user_id` (must be a key, or PostgreSQL refuses it)"),
            key("description", "string", none),
            key("identity", "bool", .defaults("`false`"), "`GENERATED ALWAYS AS IDENTITY` on an integer column; inserts need no sequence grant"),
        ])
    public static let foreignKey = SchemaSection(
        "foreign key",
        [
            key("columns", "list of column names", .required, "`[customer_id]`"),
            key("references", "[references](#references)", .required),
            key("on_delete", "words", .defaults("`no action`"), allowed: ["cascade", "restrict", "set null", "set default", "no action"]),
        ])
    public static let foreignKeyTarget = SchemaSection(
        "references",
        [
            key("table", "table name", .required, "`dim_customers`"),
            key("columns", "list of column names", .required, "a primary key or unique constraint of that table"),
        ])
    public static let check = SchemaSection(
        "check",
        [
            key("name", "identifier", .required, "`hour_range`"),
            key("expression", "SQL boolean expression", .required, "`event_hour BETWEEN 0 AND 23`"),
        ])
    public static let index = SchemaSection(
        "index",
        [
            key("name", "identifier", .defaults("`<table>_<columns>_idx`")),
            key("columns", "list of column names", .required, "`[event_date]`"),
            key("unique", "bool", .defaults("`false`")),
            key("method", "word", .defaults("`btree`"), "`brin` for append-only time columns", allowed: ["btree", "brin", "gin", "gist", "hash"]),
            key("where", "SQL boolean expression", none, "a partial index"),
        ])
    public static let view = SchemaSection(
        "view",
        [
            key("name", "identifier", .required, "`daily_event_counts`"),
            key("schema", "one of `schemas`", .defaults("the first schema")),
            key("sql", "SELECT text", .required),
        ])
    public static let materializedView = SchemaSection(
        "materialized view",
        [
            key("name", "identifier", .required, "`daily_revenue`"),
            key("schema", "one of `schemas`", .defaults("the first schema")),
            key("sql", "SELECT text", .required),
            key("unique_key", "list of column names", emptyList, "materialized views refreshed after loads need it (`SL405`)"),
        ])
    public static let databaseRole = SchemaSection(
        "database role",
        [
            key("name", "identifier", .required, "`etl_writer`"),
            key("login", "bool", .defaults("`true`")),
            key("grants", "list of [grant](#grant)", emptyList),
        ])
    public static let grant = SchemaSection(
        "grant",
        [
            key(
                "privileges", "list of words", .required, "`[SELECT]`",
                allowed: ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "USAGE", "EXECUTE"]),
            key("on", "list of qualified tables or views, or `schema:NAME`", .required, "`[analytics.fact_events]`"),
        ])

    // MARK: Pipelines

    public static let pipeline = SchemaSection(
        "pipeline",
        [
            key("name", "name", .required, "`clickstream`"),
            key("workload", "function or host name", .required, "`etl`"),
            key(
                "schedule", "EventBridge expression", .defaults("none (run on demand)"),
                "`rate(30 minutes)`, `cron(0 4 * * ? *)`; validated by EventBridge's exact rules (`SL501`)"),
            key("source", "[pipeline source](#pipeline-source)", .required),
            key("fields", "mapping path → [field](#field)", .defaults("`{}`")),
            key("derive", "mapping name → [derived field](#derived-field)", .defaults("`{}`"), "`event_date: { date: event_timestamp }` (UTC)"),
            key("filters", "list of [filter](#filter)", emptyList, "a matching record is dropped and counted as filtered"),
            key("dedupe_key", "list of field paths", emptyList, "records repeating a key are counted as duplicates"),
            key("targets", "list of [pipeline target](#pipeline-target)", .required, "one source can feed several tables"),
            key("quarantine", "[quarantine](#quarantine)", .defaults("rejects go to `sluice.quarantine` only")),
            key("post_load", "list of [post-load step](#post-load-step)", emptyList),
            key("alarms", "[alarms](#alarms)", none),
            key(
                "max_rejected", "records (`25`) or a share of an object's records (`10%`)", .defaults("`50%`"),
                "beyond it the object is not loaded (its refused records are still quarantined) and the run fails: a file whose rows are mostly refused is another file than the spec describes, as BigQuery's `maxBadRecords` and Spark's `FAILFAST` stop such a load; a bad row or two in a file loads"
            ),
        ])
    public static let pipelineSource = SchemaSection(
        "pipeline source",
        [
            key("bucket", "bucket name", .alternative, "`raw`"),
            key("api", "[api source](#api-source)", .alternative, "a web API read page by page, each page landed in a bucket first"),
            key("landing", "[landing](#landing)", .requiredWhen("with `api`"), "`{ bucket: exports, prefix: bank/ }`"),
            key(
                "prefix", "template", .defaults("`\"\"`"),
                "`events/{yyyy}/{MM}/{dd}/{HH}/`: placeholders `{yyyy}`, `{MM}`, `{dd}`, `{HH}`, in that order, each once, no gaps (UTC)"),
            key("folder", "path", .alternative, "a local folder (embedded default, tests)"),
            key("format", "word", .requiredWhen("for a bucket or folder (an API's pages are `json_array`)"), allowed: words(SourceFormat.self)),
            key("compression", "word", .defaults("`auto` (by the `.gz` suffix)"), allowed: words(Compression.self)),
            key("csv", "[csv options](#csv-options)", .defaults("defaults for `csv`"), "`{ delimiter: \";\" }`"),
            key("xlsx", "[xlsx options](#xlsx-options)", .defaults("the first sheet, header in row 1"), "`{ sheet: Payments }`"),
        ],
        exactlyOne: ["bucket", "api", "folder"])
    public static let apiSource = SchemaSection(
        "api source",
        [
            key("url", "https URL", .required, "`https://api.bank.example/v1/transactions?status=booked`"),
            key("records", "dotted path", .defaults("the response is the array"), "`data`: where a response's records are"),
            key(
                "pagination", "word", .defaults("`none`"),
                "`link`: the `Link: <…>; rel=\"next\"` header; `cursor`: a token in the response; `page`: numbered pages until one has no records",
                allowed: ["none", "link", "cursor", "page"]),
            key("cursor", "[api cursor](#api-cursor)", .requiredWhen("with `pagination: cursor`")),
            key("page", "[api pages](#api-pages)", .defaults("`{ param: page, first: 1 }`")),
            key("incremental", "[api incremental](#api-incremental)", .defaults("every run reads from the start")),
            key("auth", "[api auth](#api-auth)", .defaults("no credentials")),
        ])
    public static let apiCursor = SchemaSection(
        "api cursor",
        [
            key("param", "query parameter", .required, "`cursor`: sent with the token"),
            key("from", "dotted path", .required, "`meta.next_cursor`: the next page's token in a response; absent, null or empty on the last"),
        ])
    public static let apiPages = SchemaSection(
        "api pages",
        [
            key("param", "query parameter", .defaults("`page`")),
            key("first", "0 or 1", .defaults("`1`")),
            key("size_param", "query parameter", .defaults("none"), "`per_page`"),
            key("size", "records per page, 1–100000", .requiredWhen("with `size_param`")),
        ])
    public static let apiIncremental = SchemaSection(
        "api incremental",
        [
            key("param", "query parameter", .required, "`updated_since`: sent with the greatest value seen so far"),
            key(
                "from", "dotted path of a record", .required,
                "`updated_at`: numbers compare as numbers, text as text (RFC 3339 in one zone sorts right); kept per pipeline in `sluice.api_cursors`"
            ),
        ])
    public static let apiAuth = SchemaSection(
        "api auth",
        [
            key("secret", "secret name", .required, "the Secrets Manager secret whose string is the credential"),
            key("header", "HTTP header name", .defaults("`Authorization`")),
            key("scheme", "word", .defaults("none"), "`Bearer`: written before the secret"),
        ])
    public static let apiLanding = SchemaSection(
        "landing",
        [
            key("bucket", "bucket name", .required),
            key("prefix", "fixed prefix ending in `/`", .defaults("`\"\"`"), "pages land at `<prefix><yyyy>/<MM>/<dd>/<HHmmss>-<n>/page-00001.json`"),
        ])
    public static let csvOptions = SchemaSection(
        "csv options",
        [
            key("header", "bool", .defaults("`true`"), "the first line names the columns"),
            key("delimiter", "one character", .defaults("`\",\"`"), "`\";\"`, `\"\\t\"` for tabs"),
            key("quote", "one character", .defaults("`\"\\\"\"`")),
        ])
    public static let xlsxOptions = SchemaSection(
        "xlsx options",
        [
            key("sheet", "sheet name, or its position from 1", .defaults("`1`"), "`Payments`, `2`"),
            key("header_row", "row number, 1–1048576", .defaults("`1`"), "the row naming the columns; rows above it are not read"),
        ])
    public static let field = SchemaSection(
        "field",
        [
            key("type", "word", .defaults("`any`"), allowed: words(FieldType.self)),
            key("required", "bool", .defaults("`false`")),
            key("pattern", "regular expression", none, "`^[A-Z]{2}$`"),
            key("enum", "list of allowed values", none, "`[click, view]`"),
            key("decimal", "one character", .defaults("`.`"), "numbers' decimal separator, for `integer` and `number` fields (`\",\"`: `20,65`)"),
            key("group", "one character", none, "numbers' digit grouping separator (`\".\"`: `1.234,56`); groups of three are checked"),
            key(
                "format", "date pattern or `excel`", .defaults("RFC 3339"),
                "how a `date` or `timestamp` field is written: `yyyy MM M dd d HH H mm ss S`, literal text in single quotes (`dd.MM.yyyy`, `MM/dd/yyyy HH:mm`), or `excel` (serial day numbers)"
            ),
            key(
                "time_zone", "IANA zone name", .requiredWhen("a `timestamp` has a `format`"),
                "the zone of timestamps written without an offset (`Europe/Berlin`); they are stored as UTC instants"),
        ])
    public static let derivation = SchemaSection(
        "derived field",
        [
            key("date", "field path", .alternative, "the UTC date of a timestamp field"),
            key("hour", "field path", .alternative, "the UTC hour (0–23) of a timestamp field"),
        ],
        exactlyOne: words(DerivationKind.self))
    public static let filter = SchemaSection(
        "filter",
        [
            key("name", "name", .defaults("`<field> <condition>`"), "`bots`: how the run's counts name it"),
            key("field", "field path", .required, "`user_agent`"),
            key("equals", "value", .alternative),
            key("in", "list of values", .alternative),
            key("matches", "regular expression", .alternative, "`(?i)bot`"),
            key("exists", "bool", .alternative, "`exists: false` drops records without the field"),
        ],
        exactlyOne: ["equals", "in", "matches", "exists"])
    public static let pipelineTarget = SchemaSection(
        "pipeline target",
        [
            key("table", "table name (`schema.table` or the default schema's)", .required, "`fact_events`"),
            key("mode", "word", .defaults("`append`"), allowed: words(WriteMode.self)),
            key("key", "list of column names", .requiredWhen("for upserts; unique in the table (`SL505`)"), "`[user_id]`"),
            key(
                "version_column", "column name", .requiredWhen("for `versioned_upsert`"),
                "`version`: a row is replaced only by a newer version; refused with the other modes"),
            key("columns", "mapping column → field path or [column mapping](#column-mapping)", .required, "`user_id: user.id`"),
        ])
    public static let columnMapping = SchemaSection(
        "column mapping",
        [
            key("from", "field path", .alternative, "`from: event_timestamp`"),
            key(
                "derived", "derived field, or `object_key` \\| `line` \\| `run_id` \\| `loaded_at`", .alternative,
                "`derived: event_date`; the lineage names are below"),
            key("const", "value", .alternative, "`const: web`"),
            key("record", "`true`", .alternative, "the whole record, for jsonb"),
            key("on_update", "`now()`", .alternative, "the time a load inserts or changes the row"),
            key(
                "sql", "SQL expression", .alternative,
                "`quantity * unit_price`: PostgreSQL evaluates it in the merge over the target's other columns as staged; see below"),
            key("cast", "PostgreSQL type", none, "`cast: integer`"),
            key("transform", "list of words", emptyList, allowed: ["trim", "lower", "upper", "null_if_empty"]),
            key("map", "mapping from → to", .defaults("`{}`"), "`{ M: male, F: female }`"),
            key("map_default", "value", .defaults("the value unchanged"), "what `map` gives a value it does not list"),
            key(
                "mask", "word", none,
                "`hash`: a keyed SHA-256 of the value (`SLUICE_MASK_KEY`), so equal values still join; `redact`: `[redacted]` in text columns, NULL in others",
                allowed: words(Mask.self)),
            key(
                "merge", "word", .defaults("`last`"), "upsert targets: how values for the same key combine; NULL never replaces a value",
                allowed: words(MergeRule.self)),
        ],
        exactlyOne: ["from", "derived", "const", "record", "on_update", "sql"])
    public static let quarantine = SchemaSection(
        "quarantine",
        [
            key("bucket", "bucket name", .defaults("none: rejects go to `sluice.quarantine` only"), "`raw`"),
            key("prefix", "string", .defaults("`quarantine/`"), "where in the bucket rejected records are written"),
        ])
    public static let postLoadStep = SchemaSection(
        "post-load step",
        [
            key("refresh", "materialized view name", .alternative, "`refresh: daily_revenue`"),
            key(
                "call", "procedure name", .alternative,
                "`call: analytics.rebuild_rollups`; without a schema, the warehouse's default one; it must be a procedure of the database, taking no arguments (`SL603`)"
            ),
        ],
        exactlyOne: ["refresh", "call"])
    public static let alarms = SchemaSection(
        "alarms",
        [
            key("topic", "topic name", .required, "`alerts`"),
            key("error_threshold", "1–100000", .defaults("`1`"), "errors in five minutes that raise the alarm"),
            key(
                "quarantine_rate", "a percentage", .defaults("`5%`"),
                "share of the records read in an hour that, quarantined, raises the pipeline's quarantine alarm (`2.5%`)"),
        ])

    // MARK: Environments

    public static let environment = SchemaSection(
        "environment",
        [
            key("name", "name: letters, digits and `-`", .required, "`dev`; `sluice apply --stack` picks it (see below)"),
            key("functions", "list of [environment function](#environment-function)", emptyList),
            key("hosts", "list of [environment host](#environment-host)", emptyList),
            key("warehouse", "[environment warehouse](#environment-warehouse)", none),
            key("pipelines", "list of [environment pipeline](#environment-pipeline)", emptyList),
        ])
    public static let environmentFunction = SchemaSection(
        "environment function",
        [
            key("name", "function name", .required, "`etl`"),
            key("memory", "MB, 128–10240", .defaults("the function's")),
            key("timeout", "seconds, 1–900", .defaults("the function's")),
            key("reserved_concurrency", "0–10000", .defaults("the function's"), "only for a function that declares one"),
            key("log_retention_days", "a CloudWatch Logs retention value", .defaults("the function's"), "`7`"),
        ])
    public static let environmentHost = SchemaSection(
        "environment host",
        [
            key("name", "host name", .required, "`warehouse`"),
            key("instance_type", "`family.size`", .defaults("the host's"), "same architecture as the host's (`t4g.large` for `r7g.xlarge`)"),
        ])
    public static let environmentWarehouse = SchemaSection(
        "environment warehouse",
        [key("instance_class", "RDS class", .defaults("the warehouse's"), "rds and aurora: `db.t4g.micro`")])
    public static let environmentPipeline = SchemaSection(
        "environment pipeline",
        [
            key("name", "pipeline name", .required, "`clickstream`"),
            key(
                "schedule", "EventBridge expression, or `off`", .defaults("the pipeline's"),
                "`off` keeps the rule, disabled; only for a function's pipeline that has a schedule"),
        ])

    /// Every section of a spec (the project file, sluice.yaml, is not a spec).
    public static let sections: [SchemaSection] = [
        spec, project, suppression, network, vpc, subnet, natGateway, routeTable, route, endpoint, endpointPolicy, securityGroup,
        securityGroupRule, networkACL, networkACLEntry, identity, role, policyStatement, storage, bucket, lifecycleRule, transition,
        bucketNotification, dynamoTable, dynamoKey, messaging, topic, queue, deadLetter, secret, compute, uses, function, host, warehouse,
        table, column, foreignKey, foreignKeyTarget, check, index, view, materializedView, databaseRole, grant, routine, routineArgument, pipeline,
        pipelineSource,
        apiSource, apiCursor, apiPages, apiIncremental, apiAuth, apiLanding, csvOptions, xlsxOptions, field, derivation, filter, pipelineTarget,
        columnMapping, quarantine, postLoadStep, alarms, environment,
        environmentFunction, environmentHost, environmentWarehouse, environmentPipeline,
    ]

    // The project file's sections: checked by the same reader, not part of a spec.
    static let projectFile = SchemaSection(
        "the project file",
        [
            key("specs", "list of globs", .defaults("`specs/*.yaml`, `specs/*.yml`, `specs/*.swift`")),
            key("exclude", "list of globs", emptyList),
            key("generated", "path", .defaults("`generated`")),
            key("check", "[check](#check-settings)", .defaults("`{}`")),
            key("plan", "[plan](#plan-settings)", .defaults("`{}`")),
        ])
    static let projectCheck = SchemaSection(
        "check",
        [
            key("strict", "bool", .defaults("`false`")),
            key("format", "a word `sluice check --format` takes", .defaults("`text`")),
        ])
    static let projectPlan = SchemaSection("plan", [key("format", "a word `sluice plan --format` takes", .defaults("`text`"))])
}
