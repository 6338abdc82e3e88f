import PostgresClient
import SluiceCore
import WarehouseDDL

/// Compares the live catalog with the desired schema and lists the steps between them. Runs inside
/// the caller's transaction (Migrator), so what it reads cannot change before the steps run.
struct MigrationPlanner {
    let desired: DesiredSchema
    let live: LiveCatalog
    let probe: Probe
    let connection: Connection

    /// Steps by phase; the plan runs the phases in declaration order.
    private var dropViews: [MigrationStep] = []
    private var dropIndexes: [MigrationStep] = []
    /// Foreign keys go before the keys they depend on (dropConstraints).
    private var dropForeignKeys: [MigrationStep] = []
    private var dropConstraints: [MigrationStep] = []
    private var createRoles: [MigrationStep] = []
    private var createSchemas: [MigrationStep] = []
    private var createTables: [MigrationStep] = []
    private var alterColumns: [MigrationStep] = []
    private var dropTables: [MigrationStep] = []
    private var addConstraints: [MigrationStep] = []
    private var addForeignKeys: [MigrationStep] = []
    private var createIndexes: [MigrationStep] = []
    private var createViews: [MigrationStep] = []
    private var functions: [MigrationStep] = []
    private var comments: [MigrationStep] = []
    private var privileges: [MigrationStep] = []
    /// Last: a schema can go only once everything in it has.
    private var dropSchemas: [MigrationStep] = []
    /// Removed from the spec but left because others' objects are in it: still Sluice's to report.
    private var keptSchemas: [String] = []
    private var drift: [DriftItem] = []
    private var notes: [String] = []
    /// Relations dropped or created by this plan: their privileges start from nothing.
    private var recreated: Set<String> = []
    /// Managed tables the spec no longer has, dropped by this plan.
    private var droppedTables: Set<String> = []
    /// `table.constraint` of every constraint this plan drops.
    private var droppedConstraints: Set<String> = []
    /// Tables this plan adds columns to: a view that selects `*` from one is rebuilt to see them.
    private var tablesGainingColumns: Set<String> = []
    /// Primary keys and unique constraints this plan drops: foreign keys elsewhere may depend on them.
    private var droppedKeys: [(table: String, constraint: String)] = []

    init(desired: DesiredSchema, live: LiveCatalog, probe: Probe, connection: Connection) {
        self.desired = desired
        self.live = live
        self.probe = probe
        self.connection = connection
    }

    static func plan(_ desired: DesiredSchema, on connection: Connection) throws -> MigrationPlan {
        var live = try LiveCatalog.read(connection, schemas: desired.schemas)
        // A schema Sluice made that the spec no longer lists is read too: what is in it is dropped or
        // reported, never silently left behind.
        let removedSchemas = live.managed.filter { $0.kind == "schema" && !desired.schemas.contains($0.name) }.map(\.name)
        if !removedSchemas.isEmpty {
            live = try LiveCatalog.read(connection, schemas: desired.schemas + removedSchemas.sorted())
        }
        let existingTables = Set(live.relations.filter { $0.value.kind.isTable }.keys)
        let existingViews = Set(live.relations.filter { $0.value.kind.isView }.keys)
        let probe = try Probe.run(desired, existingTables: existingTables, existingViews: existingViews, on: connection)
        var planner = MigrationPlanner(desired: desired, live: live, probe: probe, connection: connection)
        try planner.compare()
        return planner.finish()
    }

    private func isManaged(_ kind: String, _ name: String) -> Bool { live.managed.contains(ManagedObject(kind: kind, name: name)) }

    private mutating func compare() throws {
        for role in desired.roles {
            if let canLogin = live.roles[role.name] {
                if canLogin != role.login {
                    createRoles.append(MigrationStep("\(role.login ? "allow" : "forbid") login for role \(role.name)", [DDL.alterRoleLogin(role)]))
                }
            } else {
                createRoles.append(MigrationStep("create role \(role.name)", [DDL.createRole(role)]))
            }
        }
        for managedRole in live.managed.filter({ $0.kind == "role" }) where !desired.roles.contains(where: { $0.name == managedRole.name }) {
            notes.append(
                "role \(managedRole.name) is no longer in the spec: its privileges here are revoked, the role itself is left (roles belong to the whole cluster)"
            )
        }
        for schema in desired.schemas where !live.schemas.contains(schema) {
            createSchemas.append(MigrationStep("create schema \(schema)", [DDL.createSchema(schema)]))
        }
        let tablesToRebuildViewsOf = try compareTables()
        compareViews(alteredTables: tablesToRebuildViewsOf)
        compareIndexes()
        compareFunctions()
        comparePrivileges()
        reportUnknownRelations()
        try dropRemovedSchemas()
    }

