/// One mapping of the spec language: the keys it takes, and the groups of which exactly one is given.
public struct SchemaSection: Sendable, Hashable {
    /// As diagnostics and docs/spec.md name it ("subnet", "pipeline target").
    public let name: String
    public let keys: [String]
    /// Alternatives among `keys` of which a mapping gives exactly one (a route's target, a rule's peer).
    public let exactlyOne: [String]
    /// Keys taken only to refuse them with a reason (a secret's `value`: secrets are never written in a spec).
    public let refused: [String]

    init(_ name: String, _ keys: [String], exactlyOne: [String] = [], refused: [String] = []) {
        self.name = name
        self.keys = keys
        self.exactlyOne = exactlyOne
        self.refused = refused
    }
}

/// Every mapping of a spec and every key it takes, declared once: the decoder's key checking and
/// suggestions read it, and tests hold the decoder, the Swift export and docs/spec.md to it (a key
/// declared here that the decoder never reads, the export loses, or the docs do not mention fails).
public enum SpecSchema {
    public static let spec = SchemaSection(
        "the spec",
        ["include", "project", "network", "identity", "storage", "messaging", "compute", "warehouse", "pipelines", "suppressions"])
    public static let project = SchemaSection("project", ["name", "region", "account", "tags"])
    public static let suppression = SchemaSection("suppression", ["rule", "subject", "reason"])

    // MARK: Network

    public static let network = SchemaSection(
        "network",
        ["vpc", "internet_gateway", "subnets", "nat_gateways", "route_tables", "endpoints", "security_groups", "network_acls"])
    public static let vpc = SchemaSection("vpc", ["name", "cidr", "ipv6_cidr"])
    public static let subnet = SchemaSection("subnet", ["name", "cidr", "ipv6_cidr", "az", "type"])
    public static let natGateway = SchemaSection("NAT gateway", ["name", "subnet"])
    public static let routeTable = SchemaSection("route table", ["name", "subnets", "routes"])
    public static let route = SchemaSection(
        "route", ["destination", "internet_gateway", "nat_gateway"], exactlyOne: ["internet_gateway", "nat_gateway"])
    public static let endpoint = SchemaSection("endpoint", ["name", "service", "type", "route_tables", "subnets", "security_groups", "policy"])
    public static let endpointPolicy = SchemaSection("endpoint policy", ["buckets", "tables", "statements"])
    public static let securityGroup = SchemaSection("security group", ["name", "description", "ingress", "egress"])
    public static let securityGroupRule = SchemaSection(
        "security group rule", ["protocol", "port", "ports", "description", "cidr", "security_group", "prefix_list"],
        exactlyOne: ["cidr", "security_group", "prefix_list"])
    public static let networkACL = SchemaSection("network ACL", ["name", "subnets", "ingress", "egress"])
    public static let networkACLEntry = SchemaSection("network ACL entry", ["rule", "protocol", "port", "ports", "cidr", "action"])

    // MARK: Identity, storage, messaging, compute

    public static let identity = SchemaSection("identity", ["roles"])
    public static let role = SchemaSection("role", ["name", "workload", "statements"])
    public static let policyStatement = SchemaSection("policy statement", ["sid", "effect", "actions", "resources", "conditions"])
    public static let storage = SchemaSection("storage", ["buckets", "dynamodb_tables"])
    public static let bucket = SchemaSection(
        "bucket", ["name", "purpose", "prefixes", "encryption", "kms_key", "versioning", "block_public_access", "lifecycle", "notifications"])
    public static let lifecycleRule = SchemaSection("lifecycle rule", ["id", "prefix", "transitions", "expire_days", "noncurrent_expire_days"])
    public static let transition = SchemaSection("transition", ["days", "storage_class"])
    public static let bucketNotification = SchemaSection(
        "bucket notification", ["events", "prefix", "suffix", "function", "queue", "topic"], exactlyOne: ["function", "queue", "topic"])
    public static let dynamoTable = SchemaSection("DynamoDB table", ["name", "partition_key", "sort_key", "ttl_attribute"])
    public static let dynamoKey = SchemaSection("DynamoDB key", ["name", "type"])
    public static let messaging = SchemaSection("messaging", ["topics", "queues", "secrets"])
    public static let topic = SchemaSection("topic", ["name", "email", "queues"])
    public static let queue = SchemaSection("queue", ["name", "visibility_timeout", "retention_seconds", "dead_letter"])
    public static let deadLetter = SchemaSection("dead_letter", ["queue", "max_receive_count"])
    public static let secret = SchemaSection("secret", ["name", "description", "generate_for", "value"], refused: ["value"])
    public static let compute = SchemaSection("compute", ["functions", "hosts"])
    public static let uses = SchemaSection("uses", ["read_buckets", "write_buckets", "dynamodb_tables", "topics", "queues", "secrets"])
    public static let function = SchemaSection(
        "function",
        [
            "name", "runtime", "handler", "architecture", "memory", "timeout", "reserved_concurrency", "subnets", "security_groups",
            "environment", "uses", "dead_letter_queue", "log_retention_days",
        ])
    public static let host = SchemaSection("host", ["name", "purpose", "instance_type", "subnet", "security_groups", "public_ip", "uses"])

