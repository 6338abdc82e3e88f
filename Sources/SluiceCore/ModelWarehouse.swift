// MARK: - Warehouse

public enum WarehouseEngine: Hashable, Sendable {
    /// Self-managed PostgreSQL on one of the spec's hosts.
    case ec2(host: String)
    case rds(instanceClass: String)
    case aurora(instanceClass: String, instances: Int)

    public var isManaged: Bool { if case .ec2 = self { return false } else { return true } }
}

public struct Column: Hashable, Sendable {
    public var name: String
    public var type: PostgresType
    public var notNull: Bool
    /// SQL expression, e.g. `now()` or `'pending'`.
    public var defaultExpression: String?
    public var description: String?
    /// `GENERATED ALWAYS AS IDENTITY`: numbered by the database, no sequence grant needed to insert.
    public var identity: Bool
    public var location: SourceLocation
    public init(
        name: String, type: PostgresType, notNull: Bool = false, defaultExpression: String? = nil,
        description: String? = nil, identity: Bool = false, location: SourceLocation = .unknown
    ) {
        self.name = name
        self.type = type
        self.notNull = notNull || identity
        self.defaultExpression = defaultExpression
        self.description = description
        self.identity = identity
        self.location = location
    }
}

public struct ForeignKey: Hashable, Sendable {
    public var columns: [String]
    /// Qualified `schema.table`.
    public var referencedTable: String
    public var referencedColumns: [String]
    public var onDelete: String?
    public var location: SourceLocation
    public init(
        columns: [String], referencedTable: String, referencedColumns: [String], onDelete: String? = nil,
        location: SourceLocation = .unknown
    ) {
        self.columns = columns
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
        self.onDelete = onDelete
        self.location = location
    }
}

public struct CheckConstraint: Hashable, Sendable {
    public var name: String
    public var expression: String
    public var location: SourceLocation
    public init(name: String, expression: String, location: SourceLocation = .unknown) {
        self.name = name
        self.expression = expression
        self.location = location
    }
}

public struct Index: Hashable, Sendable {
    public var name: String
    public var columns: [String]
    public var unique: Bool
    /// btree, brin, gin, hash, gist
    public var method: String
    public var whereClause: String?
    public var location: SourceLocation
    public init(
        name: String, columns: [String], unique: Bool = false, method: String = "btree", whereClause: String? = nil,
        location: SourceLocation = .unknown
    ) {
        self.name = name
        self.columns = columns
        self.unique = unique
        self.method = method
        self.whereClause = whereClause
        self.location = location
    }
}

public struct Table: Named {
    public var schema: String
    public var name: String
    public var columns: [Column]
    public var primaryKey: [String]
    public var uniques: [[String]]
    public var foreignKeys: [ForeignKey]
    public var checks: [CheckConstraint]
    public var indexes: [Index]
    public var description: String?
    public var location: SourceLocation
    public init(
        schema: String, name: String, columns: [Column], primaryKey: [String] = [], uniques: [[String]] = [],
        foreignKeys: [ForeignKey] = [], checks: [CheckConstraint] = [], indexes: [Index] = [],
        description: String? = nil, location: SourceLocation = .unknown
    ) {
        self.schema = schema
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
        self.uniques = uniques
        self.foreignKeys = foreignKeys
        self.checks = checks
        self.indexes = indexes
        self.description = description
        self.location = location
    }

    public var qualifiedName: String { "\(schema).\(name)" }
    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }

    /// Whether `columns` (in any order) are guaranteed unique: the primary key, a unique
    /// constraint or a unique index without a WHERE clause. ON CONFLICT needs exactly that.
    public func hasUniqueKey(_ columns: [String]) -> Bool {
        let wanted = Set(columns)
        if !primaryKey.isEmpty, Set(primaryKey) == wanted { return true }
        if uniques.contains(where: { Set($0) == wanted }) { return true }
        return indexes.contains { $0.unique && $0.whereClause == nil && Set($0.columns) == wanted }
    }
}

public struct View: Named {
    public var schema: String
    public var name: String
    public var sql: String
    public var materialized: Bool
    /// Materialized views: the columns of the unique index that REFRESH … CONCURRENTLY needs.
    public var uniqueKey: [String]
    public var location: SourceLocation
    /// Where the `sql` text starts in the spec, for PostgreSQL's errors inside it.
    public var sqlLocation: SourceLocation
    public init(
        schema: String, name: String, sql: String, materialized: Bool = false, uniqueKey: [String] = [],
        location: SourceLocation = .unknown, sqlLocation: SourceLocation = .unknown
    ) {
        self.sqlLocation = sqlLocation
        self.schema = schema
        self.name = name
        self.sql = sql
        self.materialized = materialized
        self.uniqueKey = uniqueKey
        self.location = location
    }
    public var qualifiedName: String { "\(schema).\(name)" }
}

