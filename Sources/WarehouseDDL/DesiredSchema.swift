import SluiceCore

/// One privilege of one role on one object, the unit grants are rendered, compared and revoked in.
public struct Privilege: Hashable, Comparable, Sendable {
    public enum ObjectKind: String, Sendable, Comparable {
        case schema, table, function
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }
    public var role: String
    public var privilege: String
    public var kind: ObjectKind
    /// The schema name, a qualified `schema.relation`, or a function signature.
    public var object: String

    public init(role: String, privilege: String, kind: ObjectKind, object: String) {
        self.role = role
        self.privilege = privilege
        self.kind = kind
        self.object = object
    }

    public static func < (a: Privilege, b: Privilege) -> Bool {
        (a.role, a.kind, a.object, a.privilege) < (b.role, b.kind, b.object, b.privilege)
    }
}

/// Everything one spec's warehouse database should hold, Sluice's control schema included, in
/// the order it can be created: tables after the tables they reference, views after what they read.
/// The schema script and the migration planner both work from this, so they cannot disagree.
public struct DesiredSchema: Sendable {
    public var database: String
    /// Spec schemas in spec order, then `sluice`.
    public var schemas: [String]
    public var tables: [Table]
    /// Plain and materialized views together, in dependency order.
    public var views: [View]
    public var roles: [DatabaseRole]
    public var privileges: [Privilege]
    public var functions: [FunctionDefinition]

    public init(warehouse: Warehouse, pipelines: [Pipeline]) {
        database = warehouse.database
        schemas = warehouse.schemas.filter { $0 != ControlSchema.name } + [ControlSchema.name]
        tables = Self.inForeignKeyOrder(warehouse.tables + ControlSchema.tables)
        views = Self.inDependencyOrder(warehouse.views)
        roles = warehouse.roles.sorted { $0.name < $1.name }
        functions = [ControlSchema.refreshFunction] + warehouse.routines.map(FunctionDefinition.init(routine:))
        privileges = Self.privileges(warehouse: warehouse, pipelines: pipelines)
    }

    /// The search_path DDL runs under: the spec's schemas first, so view queries and defaults
    /// resolve as written, the same way in schema.sql, the probe and `sluice apply`.
    public var searchPath: String { (schemas.map(SQL.identifier) + ["pg_catalog"]).joined(separator: ", ") }

    public func table(_ qualifiedName: String) -> Table? { tables.first { $0.qualifiedName == qualifiedName } }
    public func view(_ qualifiedName: String) -> View? { views.first { $0.qualifiedName == qualifiedName } }

    /// Foreign keys whose table comes before the table they reference (a cycle): added after all tables.
    public var deferredForeignKeys: [(table: Table, foreignKey: ForeignKey)] {
        var created: Set<String> = []
        var deferred: [(Table, ForeignKey)] = []
        for table in tables {
            created.insert(table.qualifiedName)
            for fk in table.foreignKeys where !created.contains(fk.referencedTable) { deferred.append((table, fk)) }
        }
        return deferred
    }

    // MARK: - Ordering

    /// Kahn's algorithm, taking the earliest ready table in spec order so the output is stable and
    /// reads like the spec. Tables in a cycle keep spec order; their back references are deferred.
    static func inForeignKeyOrder(_ tables: [Table]) -> [Table] {
        let names = Set(tables.map(\.qualifiedName))
        var remaining = tables
        var placed: Set<String> = []
        var ordered: [Table] = []
        while !remaining.isEmpty {
            let ready =
                remaining.firstIndex { table in
                    table.foreignKeys.allSatisfy { fk in
                        fk.referencedTable == table.qualifiedName || placed.contains(fk.referencedTable) || !names.contains(fk.referencedTable)
                    }
                } ?? 0
            let table = remaining.remove(at: ready)
            placed.insert(table.qualifiedName)
            ordered.append(table)
        }
        return ordered
    }

    static func inDependencyOrder(_ views: [View]) -> [View] {
        // A view reads another when its query names it where a relation goes (RelationReferences), not
        // merely anywhere (a column alias). Each query is scanned once; the ordering asks about every pair.
        let references = Dictionary(views.map { ($0.qualifiedName, RelationReferences.in($0.sql)) }, uniquingKeysWith: { first, _ in first })
        func reads(_ view: View, _ other: View) -> Bool {
            guard let read = references[view.qualifiedName] else { return false }
            return read.contains(other.qualifiedName.lowercased()) || read.contains(other.name.lowercased())
        }
        var remaining = views
        var ordered: [View] = []
        while !remaining.isEmpty {
            let ready =
                remaining.firstIndex { view in
                    remaining.allSatisfy { other in other.qualifiedName == view.qualifiedName || !reads(view, other) }
                } ?? 0
            ordered.append(remaining.remove(at: ready))
        }
        return ordered
    }

    // MARK: - Privileges