    // MARK: - Tables

    /// Returns the tables whose column changes force the views reading them to be rebuilt.
    private mutating func compareTables() throws -> Set<String> {
        var forcing: Set<String> = []
        let deferred = desired.deferredForeignKeys
        for table in desired.tables {
            let name = table.qualifiedName
            // A view Sluice made that the spec turned into a table: the view is dropped first
            // (compareViews: it is no longer in the spec), so the table is created in the same migration.
            let replacesView =
                live.relations[name]?.kind.isView == true && desired.view(name) == nil
                && (isManaged("view", name) || isManaged("materialized view", name))
            guard let relation = live.relations[name], !replacesView else {
                let own = deferred.filter { $0.table.qualifiedName == name }.map(\.foreignKey)
                createTables.append(MigrationStep("create table \(name)", [DDL.createTable(table, deferring: own)] + tableComments(table)))
                for constraint in DDL.constraints(of: table) where constraint.foreignKey.map(own.contains) ?? false {
                    addForeignKeys.append(MigrationStep("add constraint \(name).\(constraint.name)", [DDL.addConstraint(constraint, to: table)]))
                }
                recreated.insert(name)
                continue
            }
            guard relation.kind.isTable else {
                createTables.append(
                    MigrationStep(
                        "create table \(name)", [], safety: .blocked,
                        reason: "\(name) exists as a \(relation.kind.noun); drop or rename it first", at: table.location))
                continue
            }
            if try compareColumns(table, relation) { forcing.insert(name) }
            compareConstraints(table, relation)
            var commentStatements: [String] = []
            if relation.comment != table.description { commentStatements.append(DDL.commentOnTable(name, table.description)) }
            for column in table.columns {
                let liveComment = relation.columns.first { $0.name == column.name }?.comment
                if liveComment != column.description { commentStatements.append(DDL.commentOnColumn(name, column.name, column.description)) }
            }
            if !commentStatements.isEmpty { comments.append(MigrationStep("update comments of \(name)", commentStatements)) }
        }
        try dropRemovedTables()
        forcing.formUnion(droppedTables)
        try keepForeignKeysOfChangedKeys()
        return forcing
    }

    /// Tables Sluice made that the spec no longer has, in name order. The foreign keys between them go
    /// first, so a chain or a cycle of references drops whatever the order; a foreign key from a
    /// table that stays (and is not being dropped by this plan) blocks the drop.
    private mutating func dropRemovedTables() throws {
        let removed = live.managed.filter { $0.kind == "table" && desired.table($0.name) == nil && live.relations[$0.name] != nil }.map(\.name)
            .sorted()
        droppedTables = Set(removed)
        for name in removed {
            for constraint in live.relations[name]!.constraints where constraint.kind == "f" {
                guard let referenced = constraint.referencedTable, referenced != name, droppedTables.contains(referenced) else { continue }
                droppedConstraints.insert("\(name).\(constraint.name)")
                dropTables.append(
                    MigrationStep(
                        "drop constraint \(name).\(constraint.name) (both its table and \(referenced) are dropped)",
                        [DDL.dropConstraint(constraint.name, from: name)]))
            }
        }
        for name in removed {
            let blockers = live.relations.sorted { $0.key < $1.key }.flatMap { table, relation in
                relation.constraints.filter {
                    $0.kind == "f" && $0.referencedTable == name && !droppedTables.contains(table)
                        && !droppedConstraints.contains("\(table).\($0.name)")
                }
                .map { "\(table).\($0.name)" }
            }
            if !blockers.isEmpty {
                dropTables.append(
                    MigrationStep(
                        "drop table \(name)", [], safety: .blocked,
                        reason: "\(blockers.joined(separator: ", ")) references it and is not in the spec; drop that foreign key first"))
                continue
            }
            let rows = try rowCount(name)
            dropTables.append(
                MigrationStep(
                    "drop table \(name)", ["DROP TABLE \(SQL.qualified(name));"], safety: .destructive,
                    reason: rows == "0" ? "it is empty now, but the table and its definition go" : "its \(rows) row(s) would be lost"))
        }
    }

