/// Where the warehouse's PostgreSQL runs.
public enum WarehouseEngine: Sendable {
    /// On one of the spec's hosts; the database takes the host's subnet and groups unless given.
    case ec2(host: String)
    /// RDS for PostgreSQL, Multi-AZ (`db.t4g.medium` unless given).
    case rds(instanceClass: String? = nil)
    /// Aurora PostgreSQL (`db.r6g.large`, 2 instances unless given).
    case aurora(instanceClass: String? = nil, instances: Int? = nil)

    func pairs(_ at: DeclarationSite) -> [(String, SpecNode?)] {
        switch self {
        case .ec2(let host): return [("engine", at.string("ec2")), ("host", at.string(host))]
        case .rds(let instanceClass): return [("engine", at.string("rds")), ("instance_class", at.string(instanceClass))]
        case .aurora(let instanceClass, let instances):
            return [("engine", at.string("aurora")), ("instance_class", at.string(instanceClass)), ("instances", at.int(instances))]
        }
    }
}

/// `warehouse:` — the PostgreSQL warehouse, who may reach it, and its schema.
///
/// ```swift
/// Warehouse("dw", engine: .ec2(host: "warehouse"), database: "analytics",
///           credentialsSecret: "dw-credentials", clients: ["etl"], schemas: ["analytics"]) {
///     Table("dim_users") {
///         Column("user_id", .text, primaryKey: true)
///         Column("first_seen_at", .timestamptz, notNull: true)
///     }
/// }
/// ```
public struct Warehouse: SpecPart {
    public let contributions: [Contribution]

    /// `name` nil is the loader's default, `warehouse`.
    public init(
        _ name: String? = nil, engine: WarehouseEngine, subnets: [String]? = nil, securityGroups: [String]? = nil,
        port: Int? = nil, database: String, credentialsSecret: String, clients: [String],
        publiclyAccessible: Bool? = nil, schemas: [String]? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column,
        @WarehouseBuilder _ content: () -> [any WarehousePart] = { [] }
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var warehouse = SpecNode.mapping(
            at,
            [("name", at.string(name))] + engine.pairs(at) + [
                ("subnets", at.strings(subnets)), ("security_groups", at.strings(securityGroups)), ("port", at.int(port)),
                ("database", at.string(database)), ("credentials_secret", at.string(credentialsSecret)), ("clients", at.strings(clients)),
                ("publicly_accessible", at.bool(publiclyAccessible)), ("schemas", at.strings(schemas)),
            ])
        warehouse.add(content().flatMap(\.contributions))
        contributions = [.set("warehouse", to: warehouse)]
    }
}

/// A PostgreSQL column type: `.text`, `.varchar(2)`, `.numeric(12, 2)`, `.timestamptz`, `.text.array`.
/// `.sql("…")` takes any spelling PostgreSQL and Sluice accept (`.sql("timestamptz(3)")`).
public struct PostgresType: Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public static func sql(_ text: String) -> PostgresType { PostgresType(description: text) }

    public static let smallint = sql("smallint"), integer = sql("integer"), bigint = sql("bigint")
    public static let numeric = sql("numeric")
    public static func numeric(_ precision: Int, _ scale: Int = 0) -> PostgresType { sql("numeric(\(precision),\(scale))") }
    public static let real = sql("real"), doublePrecision = sql("double precision")
    public static let boolean = sql("boolean"), text = sql("text")
    public static func varchar(_ length: Int) -> PostgresType { sql("varchar(\(length))") }
    public static func char(_ length: Int) -> PostgresType { sql("char(\(length))") }
    public static let uuid = sql("uuid"), date = sql("date"), time = sql("time")
    public static let timestamp = sql("timestamp"), timestamptz = sql("timestamptz"), interval = sql("interval")
    public static let json = sql("json"), jsonb = sql("jsonb"), bytea = sql("bytea"), inet = sql("inet"), cidr = sql("cidr")
    public static let smallserial = sql("smallserial"), serial = sql("serial"), bigserial = sql("bigserial")

    /// An array of this type: `.text.array` is `text[]`.
    public var array: PostgresType { .sql(description + "[]") }
}

public struct Column: TablePart {
    public let contributions: [Contribution]

    /// `references` is `table.column` or `schema.table.column`; `default` is an SQL expression (`"now()"`).
    public init(
        _ name: String, _ type: PostgresType, notNull: Bool? = nil, default defaultExpression: String? = nil,
        primaryKey: Bool? = nil, unique: Bool? = nil, identity: Bool? = nil, references: String? = nil,
        description: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "columns",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("type", at.string(type.description)), ("not_null", at.bool(notNull)),
                        ("default", at.string(defaultExpression)), ("primary_key", at.bool(primaryKey)), ("unique", at.bool(unique)),
                        ("references", at.string(references)), ("description", at.string(description)), ("identity", at.bool(identity)),
                    ]))
        ]
    }
}

/// A composite primary key: `PrimaryKey("invoice_no", "line_no")`.
public struct PrimaryKey: TablePart {
    public let contributions: [Contribution]

    public init(_ columns: String..., file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = columns.map { .append("primary_key", item: .string($0, at: at)) }
    }
}