    static func privileges(warehouse: Warehouse, pipelines: [Pipeline]) -> [Privilege] {
        var result: Set<Privilege> = []
        let relations = warehouse.tables.map(\.qualifiedName) + warehouse.views.map(\.qualifiedName)
        for role in warehouse.roles {
            for grant in role.grants {
                for target in grant.on {
                    if target.hasPrefix("schema:") {
                        let schema = String(target.dropFirst("schema:".count))
                        result.insert(Privilege(role: role.name, privilege: "USAGE", kind: .schema, object: schema))
                        for privilege in grant.privileges where privilege != "USAGE" {
                            for relation in relations where relation.hasPrefix(schema + ".") {
                                result.insert(Privilege(role: role.name, privilege: privilege, kind: .table, object: relation))
                            }
                        }
                    } else {
                        let relation = warehouse.table(target)?.qualifiedName ?? target
                        if let dot = relation.firstIndex(of: ".") {
                            result.insert(Privilege(role: role.name, privilege: "USAGE", kind: .schema, object: String(relation[..<dot])))
                        }
                        for privilege in grant.privileges where privilege != "USAGE" {
                            result.insert(Privilege(role: role.name, privilege: privilege, kind: .table, object: relation))
                        }
                    }
                }
            }
        }
        // The roles that load a pipeline keep its bookkeeping and may refresh the views it refreshes.
        for pipeline in pipelines {
            let writers = writerRoles(of: pipeline, in: warehouse)
            for writer in writers {
                result.insert(Privilege(role: writer, privilege: "USAGE", kind: .schema, object: ControlSchema.name))
                for (table, privileges) in ControlSchema.writerPrivileges {
                    for privilege in privileges {
                        result.insert(Privilege(role: writer, privilege: privilege, kind: .table, object: table))
                    }
                }
                if pipeline.postLoad.contains(where: { if case .refreshMaterializedView = $0 { true } else { false } }) {
                    result.insert(Privilege(role: writer, privilege: "EXECUTE", kind: .function, object: ControlSchema.refreshFunction.signature))
                }
                // The spec's procedures its post-load steps call (others are the database's own business).
                for case .call(let name, _) in pipeline.postLoad {
                    guard let routine = warehouse.routine(name) else { continue }
                    result.insert(
                        Privilege(role: writer, privilege: "EXECUTE", kind: .function, object: FunctionDefinition(routine: routine).signature))
                }
            }
        }
        return result.sorted()
    }

    /// Roles with INSERT or UPDATE on one of the pipeline's target tables.
    public static func writerRoles(of pipeline: Pipeline, in warehouse: Warehouse) -> [String] { warehouse.writerRoles(of: pipeline) }
}

/// A function Sluice owns in its control schema, or a routine the spec declares.
public struct FunctionDefinition: Hashable, Sendable {
    /// `sluice.name(argument types)`, as `regprocedure` prints it.
    public var signature: String
    public var qualifiedName: String
    public var arguments: String
    /// Empty for a procedure.
    public var returns: String
    public var attributes: String
    public var body: String
    public var isProcedure = false
    /// What the catalog shows of it when it is as declared: SECURITY DEFINER, and its settings.
    public var securityDefiner = true
    public var settings = ["search_path=pg_catalog, pg_temp"]
    /// A routine of the spec (not Sluice's): what it is called and where its body is, for PostgreSQL's errors in it.
    public var declared: Declaration?

    public struct Declaration: Hashable, Sendable {
        public var label: String
        public var bodyLocation: SourceLocation
    }

    init(signature: String, qualifiedName: String, arguments: String, returns: String, attributes: String, body: String) {
        self.signature = signature
        self.qualifiedName = qualifiedName
        self.arguments = arguments
        self.returns = returns
        self.attributes = attributes
        self.body = body
    }

    /// A routine of the spec: SECURITY INVOKER (it runs with the rights of the role that calls it),
    /// no settings of its own.
    public init(routine: Routine) {
        let qualified = SQL.qualified(routine.schema, routine.name)
        signature = "\(qualified)(\(routine.arguments.map { Self.catalogName($0.type) }.joined(separator: ", ")))"
        qualifiedName = qualified
        arguments = routine.arguments.map { "\(SQL.identifier($0.name)) \($0.type)" }.joined(separator: ", ")
        returns = routine.returns ?? ""
        attributes = "LANGUAGE \(routine.language.rawValue)"
        body = routine.body
        isProcedure = routine.kind == .procedure
        securityDefiner = false
        settings = []
        declared = Declaration(label: "\(routine.kind.rawValue) \(routine.qualifiedName)", bodyLocation: routine.bodyLocation)
    }

    /// A type as `format_type` names it in `regprocedure` (no modifiers: PostgreSQL ignores them there).
    static func catalogName(_ type: PostgresType) -> String {
        let names: [PostgresType.Base: String] = [
            .varchar: "character varying", .char: "character", .time: "time without time zone", .timestamp: "timestamp without time zone",
            .timestamptz: "timestamp with time zone",
        ]
        return (names[type.base] ?? type.base.rawValue) + (type.isArray ? "[]" : "")
    }
}
