import Foundation
import LiveWarehouse
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

/// Random edits of the reference warehouses, migrated forwards and back on a real server, empty or
/// holding rows: every migration completes, keeps every row, plans nothing the second time, and
/// leaves the catalog exactly as a fresh database built from the edited spec's schema.sql (column
/// order aside: PostgreSQL cannot move a column). The edits are what teams make every month: columns, defaults, widened types, NOT
/// NULL, checks, indexes, tables with foreign keys, views over `*` and over named columns.
@Suite("migration property", .serialized)
struct MigrationPropertyTests {
    /// 4 reference warehouses x 25 sequences x 3 migrations: 300 migrations, each checked twice,
    /// half of them on a database holding rows.
    static let sequencesPerSpec = 25

    /// The seeded generator, with the two draws the edits need.
    struct Random {
        var generator: SplitMix64
        init(state: UInt64) { generator = SplitMix64(state: state) }
        mutating func below(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &generator) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static func type(_ text: String) -> PostgresType { PostgresType(parsing: text)! }

    /// One random edit of `warehouse`, described for the failure message.
    static func edit(_ warehouse: inout Warehouse, number: Int, random: inout Random) -> String {
        let schema = warehouse.schemas.first { $0 != "sluice" } ?? "public"
        let index = random.below(warehouse.tables.count)
        let table = warehouse.tables[index]
        let name = "p\(number)"
        // Columns every edit may use: json has no equality, so no index and no GROUP BY.
        let usable = table.columns.filter { $0.type.base != .json }
        func addNullableColumn() -> String {
            warehouse.tables[index].columns.append(Column(name: name, type: type("text")))
            return "add nullable column \(table.qualifiedName).\(name)"
        }
        switch random.below(10) {
        case 0:
            return addNullableColumn()
        case 1:
            warehouse.tables[index].columns.append(Column(name: name, type: type("integer"), notNull: true, defaultExpression: "0"))
            warehouse.tables[index].checks.append(CheckConstraint(name: "\(table.name)_\(name)_check", expression: "\(name) >= 0"))
            return "add NOT NULL column \(table.qualifiedName).\(name) with a default and a check"
        case 2:
            guard let column = table.columns.firstIndex(where: { $0.type.base == .varchar && !$0.type.modifiers.isEmpty }) else {
                return addNullableColumn()
            }
            warehouse.tables[index].columns[column].type.modifiers[0] += 10
            return "widen \(table.qualifiedName).\(table.columns[column].name)"
        case 3:
            guard
                let column = table.columns.firstIndex(where: {
                    $0.type.base == .text && $0.defaultExpression == nil && !table.primaryKey.contains($0.name)
                })
            else { return addNullableColumn() }
            warehouse.tables[index].columns[column].defaultExpression = "'unknown'"
            return "set a default on \(table.qualifiedName).\(table.columns[column].name)"
        case 4:
            guard !usable.isEmpty else { return addNullableColumn() }
            let column = random.pick(usable).name
            warehouse.tables[index].indexes.append(Index(name: "\(table.name)_\(name)_idx", columns: [column]))
            return "index \(table.qualifiedName)(\(column))"
        case 5:
            guard table.primaryKey.count == 1, let key = table.columns.first(where: { $0.name == table.primaryKey[0] }) else {
                return addNullableColumn()
            }
            var referenced = key.type
            if referenced.hasImplicitDefault { referenced = type(referenced.base == .bigserial ? "bigint" : "integer") }
            warehouse.tables.append(
                Table(
                    schema: schema, name: "\(name)_notes",
                    columns: [
                        Column(name: "id", type: type("bigint"), notNull: true, identity: true),
                        Column(name: "ref", type: referenced, notNull: true),
                        Column(name: "note", type: type("text")),
                    ], primaryKey: ["id"],
                    foreignKeys: [ForeignKey(columns: ["ref"], referencedTable: table.qualifiedName, referencedColumns: [key.name])],
                    indexes: [Index(name: "\(name)_notes_ref_idx", columns: ["ref"])]))
            return "add table \(schema).\(name)_notes referencing \(table.qualifiedName)"
        case 6:
            warehouse.views.append(View(schema: schema, name: "\(name)_all", sql: "SELECT t.* FROM \(table.qualifiedName) t"))
            return "add view \(schema).\(name)_all over \(table.qualifiedName).*"
        case 7 where warehouse.views.contains { $0.sql.hasPrefix("SELECT t.* FROM ") }:
            // A column for a table a `*` view reads: the view must be rebuilt to see it.
            let view = random.pick(warehouse.views.filter { $0.sql.hasPrefix("SELECT t.* FROM ") })
            let target = String(view.sql.dropFirst("SELECT t.* FROM ".count).dropLast(2))
            guard let read = warehouse.tables.firstIndex(where: { $0.qualifiedName == target }) else { return addNullableColumn() }
            warehouse.tables[read].columns.append(Column(name: "\(name)_extra", type: type("boolean")))
            return "add column \(target).\(name)_extra, which \(view.qualifiedName) selects with *"
        case 7:
            guard !usable.isEmpty else { return addNullableColumn() }
            let column = random.pick(usable).name
            warehouse.views.append(
                View(
                    schema: schema, name: "\(name)_counts", sql: "SELECT \(column), count(*) AS n FROM \(table.qualifiedName) GROUP BY 1",
                    materialized: random.below(2) == 0, uniqueKey: [column]))
            return "add view \(schema).\(name)_counts by \(table.qualifiedName).\(column)"
        default:
            guard let column = table.columns.firstIndex(where: { !$0.notNull && $0.defaultExpression != nil }) else {
                warehouse.tables[index].description = "edited \(name)"
                return "comment on \(table.qualifiedName)"
            }
            warehouse.tables[index].columns[column].notNull = true
            return "set NOT NULL on \(table.qualifiedName).\(table.columns[column].name)"
        }
    }