/// A procedure or function the spec declares in the warehouse (`post_load: {call: …}` runs a
/// procedure): created, replaced and dropped by migrations like the spec's views.
public struct Routine: Named {
    public enum Kind: String, Sendable, CaseIterable { case procedure, function }
    public enum Language: String, Sendable, CaseIterable { case plpgsql, sql }
    public struct Argument: Hashable, Sendable {
        public var name: String
        public var type: PostgresType
        public init(name: String, type: PostgresType) {
            self.name = name
            self.type = type
        }
    }

    public var schema: String
    public var name: String
    public var kind: Kind
    public var arguments: [Argument]
    /// A function's result type as PostgreSQL writes it (`void`, `integer`, `TABLE (…)`); nil for procedures.
    public var returns: String?
    public var language: Language
    public var body: String
    public var location: SourceLocation
    /// Where the `body` text starts in the spec, for PostgreSQL's errors inside it.
    public var bodyLocation: SourceLocation

    public init(
        schema: String, name: String, kind: Kind = .procedure, arguments: [Argument] = [], returns: String? = nil,
        language: Language = .plpgsql, body: String, location: SourceLocation = .unknown, bodyLocation: SourceLocation = .unknown
    ) {
        self.schema = schema
        self.name = name
        self.kind = kind
        self.arguments = arguments
        self.returns = returns
        self.language = language
        self.body = body
        self.location = location
        self.bodyLocation = bodyLocation
    }

    public var qualifiedName: String { "\(schema).\(name)" }
}

public struct Grant: Hashable, Sendable {
    /// SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, USAGE, EXECUTE
    public var privileges: [String]
    /// Qualified table or view names, or `schema:NAME` for a whole schema.
    public var on: [String]
    public var location: SourceLocation
    public init(privileges: [String], on: [String], location: SourceLocation = .unknown) {
        self.privileges = privileges
        self.on = on
        self.location = location
    }
}

public struct DatabaseRole: Named {
    public var name: String
    public var login: Bool
    public var grants: [Grant]
    public var location: SourceLocation
    public init(name: String, login: Bool = true, grants: [Grant] = [], location: SourceLocation = .unknown) {
        self.name = name
        self.login = login
        self.grants = grants
        self.location = location
    }
}

public struct Warehouse: Named {
    public var name: String
    public var engine: WarehouseEngine
    /// Managed engines: the DB subnet group. EC2: the host's subnet.
    public var subnets: [String]
    public var securityGroups: [String]
    public var port: Int
    public var database: String
    /// Secrets Manager secret with the master credentials.
    public var credentialsSecret: String
    /// Security groups the spec names as legitimate database clients.
    public var clients: [String]
    public var publiclyAccessible: Bool
    public var schemas: [String]
    public var tables: [Table]
    public var views: [View]
    public var roles: [DatabaseRole]
    public var routines: [Routine]
    public var location: SourceLocation
    public init(
        name: String, engine: WarehouseEngine, subnets: [String], securityGroups: [String], port: Int = 5432,
        database: String, credentialsSecret: String, clients: [String], publiclyAccessible: Bool = false,
        schemas: [String], tables: [Table] = [], views: [View] = [], roles: [DatabaseRole] = [], routines: [Routine] = [],
        location: SourceLocation = .unknown
    ) {
        self.routines = routines
        self.name = name
        self.engine = engine
        self.subnets = subnets
        self.securityGroups = securityGroups
        self.port = port
        self.database = database
        self.credentialsSecret = credentialsSecret
        self.clients = clients
        self.publiclyAccessible = publiclyAccessible
        self.schemas = schemas
        self.tables = tables
        self.views = views
        self.roles = roles
        self.location = location
    }

    /// Looks a routine up by `schema.name` or, for the first schema, by bare name.
    public func routine(_ reference: String) -> Routine? {
        if reference.contains(".") { return routines.first { $0.qualifiedName == reference } }
        return routines.first { $0.name == reference && $0.schema == schemas.first }
    }

    /// Looks a table up by `schema.name` or, for the first schema, by bare name.
    public func table(_ reference: String) -> Table? {
        if reference.contains(".") { return tables.first { $0.qualifiedName == reference } }
        return tables.first { $0.name == reference && $0.schema == schemas.first } ?? tables.first { $0.name == reference }
    }
}