    /// A schema Sluice made that the spec no longer lists: dropped after everything of Sluice's in it,
    /// or, when it holds anything else, left and reported.
    private mutating func dropRemovedSchemas() throws {
        for schema in live.managed.filter({ $0.kind == "schema" && !desired.schemas.contains($0.name) }).map(\.name).sorted()
        where live.schemas.contains(schema) {
            let others = try connection.query(
                """
                SELECT c.relname FROM pg_class c
                WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
                UNION ALL SELECT p.proname FROM pg_proc p WHERE p.pronamespace = to_regnamespace($1)
                UNION ALL SELECT t.typname FROM pg_type t WHERE t.typnamespace = to_regnamespace($1) AND t.typrelid = 0 AND t.typelem = 0
                ORDER BY 1
                """, [SQL.identifier(schema)]
            ).rows.map { $0[0]! }
            let goes = Set(droppedTables).union(live.managed.filter { $0.kind == "view" || $0.kind == "materialized view" }.map(\.name))
                .union(live.managed.filter { $0.kind == "function" }.map(\.name))
            let staying = others.filter { name in
                !goes.contains("\(schema).\(name)") && !live.managed.contains { $0.kind == "function" && $0.name.hasPrefix("\(schema).\(name)(") }
            }
            if staying.isEmpty {
                dropSchemas.append(MigrationStep("drop schema \(schema) (no longer in the spec)", ["DROP SCHEMA \(SQL.identifier(schema));"]))
            } else {
                keptSchemas.append(schema)
                drift.append(
                    DriftItem(
                        kind: "schema", name: schema,
                        detail:
                            "no longer in the spec, but it holds \(staying.prefix(3).joined(separator: ", "))\(staying.count > 3 ? ", …" : "") that Sluice did not create; left in place"
                    ))
            }
        }
    }

    /// A primary key or unique constraint that changes is dropped and added again; the foreign keys
    /// that depend on it (through its index, as pg_constraint records) must go before it and come back
    /// after. One in the spec comes back as the spec has it; one that is not, as it was.
    private mutating func keepForeignKeysOfChangedKeys() throws {
        for key in droppedKeys {
            let dependents = try connection.query(
                """
                SELECT n.nspname || '.' || r.relname, f.conname, pg_get_constraintdef(f.oid)
                FROM pg_constraint k JOIN pg_constraint f ON f.contype = 'f' AND f.conindid = k.conindid
                JOIN pg_class r ON r.oid = f.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
                WHERE k.conrelid = to_regclass($1) AND k.conname = $2
                ORDER BY 1, 2
                """, [SQL.qualified(key.table), key.constraint]
            ).rows
            for row in dependents {
                let table = row[0]!, name = row[1]!, qualified = "\(table).\(name)"
                guard !droppedConstraints.contains(qualified), !droppedTables.contains(table) else { continue }
                droppedConstraints.insert(qualified)
                dropForeignKeys.append(
                    MigrationStep(
                        "drop constraint \(qualified) while \(key.table).\(key.constraint), which it depends on, changes",
                        [DDL.dropConstraint(name, from: table)]))
                if let wantedTable = desired.table(table), let wanted = DDL.constraints(of: wantedTable).first(where: { $0.name == name }) {
                    addForeignKeys.append(
                        MigrationStep("re-add constraint \(qualified): \(wanted.definition)", [DDL.addConstraint(wanted, to: wantedTable)]))
                } else {
                    addForeignKeys.append(
                        MigrationStep(
                            "re-add constraint \(qualified) as it was (not in the spec): \(row[2]!)",
                            ["ALTER TABLE \(SQL.qualified(table)) ADD CONSTRAINT \(SQL.identifier(name)) \(row[2]!);"]))
                }
            }
        }
    }

    private func tableComments(_ table: Table) -> [String] {
        (table.description.map { [DDL.commentOnTable(table.qualifiedName, $0)] } ?? [])
            + table.columns.compactMap { column in column.description.map { DDL.commentOnColumn(table.qualifiedName, column.name, $0) } }
    }