    /// The catalog of the warehouse's schemas as sorted lines: columns by name (not position),
    /// constraints, indexes, view definitions, comments and privileges.
    static func snapshot(_ connection: Connection, schemas: [String]) throws -> [String] {
        try connection.query(
            """
            SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || ' notnull=' || a.attnotnull::text || ' identity=' || a.attidentity::text || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
                   || ' comment=' || coalesce(col_description(c.oid, a.attnum), '')
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
                   || ' acl=' || coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(c.relacl) x), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')
            UNION ALL
            SELECT 'constraint ' || n.nspname || '.' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[])
            UNION ALL
            SELECT 'index ' || pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[])
            UNION ALL
            SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('v', 'm')
            ORDER BY 1
            """, [PostgresArray.text(schemas)]
        ).rows.map { $0[0] ?? "" }
    }

    /// A literal of `type` for row `row` (1, 2, 3): distinct per row, so keys stay unique; a
    /// string value is the first literal a check on the column allows, where one names some.
    static func literal(_ type: PostgresType, row: Int, allowed: String?) -> String {
        if type.isArray { return "'{}'" }
        switch type.base {
        case .smallint, .integer, .bigint, .numeric, .real, .doublePrecision, .smallserial, .serial, .bigserial: return "\(row)"
        case .boolean: return row % 2 == 0 ? "false" : "true"
        case .text, .varchar, .char:
            let text = allowed ?? "v\(row)"
            return "'" + String(text.prefix(type.modifiers.first ?? text.count)) + "'"
        case .uuid: return "'00000000-0000-4000-8000-\(String(repeating: "0", count: 11))\(row)'"
        case .date: return "'2026-11-0\(row)'"
        case .time: return "'10:00:0\(row)'"
        case .timestamp, .timestamptz: return "'2026-11-20 10:00:0\(row)'"
        case .interval: return "'\(row) hours'"
        case .json, .jsonb: return "'{\"row\": \(row)}'"
        case .bytea: return "'\\x0\(row)'"
        case .inet: return "'10.0.0.\(row)'"
        case .cidr: return "'10.0.\(row).0/24'"
        }
    }