    // MARK: Warehouse

    public static let warehouse = SchemaSection(
        "warehouse",
        [
            "name", "engine", "host", "instance_class", "instances", "subnets", "security_groups", "port", "database",
            "credentials_secret", "clients", "publicly_accessible", "schemas", "tables", "views", "materialized_views", "roles",
        ])
    public static let table = SchemaSection(
        "table", ["name", "schema", "description", "columns", "primary_key", "unique", "foreign_keys", "checks", "indexes"])
    public static let column = SchemaSection(
        "column", ["name", "type", "not_null", "default", "primary_key", "unique", "references", "description", "identity"])
    public static let foreignKey = SchemaSection("foreign key", ["columns", "references", "on_delete"])
    public static let foreignKeyTarget = SchemaSection("references", ["table", "columns"])
    public static let check = SchemaSection("check", ["name", "expression"])
    public static let index = SchemaSection("index", ["name", "columns", "unique", "method", "where"])
    public static let view = SchemaSection("view", ["name", "schema", "sql"])
    public static let materializedView = SchemaSection("materialized view", ["name", "schema", "sql", "unique_key"])
    public static let databaseRole = SchemaSection("database role", ["name", "login", "grants"])
    public static let grant = SchemaSection("grant", ["privileges", "on"])

    // MARK: Pipelines

    public static let pipeline = SchemaSection(
        "pipeline",
        [
            "name", "workload", "schedule", "source", "fields", "derive", "filters", "dedupe_key", "targets", "quarantine", "post_load",
            "alarms", "max_rejected",
        ])
    public static let pipelineSource = SchemaSection(
        "pipeline source", ["bucket", "prefix", "folder", "format", "compression", "csv"], exactlyOne: ["bucket", "folder"])
    public static let csvOptions = SchemaSection("csv options", ["header", "delimiter", "quote"])
    public static let field = SchemaSection("field", ["type", "required", "pattern", "enum"])
    public static let derivation = SchemaSection("derived field", ["date", "hour"], exactlyOne: ["date", "hour"])
    public static let filter = SchemaSection(
        "filter", ["name", "field", "equals", "in", "matches", "exists"], exactlyOne: ["equals", "in", "matches", "exists"])
    public static let pipelineTarget = SchemaSection("pipeline target", ["table", "mode", "key", "version_column", "columns"])
    public static let columnMapping = SchemaSection(
        "column mapping", ["from", "derived", "const", "record", "on_update", "cast", "transform", "map", "map_default", "mask", "merge"],
        exactlyOne: ["from", "derived", "const", "record", "on_update"])
    public static let quarantine = SchemaSection("quarantine", ["bucket", "prefix"])
    public static let postLoadStep = SchemaSection("post-load step", ["refresh", "call"], exactlyOne: ["refresh", "call"])
    public static let alarms = SchemaSection("alarms", ["topic", "error_threshold"])

    /// Every section of a spec (the project file, sluice.yaml, is not a spec).
    public static let sections: [SchemaSection] = [
        spec, project, suppression, network, vpc, subnet, natGateway, routeTable, route, endpoint, endpointPolicy, securityGroup,
        securityGroupRule, networkACL, networkACLEntry, identity, role, policyStatement, storage, bucket, lifecycleRule, transition,
        bucketNotification, dynamoTable, dynamoKey, messaging, topic, queue, deadLetter, secret, compute, uses, function, host, warehouse,
        table, column, foreignKey, foreignKeyTarget, check, index, view, materializedView, databaseRole, grant, pipeline, pipelineSource,
        csvOptions, field, derivation, filter, pipelineTarget, columnMapping, quarantine, postLoadStep, alarms,
    ]

    // The project file's sections: checked by the same reader, not part of a spec.
    static let projectFile = SchemaSection("the project file", ["specs", "exclude", "generated", "check", "plan"])
    static let projectCheck = SchemaSection("check", ["strict", "format"])
    static let projectPlan = SchemaSection("plan", ["format"])
}
