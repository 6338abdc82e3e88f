import PostgresClient
import SluiceCore
import WarehouseDDL

/// PostgreSQL rewrites what it is given (`'x'` becomes `'x'::text`, `a BETWEEN 0 AND 23` becomes
/// `((a >= 0) AND (a <= 23))`, view queries are re-printed), so the spec's text cannot be compared
/// with the catalog's. The probe lets the server normalise the spec's side: it creates each desired
/// table and view as a temporary object, reads back PostgreSQL's text, and rolls everything back.
struct Probe {
    /// Table → column → format_type.
    var columnTypes: [String: [String: String]] = [:]
    /// Table → column → normalised default; a missing entry means the probe could not create it.
    var defaults: [String: [String: String]] = [:]
    /// Table → check name → pg_get_constraintdef.
    var checks: [String: [String: String]] = [:]
    /// Table → index name → normalised predicate.
    var predicates: [String: [String: String]] = [:]
    /// View → pg_get_viewdef; missing when the query cannot be created against today's database.
    var viewDefinitions: [String: String] = [:]

    /// Runs inside the caller's transaction and leaves nothing behind.
    static func run(_ schema: DesiredSchema, existingTables: Set<String>, existingViews: Set<String>, on connection: Connection) throws -> Probe {
        var probe = Probe()
        try connection.query("SAVEPOINT sluice_probe")
        defer {
            _ = try? connection.query("ROLLBACK TO SAVEPOINT sluice_probe")
            _ = try? connection.query("RELEASE SAVEPOINT sluice_probe")
            _ = try? connection.query("SET LOCAL search_path = pg_catalog")
        }
        try connection.query("SET LOCAL search_path = \(schema.searchPath)")
        var tableProbes: [(table: Table, name: String)] = []
        for (number, table) in schema.tables.enumerated() where existingTables.contains(table.qualifiedName) {
            let name = "sluice_probe_\(number)"
            let columns = table.columns.map { column -> String in
                // A serial's default names its own sequence; compare the type it stands for instead.
                let type = TypeChange.stored(column.type)
                return "\(SQL.identifier(column.name)) \(type)\(column.identity ? " GENERATED ALWAYS AS IDENTITY" : "")"
            }
            try connection.query("CREATE TEMP TABLE \(name) (\(columns.joined(separator: ", ")))")
            tableProbes.append((table, name))
            for column in table.columns {
                guard let value = column.defaultExpression else { continue }
                try attempt(connection) {
                    try connection.query("ALTER TABLE pg_temp.\(name) ALTER COLUMN \(SQL.identifier(column.name)) SET DEFAULT \(value)")
                }
            }
            for check in table.checks {
                try attempt(connection) {
                    try connection.query(
                        "ALTER TABLE pg_temp.\(name) ADD CONSTRAINT \(SQL.identifier(SQL.fitted(check.name))) CHECK (\(check.expression))")
                }
            }
            for (offset, index) in table.indexes.enumerated() {
                guard let predicate = index.whereClause else { continue }
                try attempt(connection) {
                    try connection.query("CREATE INDEX \(name)_\(offset) ON pg_temp.\(name) (\(SQL.list(index.columns))) WHERE \(predicate)")
                }
            }
        }
        var viewProbes: [(view: View, name: String)] = []
        for (number, view) in schema.views.enumerated() where existingViews.contains(view.qualifiedName) {
            let name = "sluice_probe_view_\(number)"
            let created = try attempt(connection) {
                try connection.query("CREATE TEMP VIEW \(name) AS \(DDL.viewQuery(view))")
            }
            if created { viewProbes.append((view, name)) }
        }
        // Read back with only pg_catalog on the path, as LiveCatalog reads, so relations print qualified.
        try connection.query("SET LOCAL search_path = pg_catalog")
        for (table, name) in tableProbes {
            let key = table.qualifiedName
            for row in try connection.query(
                """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid)
                FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
                """, ["pg_temp.\(name)"]
            ).rows {
                probe.columnTypes[key, default: [:]][row[0]!] = row[1]!
                if let value = row[2] { probe.defaults[key, default: [:]][row[0]!] = value }
            }
            for row in try connection.query(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'",
                ["pg_temp.\(name)"]
            ).rows {
                probe.checks[key, default: [:]][row[0]!] = row[1]!
            }
            for (offset, index) in table.indexes.enumerated() where index.whereClause != nil {
                if let predicate = try connection.query(
                    "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = to_regclass($1)",
                    ["pg_temp.\(name)_\(offset)"]
                ).scalar {
                    probe.predicates[key, default: [:]][DDL.indexName(index)] = predicate
                }
            }
        }
        for (view, name) in viewProbes {
            if let definition = try connection.query("SELECT pg_get_viewdef($1::regclass)", ["pg_temp.\(name)"]).scalar {
                probe.viewDefinitions[view.qualifiedName] = definition
            }
        }
        return probe
    }

    /// Runs one statement that may fail (a default naming a function that does not exist yet)
    /// without aborting the transaction. Returns whether it worked.
    @discardableResult
    private static func attempt(_ connection: Connection, _ body: () throws -> Void) throws -> Bool {
        try connection.query("SAVEPOINT sluice_attempt")
        do {
            try body()
            try connection.query("RELEASE SAVEPOINT sluice_attempt")
            return true
        } catch let error as PostgresError where !error.isConnectionFailure {
            try connection.query("ROLLBACK TO SAVEPOINT sluice_attempt")
            try connection.query("RELEASE SAVEPOINT sluice_attempt")
            return false
        }
    }
}