/// A unique constraint over one or more columns.
public struct Unique: TablePart {
    public let contributions: [Contribution]

    public init(_ columns: String..., file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("unique", item: .strings(columns, at: at))]
    }
}

public enum OnDelete: String, Sendable {
    case cascade, restrict, setNull = "set null", setDefault = "set default", noAction = "no action"
}

public struct ForeignKey: TablePart {
    public let contributions: [Contribution]

    public init(
        _ columns: [String], references table: String, columns referenced: [String], onDelete: OnDelete? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "foreign_keys",
                item: .mapping(
                    at,
                    [
                        ("columns", at.strings(columns)),
                        ("references", .mapping(at, [("table", at.string(table)), ("columns", at.strings(referenced))])),
                        ("on_delete", at.word(onDelete)),
                    ]))
        ]
    }
}

/// A CHECK constraint: `Check("event_hour_range", "event_hour BETWEEN 0 AND 23")`.
public struct Check: TablePart {
    public let contributions: [Contribution]

    public init(_ name: String, _ expression: String, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("checks", item: .mapping(at, [("name", at.string(name)), ("expression", at.string(expression))]))]
    }
}

public enum IndexMethod: String, Sendable { case btree, brin, gin, gist, hash }

/// An index; its name defaults to `<table>_<columns>_idx`.
public struct Index: TablePart {
    public let contributions: [Contribution]

    public init(
        _ columns: [String], name: String? = nil, unique: Bool? = nil, method: IndexMethod? = nil, where predicate: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "indexes",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("columns", at.strings(columns)), ("unique", at.bool(unique)), ("method", at.word(method)),
                        ("where", at.string(predicate)),
                    ]))
        ]
    }
}

/// A table of the warehouse, in the first schema unless `schema` says otherwise.
public struct Table: WarehousePart {
    public let contributions: [Contribution]

    public init(
        _ name: String, schema: String? = nil, description: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column,
        @TableBuilder _ content: () -> [any TablePart]
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var table = SpecNode.mapping(at, [("name", at.string(name)), ("schema", at.string(schema)), ("description", at.string(description))])
        table.add(content().flatMap(\.contributions))
        contributions = [.append("tables", item: table)]
    }
}

public struct View: WarehousePart {
    public let contributions: [Contribution]

    public init(
        _ name: String, schema: String? = nil, sql: String,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("views", item: .mapping(at, [("name", at.string(name)), ("schema", at.string(schema)), ("sql", at.string(sql))]))]
    }
}

/// A materialized view; one a pipeline refreshes after its load needs a `uniqueKey` (SL405).
public struct MaterializedView: WarehousePart {
    public let contributions: [Contribution]

    public init(
        _ name: String, schema: String? = nil, uniqueKey: [String]? = nil, sql: String,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "materialized_views",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("schema", at.string(schema)), ("unique_key", at.strings(uniqueKey)), ("sql", at.string(sql)),
                    ]))
        ]
    }
}

/// A procedure (what `post_load` calls) or a function the spec declares in the warehouse.
public struct Routine: WarehousePart {
    public enum Kind: String, Sendable { case procedure, function }
    public enum Language: String, Sendable { case plpgsql, sql }
    public let contributions: [Contribution]

    /// `arguments`: names and PostgreSQL types, in order; `returns` for functions only.
    public init(
        _ name: String, schema: String? = nil, kind: Kind? = nil, arguments: KeyValuePairs<String, String> = [:], returns: String? = nil,
        language: Language? = nil, body: String, file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let argumentList: SpecNode? =
            arguments.isEmpty
            ? nil : .list(arguments.map { .mapping(at, [("name", at.string($0.key)), ("type", at.string($0.value))]) }, at: at)
        contributions = [
            .append(
                "routines",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("schema", at.string(schema)), ("kind", at.word(kind)), ("arguments", argumentList),
                        ("returns", at.string(returns)), ("language", at.word(language)), ("body", at.string(body)),
                    ]))
        ]
    }
}

public enum Privilege: String, Sendable {
    case select = "SELECT", insert = "INSERT", update = "UPDATE", delete = "DELETE", truncate = "TRUNCATE"
    case references = "REFERENCES", trigger = "TRIGGER", usage = "USAGE", execute = "EXECUTE"
}

/// Privileges on qualified tables or views, or `schema:NAME` for a whole schema.
public struct Grant: Sendable {
    let privileges: [Privilege]
    let objects: [String]

    public init(_ privileges: [Privilege], on objects: [String]) {
        self.privileges = privileges
        self.objects = objects
    }
}

/// A database role (a login role unless `login: false`) and its grants.
public struct DatabaseRole: WarehousePart {
    public let contributions: [Contribution]

    public init(
        _ name: String, login: Bool? = nil, grants: [Grant] = [],
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "roles",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("login", at.bool(login)),
                        (
                            "grants",
                            grants.isEmpty
                                ? nil
                                : .list(
                                    grants.map {
                                        .mapping(at, [("privileges", at.words($0.privileges)), ("on", at.strings($0.objects))])
                                    }, at: at)
                        ),
                    ]))
        ]
    }
}