    /// Returns whether a column's type changed or a column is dropped (views reading the table must be rebuilt).
    private mutating func compareColumns(_ table: Table, _ relation: LiveCatalog.Relation) throws -> Bool {
        let name = table.qualifiedName, target = SQL.qualified(name)
        var forcesViews = false
        var tableHasRows: Bool?
        func rows() throws -> Bool {
            if let tableHasRows { return tableHasRows }
            let value = try hasRows(name)
            tableHasRows = value
            return value
        }
        for column in table.columns {
            let columnName = "\(name).\(column.name)", quoted = SQL.identifier(column.name)
            guard let current = relation.columns.first(where: { $0.name == column.name }) else {
                let step = MigrationStep(
                    "add column \(columnName) \(column.type)", ["ALTER TABLE \(target) ADD COLUMN \(DDL.columnDefinition(column));"])
                tablesGainingColumns.insert(name)
                if column.notNull, column.defaultExpression == nil, !column.identity, !column.type.hasImplicitDefault, try rows() {
                    alterColumns.append(
                        MigrationStep(
                            step.summary, step.statements, safety: .blocked,
                            reason:
                                "\(name) has rows and the new column is NOT NULL without a default; give it a default, or add it nullable and backfill",
                            at: column.location))
                } else {
                    alterColumns.append(step)
                }
                continue
            }
            // What the column's default is once the steps so far have run.
            var currentDefault = current.defaultExpression
            let ownsSequence = current.defaultExpression?.hasPrefix("nextval(") ?? false
            let wantedType = probe.columnTypes[name]?[column.name] ?? column.type.description
            if wantedType != current.type {
                let change = TypeChange.classify(from: current.type, to: column.type)
                let stored = TypeChange.stored(column.type)
                var statements: [String] = []
                // A default of the old type may not cast to the new one ('0'::text to integer), so it goes
                // first and is set again after; a serial's sequence default stays, and its sequence widens too.
                if currentDefault != nil, !ownsSequence {
                    statements.append("ALTER TABLE \(target) ALTER COLUMN \(quoted) DROP DEFAULT;")
                    currentDefault = nil
                }
                statements.append("ALTER TABLE \(target) ALTER COLUMN \(quoted) TYPE \(stored) USING \(quoted)::\(stored);")
                if ownsSequence, let sequence = try serialSequence(name, column.name),
                    [PostgresType.Base.smallint, .integer, .bigint].contains(stored.base)
                {
                    statements.append("ALTER SEQUENCE \(sequence) AS \(stored);")
                }
                let summary = "change type of \(columnName) from \(current.type) to \(column.type)"
                switch change {
                case .widening:
                    alterColumns.append(MigrationStep(summary, statements))
                case .narrowing(let why):
                    // Decided with the data in hand: a change no existing value notices is safe.
                    switch try valuesChanged(in: name, column: column.name, from: current.type, to: stored, hasRows: try rows()) {
                    case .count(0):
                        alterColumns.append(MigrationStep(summary, statements))
                    case .count(let changed):
                        alterColumns.append(
                            MigrationStep(
                                summary, statements, safety: .destructive,
                                reason: "\(changed) row(s) hold a value the new type would change or cut (\(why))", at: column.location))
                    case .refused(let message):
                        alterColumns.append(
                            MigrationStep(
                                summary, statements, safety: .blocked,
                                reason: "some rows hold a value \(stored) cannot take (\(message)); change those rows first", at: column.location))
                    case .unknown:
                        alterColumns.append(MigrationStep(summary, statements, safety: .destructive, reason: why, at: column.location))
                    }
                }
                forcesViews = true
            }
            if column.identity != current.identity {
                if column.identity {
                    // PostgreSQL adds identity only to a NOT NULL column without a default, and numbers from 1:
                    // existing values would collide, so the sequence restarts after the largest.
                    var statements: [String] = []
                    if currentDefault != nil { statements.append("ALTER TABLE \(target) ALTER COLUMN \(quoted) DROP DEFAULT;") }
                    let nulls = current.notNull ? 0 : try nullCount(target, quoted)
                    if !current.notNull { statements.append("ALTER TABLE \(target) ALTER COLUMN \(quoted) SET NOT NULL;") }
                    statements.append("ALTER TABLE \(target) ALTER COLUMN \(quoted) ADD GENERATED ALWAYS AS IDENTITY;")
                    statements.append(
                        "SELECT setval(pg_get_serial_sequence(\(SQL.literal(target)), \(SQL.literal(column.name))), coalesce(max(\(quoted)), 0) + 1, false) FROM \(target);"
                    )
                    alterColumns.append(
                        nulls == 0
                            ? MigrationStep("make \(columnName) an identity column", statements)
                            : MigrationStep(
                                "make \(columnName) an identity column", statements, safety: .blocked,
                                reason: "\(nulls) row(s) have NULL there, and an identity column is NOT NULL; fill them first", at: column.location))
                } else {
                    alterColumns.append(
                        MigrationStep("stop numbering \(columnName) (drop identity)", ["ALTER TABLE \(target) ALTER COLUMN \(quoted) DROP IDENTITY;"])
                    )
                }
            }
            if !column.identity, !column.type.hasImplicitDefault {
                let wantedDefault = column.defaultExpression.map { probe.defaults[name]?[column.name] ?? $0 }
                if wantedDefault != currentDefault {
                    if let value = column.defaultExpression {
                        alterColumns.append(
                            MigrationStep(
                                "set default of \(columnName) to \(value)", ["ALTER TABLE \(target) ALTER COLUMN \(quoted) SET DEFAULT \(value);"]))
                    } else {
                        alterColumns.append(
                            MigrationStep("drop default of \(columnName)", ["ALTER TABLE \(target) ALTER COLUMN \(quoted) DROP DEFAULT;"]))
                    }
                }
            }
            if column.notNull != current.notNull, !column.identity {
                if column.notNull {
                    let nulls = try nullCount(target, quoted)
                    let statement = "ALTER TABLE \(target) ALTER COLUMN \(quoted) SET NOT NULL;"
                    if nulls == 0 {
                        alterColumns.append(MigrationStep("set NOT NULL on \(columnName)", [statement]))
                    } else if let value = column.defaultExpression {
                        alterColumns.append(
                            MigrationStep(
                                "set NOT NULL on \(columnName), filling its \(nulls) NULL(s) with the default",
                                ["UPDATE \(target) SET \(quoted) = \(value) WHERE \(quoted) IS NULL;", statement],
                                safety: .destructive, reason: "\(nulls) row(s) have NULL, which would be replaced by \(value)", at: column.location))
                    } else {
                        alterColumns.append(
                            MigrationStep(
                                "set NOT NULL on \(columnName)", [statement], safety: .blocked,
                                reason: "\(nulls) row(s) have NULL there; backfill them or give the column a default first", at: column.location))
                    }
                } else {
                    alterColumns.append(
                        MigrationStep("drop NOT NULL on \(columnName)", ["ALTER TABLE \(target) ALTER COLUMN \(quoted) DROP NOT NULL;"]))
                }
            }
        }
        for current in relation.columns where table.column(current.name) == nil {
            let columnName = "\(name).\(current.name)"
            if isManaged("column", columnName) {
                alterColumns.append(
                    MigrationStep(
                        "drop column \(columnName)", ["ALTER TABLE \(target) DROP COLUMN \(SQL.identifier(current.name));"],
                        safety: .destructive,
                        reason: try rows() ? "its values in every row would be lost" : "the table is empty, but the column goes",
                        at: table.location))
                forcesViews = true
            } else {
                drift.append(DriftItem(kind: "column", name: columnName, detail: "\(current.type), not in the spec"))
            }
        }
        return forcesViews
    }