    /// Three rows in every table of `warehouse`, parents before children (a child's foreign key
    /// takes its parent's row of the same number); every column is given a value. Returns the
    /// row count of each table.
    static func fill(_ warehouse: Warehouse, on connection: Connection) throws -> [String: Int] {
        var filled: [String: Int] = [:]
        var failures: [String: String] = [:]
        // A table waits for the tables it references; a pass fills those whose parents are filled.
        for _ in 0..<warehouse.tables.count {
            for table in warehouse.tables where filled[table.qualifiedName] == nil {
                let parents = table.foreignKeys.map(\.referencedTable).filter { $0 != table.qualifiedName }
                guard parents.allSatisfy({ filled[$0] != nil }) else { continue }
                let given = table.columns.filter { !$0.identity && !$0.type.hasImplicitDefault }
                do {
                    for row in 1...3 {
                        let values = given.map { column -> String in
                            if let key = table.foreignKeys.first(where: { $0.columns.contains(column.name) }),
                                let position = key.columns.firstIndex(of: column.name)
                            {
                                let ordering = key.referencedColumns.joined(separator: ", ")
                                return
                                    "(SELECT \(key.referencedColumns[position]) FROM \(key.referencedTable) ORDER BY \(ordering) OFFSET \(row - 1) LIMIT 1)"
                            }
                            let allowed = table.checks.first { $0.expression.contains(column.name) && $0.expression.contains(" IN (") }
                                .flatMap { check in check.expression.split(separator: "'").dropFirst().first.map(String.init) }
                            return literal(column.type, row: row, allowed: allowed)
                        }
                        try connection.execute(
                            "INSERT INTO \(table.qualifiedName) (\(given.map(\.name).joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
                        )
                    }
                    filled[table.qualifiedName] = 3
                } catch {
                    failures[table.qualifiedName] = "\(error)"
                    filled[table.qualifiedName] = 0
                }
            }
        }
        #expect(failures.isEmpty, "rows could not be written: \(failures)")
        #expect(filled.count == warehouse.tables.count && filled.values.allSatisfy { $0 == 3 }, "\(filled)")
        return filled
    }

    static func rowCounts(_ warehouse: Warehouse, on connection: Connection) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in warehouse.tables {
            counts[table.qualifiedName] = Int(try connection.query("SELECT count(*) FROM \(table.qualifiedName)").scalar ?? "") ?? -1
        }
        return counts
    }

    /// A fresh database built from `spec`'s schema.sql.
    static func fromSchemaScript(_ spec: Spec) throws -> Connection {
        let connection = try Connection(try TestServer.freshDatabase("property"))
        try connection.execute(try #require(SchemaScript.render(spec: spec)))
        return connection
    }

    static func migrate(_ spec: Spec, on connection: Connection, _ label: String) throws {
        let migrator = Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines))
        try migrator.apply(on: connection, allowDestructive: true)
        let again = try migrator.plan(on: connection)
        #expect(again.steps.map(\.summary) == [], "\(label): a second plan must be empty")
        let fresh = try fromSchemaScript(spec)
        let schemas = DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines).schemas
        let migrated = try snapshot(connection, schemas: schemas), built = try snapshot(fresh, schemas: schemas)
        let onlyMigrated = migrated.filter { !built.contains($0) }, onlyBuilt = built.filter { !migrated.contains($0) }
        #expect(onlyMigrated.isEmpty && onlyBuilt.isEmpty, "\(label): migrated has \(onlyMigrated), schema.sql has \(onlyBuilt)")
    }

    @Test(arguments: SchemaScriptTests.specsWithWarehouse)
    func randomEditsMigrateForwardsAndBackToWhatSchemaSQLBuilds(_ name: String) throws {
        let base = try SchemaScriptTests.load(name)
        var random = Random(state: UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) }))
        // Each sequence: the base, edited once, edited again on top, and back to the base.
        for sequence in 0..<Self.sequencesPerSpec {
            var stages = [base]
            var labels: [String] = []
            var warehouse = base.warehouse!
            for stage in 0..<2 {
                let edits = (0..<(1 + random.below(3))).map { Self.edit(&warehouse, number: sequence * 100 + stage * 10 + $0, random: &random) }
                var edited = base
                edited.warehouse = warehouse
                stages.append(edited)
                labels.append(edits.joined(separator: "; "))
            }
            stages.append(base)
            let label = "\(name) sequence \(sequence): [\(labels.joined(separator: "] then ["))] then back"
            let connection = try Connection(try TestServer.freshDatabase("property"))
            try Migrator(DesiredSchema(warehouse: base.warehouse!, pipelines: base.pipelines)).apply(on: connection)
            // Every other sequence runs on a database holding rows: each migration keeps them all.
            let rows = sequence % 2 == 1 ? try Self.fill(base.warehouse!, on: connection) : [:]
            do {
                for (step, spec) in stages.enumerated().dropFirst() {
                    try Self.migrate(spec, on: connection, label + " (migration \(step))")
                    if !rows.isEmpty {
                        let now = try Self.rowCounts(base.warehouse!, on: connection)
                        #expect(now == rows, "\(label) (migration \(step)): rows before \(rows), after \(now)")
                    }
                }
            } catch {
                Issue.record("\(label): \(error)")
            }
        }
    }
}