    private mutating func compareConstraints(_ table: Table, _ relation: LiveCatalog.Relation) {
        let name = table.qualifiedName
        let wanted = DDL.constraints(of: table)
        for constraint in wanted {
            let add = MigrationStep("add constraint \(name).\(constraint.name)", [DDL.addConstraint(constraint, to: table)])
            guard let current = relation.constraints.first(where: { $0.name == constraint.name }) else {
                if constraint.kind == .foreignKey { addForeignKeys.append(add) } else { addConstraints.append(add) }
                continue
            }
            if !same(constraint, current, table: name) {
                drop(
                    current, of: name,
                    MigrationStep(
                        "drop constraint \(name).\(constraint.name) (definition changed)", [DDL.dropConstraint(constraint.name, from: name)]))
                let replace = MigrationStep("re-add constraint \(name).\(constraint.name): \(constraint.definition)", add.statements)
                if constraint.kind == .foreignKey { addForeignKeys.append(replace) } else { addConstraints.append(replace) }
            }
        }
        for current in relation.constraints where !wanted.contains(where: { $0.name == current.name }) {
            let qualified = "\(name).\(current.name)"
            if isManaged("constraint", qualified) {
                drop(current, of: name, MigrationStep("drop constraint \(qualified)", [DDL.dropConstraint(current.name, from: name)]))
            } else {
                drift.append(DriftItem(kind: "constraint", name: qualified, detail: current.definition))
            }
        }
    }

    private mutating func drop(_ current: LiveCatalog.Constraint, of table: String, _ step: MigrationStep) {
        droppedConstraints.insert("\(table).\(current.name)")
        switch current.kind {
        case "f": dropForeignKeys.append(step)
        case "p", "u":
            droppedKeys.append((table, current.name))
            dropConstraints.append(step)
        default: dropConstraints.append(step)
        }
    }

    private func same(_ constraint: TableConstraint, _ current: LiveCatalog.Constraint, table: String) -> Bool {
        guard constraint.kind.rawValue == current.kind else { return false }
        switch constraint.kind {
        case .primaryKey:
            return current.columns == desired.table(table)?.primaryKey
        case .unique:
            return constraint.definition == "UNIQUE (\(SQL.list(current.columns)))"
        case .foreignKey:
            guard let fk = constraint.foreignKey else { return false }
            let actions = ["no action": "a", "restrict": "r", "cascade": "c", "set null": "n", "set default": "d"]
            return fk.columns == current.columns && fk.referencedTable == current.referencedTable
                && fk.referencedColumns == current.referencedColumns && actions[(fk.onDelete ?? "no action").lowercased()] == current.onDelete
        case .check:
            guard let normalised = probe.checks[table]?[constraint.name] else { return false }
            return normalised == current.definition
        }
    }

    enum ValueCheck: Equatable {
        /// Rows whose value comes back different through the new type and back.
        case count(Int)
        /// Some value does not convert at all: the type change would fail.
        case refused(String)
        /// The values could not be compared (no equality or no cast back for the old type).
        case unknown
    }

    /// How many non-NULL values of the column a cast to `type` would change: each is cast to the new
    /// type and back, as `ALTER … TYPE … USING` casts, and compared with itself. An empty table
    /// changes nothing.
    private func valuesChanged(in table: String, column: String, from current: String, to type: PostgresType, hasRows: Bool) throws -> ValueCheck {
        guard hasRows else { return .count(0) }
        let quoted = SQL.identifier(column)
        try connection.query("SAVEPOINT sluice_value_check")
        defer { _ = try? connection.query("RELEASE SAVEPOINT sluice_value_check") }
        do {
            let changed =
                try connection.query(
                    """
                    SELECT count(*) FROM \(SQL.qualified(table))
                    WHERE \(quoted) IS NOT NULL AND \(quoted) IS DISTINCT FROM (\(quoted)::\(type))::\(current)
                    """
                ).scalar.flatMap { Int($0) } ?? 0
            return .count(changed)
        } catch let error as PostgresError where !error.isConnectionFailure {
            try connection.query("ROLLBACK TO SAVEPOINT sluice_value_check")
            // Class 22 is a data exception: a value that does not convert (or is out of range).
            return error.sqlState?.hasPrefix("22") == true ? .refused(error.message) : .unknown
        }
    }

    /// The sequence a serial column owns, as a qualified name, or nil.
    private func serialSequence(_ table: String, _ column: String) throws -> String? {
        try connection.query("SELECT pg_get_serial_sequence($1, $2)", [SQL.qualified(table), column]).scalar
    }

    /// The table's row count as a reader wants it: exact up to a million, "over 1,000,000" beyond.
    private func rowCount(_ table: String) throws -> String {
        let count =
            try connection.query("SELECT count(*) FROM (SELECT FROM \(SQL.qualified(table)) LIMIT 1000001) rows").scalar.flatMap { Int($0) } ?? 0
        if count > 1_000_000 { return "over 1,000,000" }
        let digits = String(count)
        return String(
            digits.enumerated().flatMap { offset, digit in
                offset > 0 && (digits.count - offset) % 3 == 0 ? [",", digit] : [digit]
            })
    }

    /// Rows holding NULL in a column (`target` and `column` already quoted).
    private func nullCount(_ target: String, _ column: String) throws -> Int {
        try connection.query("SELECT count(*) FROM \(target) WHERE \(column) IS NULL").scalar.flatMap { Int($0) } ?? 0
    }

    private func hasRows(_ table: String) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT FROM \(SQL.qualified(table)))").scalar == "t"
    }

    // MARK: - Views

    private mutating func compareViews(alteredTables: Set<String>) {
        var rebuild: [String: String] = [:]
        for view in desired.views {
            guard let relation = live.relations[view.qualifiedName] else { continue }
            let wantedKind: LiveCatalog.RelationKind = view.materialized ? .materializedView : .view
            if relation.kind.isTable {
                createViews.append(
                    MigrationStep(
                        "create \(view.materialized ? "materialized view" : "view") \(view.qualifiedName)", [], safety: .blocked,
                        reason: "a table named \(view.qualifiedName) is in the way", at: view.location))
            } else if relation.kind != wantedKind {
                rebuild[view.qualifiedName] = view.materialized ? "it becomes a materialized view" : "it stops being a materialized view"
            } else if probe.viewDefinitions[view.qualifiedName] != relation.definition {
                rebuild[view.qualifiedName] = "its definition changed"
            } else if let grown = live.reads[view.qualifiedName]?.intersection(tablesGainingColumns).sorted().first,
                RelationReferences.selectsStar(view.sql)
            {
                // PostgreSQL expands `*` when a view is created: it sees new columns only once rebuilt.
                rebuild[view.qualifiedName] = "it selects * from \(grown), which gains columns"
            }
        }
        // Views Sluice made that the spec dropped.
        var dropped: [String: String] = [:]
        for object in live.managed where (object.kind == "view" || object.kind == "materialized view") && desired.view(object.name) == nil {
            if live.relations[object.name] != nil { dropped[object.name] = "no longer in the spec" }
        }
        // Whatever reads a rebuilt view, a dropped one, or a table whose columns change must go first and come back after.
        var changed = Set(rebuild.keys).union(dropped.keys).union(alteredTables)
        var grew = true
        while grew {
            grew = false
            for (view, reads) in live.reads where !changed.contains(view) && !reads.isDisjoint(with: changed) {
                changed.insert(view)
                grew = true
                if desired.view(view) != nil {
                    rebuild[view] = rebuild[view] ?? "it reads \(reads.intersection(changed).sorted().joined(separator: ", ")), which changes"
                } else if !dropped.keys.contains(view) {
                    createViews.append(
                        MigrationStep(
                            "rebuild what reads \(reads.intersection(changed).sorted().joined(separator: ", "))", [], safety: .blocked,
                            reason: "view \(view) is not in the spec and reads something this migration changes; add it to the spec or drop it"))
                }
            }
        }
        // Drop dependents before what they read: reverse dependency order of the live views.
        let dropOrder = Self.liveDropOrder(Set(rebuild.keys).union(dropped.keys), reads: live.reads)
        for view in dropOrder {
            let materialized = live.relations[view]?.kind == .materializedView
            if let reason = dropped[view] {
                dropViews.append(
                    MigrationStep(
                        "drop \(materialized ? "materialized view" : "view") \(view) (\(reason))", [DDL.dropView(view, materialized: materialized)]))
            } else {
                dropViews.append(
                    MigrationStep(
                        "drop \(materialized ? "materialized view" : "view") \(view) to rebuild it: \(rebuild[view]!)",
                        [DDL.dropView(view, materialized: materialized)]))
            }
            recreated.insert(view)
        }
        for view in desired.views where live.relations[view.qualifiedName] == nil || rebuild[view.qualifiedName] != nil {
            let verb = live.relations[view.qualifiedName] == nil ? "create" : "rebuild"
            createViews.append(
                MigrationStep("\(verb) \(view.materialized ? "materialized view" : "view") \(view.qualifiedName)", DDL.createView(view)))
            recreated.insert(view.qualifiedName)
        }
    }

    /// Live views in an order where each comes before anything it reads.
    static func liveDropOrder(_ views: Set<String>, reads: [String: Set<String>]) -> [String] {
        var remaining = views.sorted(), ordered: [String] = []
        while !remaining.isEmpty {
            // Next: a view no other remaining view reads.
            let index = remaining.firstIndex { candidate in !remaining.contains { reads[$0]?.contains(candidate) ?? false } } ?? 0
            ordered.append(remaining.remove(at: index))
        }
        return ordered
    }

    // MARK: - Indexes

    private mutating func compareIndexes() {
        var wanted: [String: (index: Index, table: String, schema: String, create: String)] = [:]
        for table in desired.tables {
            for index in table.indexes {
                wanted["\(table.schema).\(DDL.indexName(index))"] = (index, table.qualifiedName, table.schema, DDL.createIndex(index, on: table))
            }
        }
        for view in desired.views {
            guard let key = DDL.materializedViewKey(view) else { continue }
            let create = DDL.createView(view).last!
            wanted["\(view.schema).\(key.name)"] = (key, view.qualifiedName, view.schema, create)
        }
        for (name, item) in wanted.sorted(by: { $0.key < $1.key }) {
            let onView = desired.view(item.table) != nil
            if live.relations[item.table] == nil {
                // A new table gets its indexes here; a new view creates its key itself.
                if !onView { createIndexes.append(MigrationStep("create index \(name)", [item.create])) }
                continue
            }
            if onView, recreated.contains(item.table) { continue }
            guard let current = live.indexes[name] else {
                createIndexes.append(MigrationStep("create index \(name)", [item.create]))
                continue
            }
            let predicate = item.index.whereClause.map { probe.predicates[item.table]?[DDL.indexName(item.index)] ?? $0 }
            if current.table != item.table || current.unique != item.index.unique || current.method != item.index.method
                || current.columns != item.index.columns || current.predicate != predicate
            {
                dropIndexes.append(MigrationStep("drop index \(name) (definition changed)", ["DROP INDEX \(SQL.qualified(name));"]))
                createIndexes.append(MigrationStep("re-create index \(name)", [item.create]))
            }
        }
        for (name, current) in live.indexes.sorted(by: { $0.key < $1.key }) where wanted[name] == nil && !current.backsConstraint {
            guard !recreated.contains(current.table), !droppedTables.contains(current.table) else { continue }
            if isManaged("index", name) {
                dropIndexes.append(MigrationStep("drop index \(name) (no longer in the spec)", ["DROP INDEX \(SQL.qualified(name));"]))
            } else {
                drift.append(
                    DriftItem(kind: "index", name: name, detail: "on \(current.table) (\(current.columns.joined(separator: ", "))), not in the spec"))
            }
        }
    }

    // MARK: - Functions and privileges

    private mutating func compareFunctions() {
        for function in desired.functions {
            guard let current = live.functions[function.signature] else {
                functions.append(MigrationStep("create function \(function.signature)", DDL.createFunction(function)))
                recreated.insert(function.signature)
                continue
            }
            if current.body.trimmingCharacters(in: .whitespacesAndNewlines) != function.body.trimmingCharacters(in: .whitespacesAndNewlines)
                || current.securityDefiner != function.securityDefiner || current.settings != function.settings
            {
                functions.append(
                    MigrationStep("replace function \(function.signature)", Array(DDL.createFunction(function, replacing: true).prefix(1))))
            }
        }
        for (signature, _) in live.functions.sorted(by: { $0.key < $1.key }) where !desired.functions.contains(where: { $0.signature == signature }) {
            if isManaged("function", signature) {
                functions.append(MigrationStep("drop function \(signature) (no longer used)", ["DROP ROUTINE \(signature);"]))
            } else {
                drift.append(DriftItem(kind: "function", name: signature, detail: "not created by Sluice"))
            }
        }
    }

    private mutating func comparePrivileges() {
        let wanted = Set(desired.privileges)
        let desiredObjects = Set(
            desired.schemas + desired.tables.map(\.qualifiedName) + desired.views.map(\.qualifiedName) + desired.functions.map(\.signature))
        let knownRoles = Set(desired.roles.map(\.name)).union(live.managed.filter { $0.kind == "role" }.map(\.name))
        // Objects this plan creates or re-creates have no grants yet, whatever the catalog says now.
        let current = live.privileges.filter { !recreated.contains($0.object) }
        let missing = wanted.subtracting(current).sorted()
        var unwanted: [Privilege] = []
        for privilege in current.subtracting(wanted).sorted() where desiredObjects.contains(privilege.object) {
            if knownRoles.contains(privilege.role) || (privilege.role == "PUBLIC" && privilege.kind == .function) {
                unwanted.append(privilege)
            } else {
                drift.append(
                    DriftItem(
                        kind: "privilege", name: "\(privilege.privilege) on \(privilege.object)",
                        detail: "held by \(privilege.role), which the spec does not grant"))
            }
        }
        for group in DDL.grouped(missing) {
            privileges.append(
                MigrationStep("grant \(group.privileges.joined(separator: ", ")) on \(group.objectLabel) to \(group.role)", [DDL.grant(group)]))
        }
        for group in DDL.grouped(unwanted) {
            privileges.append(
                MigrationStep("revoke \(group.privileges.joined(separator: ", ")) on \(group.objectLabel) from \(group.role)", [DDL.revoke(group)]))
        }
    }

    private mutating func reportUnknownRelations() {
        for (name, relation) in live.relations.sorted(by: { $0.key < $1.key }) {
            guard desired.table(name) == nil, desired.view(name) == nil else { continue }
            let kind = relation.kind.noun
            if !isManaged(kind, name) { drift.append(DriftItem(kind: kind, name: name, detail: "not in the spec and not created by Sluice")) }
        }
    }

    private func finish() -> MigrationPlan {
        var steps =
            dropViews + dropIndexes + dropForeignKeys + dropConstraints + createRoles + createSchemas + createTables + alterColumns + dropTables
            + addConstraints + addForeignKeys + createIndexes + createViews + functions + comments + privileges + dropSchemas
        // Objects the spec describes that someone created before Sluice did: from now on they are Sluice's,
        // so removing one from the spec drops it instead of leaving it as drift.
        let adopted = Set(desired.managedObjects).subtracting(live.managed)
        if steps.isEmpty, !adopted.isEmpty, live.relations["\(ControlSchema.name).managed_objects"] != nil {
            steps.append(
                MigrationStep(
                    "adopt \(adopted.count) object(s) that match the spec but Sluice did not create: "
                        + adopted.sorted().prefix(3).map { "\($0.kind) \($0.name)" }.joined(separator: ", ")
                        + (adopted.count > 3 ? ", …" : ""), []))
        }
        var bookkeeping = desired.bookkeeping(
            source: "sluice apply \(SluiceVersion.current)", statementCount: steps.reduce(0) { $0 + $1.statements.count })
        if !keptSchemas.isEmpty {
            bookkeeping.append(
                "INSERT INTO sluice.managed_objects (kind, name) VALUES "
                    + keptSchemas.map { "('schema', \(SQL.literal($0)))" }.joined(separator: ", ") + ";")
        }
        return MigrationPlan(
            database: desired.database, steps: steps, drift: drift.sorted { ($0.kind, $0.name) < ($1.kind, $1.name) }, notes: notes,
            bookkeeping: bookkeeping)
    }
}
