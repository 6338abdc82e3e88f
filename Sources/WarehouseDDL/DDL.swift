import Foundation
import SluiceCore

/// A table constraint with the name PostgreSQL would give it (`<table>_pkey`, `<table>_<columns>_key`,
/// `<table>_<columns>_fkey`) or the spec's name for a check.
public struct TableConstraint: Hashable, Sendable {
    public enum Kind: String, Sendable { case primaryKey = "p", unique = "u", foreignKey = "f", check = "c" }
    public var kind: Kind
    public var name: String
    /// The text after `CONSTRAINT name`.
    public var definition: String
    public var foreignKey: ForeignKey?
}

/// The DDL statements Sluice writes, one builder per kind of object. Every statement ends in `;`.
public enum DDL {
    public static func createSchema(_ name: String) -> String { "CREATE SCHEMA \(SQL.identifier(name));" }

    public static func columnDefinition(_ column: Column) -> String {
        var text = "\(SQL.identifier(column.name)) \(column.type)"
        if column.identity { text += " GENERATED ALWAYS AS IDENTITY" }
        if column.notNull && !column.identity { text += " NOT NULL" }
        if let value = column.defaultExpression { text += " DEFAULT \(value)" }
        return text
    }

    public static func constraints(of table: Table) -> [TableConstraint] {
        var result: [TableConstraint] = []
        if !table.primaryKey.isEmpty {
            result.append(
                TableConstraint(
                    kind: .primaryKey, name: SQL.fitted("\(table.name)_pkey"),
                    definition: "PRIMARY KEY (\(SQL.list(table.primaryKey)))"))
        }
        for unique in table.uniques {
            result.append(
                TableConstraint(
                    kind: .unique, name: SQL.fitted(([table.name] + unique + ["key"]).joined(separator: "_")),
                    definition: "UNIQUE (\(SQL.list(unique)))"))
        }
        for fk in table.foreignKeys {
            var definition =
                "FOREIGN KEY (\(SQL.list(fk.columns))) REFERENCES \(SQL.qualified(fk.referencedTable)) (\(SQL.list(fk.referencedColumns)))"
            if let onDelete = fk.onDelete, onDelete.lowercased() != "no action" { definition += " ON DELETE \(onDelete.uppercased())" }
            result.append(
                TableConstraint(
                    kind: .foreignKey, name: SQL.fitted(([table.name] + fk.columns + ["fkey"]).joined(separator: "_")),
                    definition: definition, foreignKey: fk))
        }
        for check in table.checks {
            result.append(TableConstraint(kind: .check, name: SQL.fitted(check.name), definition: "CHECK (\(check.expression))"))
        }
        return result
    }

    /// CREATE TABLE with its columns and constraints; foreign keys in `deferred` are left for ALTER TABLE.
    public static func createTable(_ table: Table, deferring deferred: [ForeignKey] = []) -> String {
        let constraints = constraints(of: table).filter { constraint in
            guard let fk = constraint.foreignKey else { return true }
            return !deferred.contains(fk)
        }
        let lines = table.columns.map(columnDefinition) + constraints.map { "CONSTRAINT \(SQL.identifier($0.name)) \($0.definition)" }
        return "CREATE TABLE \(SQL.qualified(table.schema, table.name)) (\n" + lines.map { "    " + $0 }.joined(separator: ",\n") + "\n);"
    }

    public static func addConstraint(_ constraint: TableConstraint, to table: Table) -> String {
        "ALTER TABLE \(SQL.qualified(table.schema, table.name)) ADD CONSTRAINT \(SQL.identifier(constraint.name)) \(constraint.definition);"
    }

    public static func dropConstraint(_ name: String, from table: String) -> String {
        "ALTER TABLE \(SQL.qualified(table)) DROP CONSTRAINT \(SQL.identifier(name));"
    }

    public static func indexName(_ index: Index) -> String { SQL.fitted(index.name) }

    public static func createIndex(_ index: Index, on table: Table) -> String {
        let method = index.method == "btree" ? "" : " USING \(index.method)"
        var text =
            "CREATE \(index.unique ? "UNIQUE " : "")INDEX \(SQL.identifier(indexName(index))) ON \(SQL.qualified(table.schema, table.name))\(method) (\(SQL.list(index.columns)))"
        if let predicate = index.whereClause { text += " WHERE \(predicate)" }
        return text + ";"
    }

    /// The unique index a materialized view needs for REFRESH … CONCURRENTLY.
    public static func materializedViewKey(_ view: View) -> Index? {
        guard view.materialized, !view.uniqueKey.isEmpty else { return nil }
        return Index(name: SQL.fitted("\(view.name)_key"), columns: view.uniqueKey, unique: true)
    }

    public static func createView(_ view: View) -> [String] {
        let body = viewQuery(view)
        guard view.materialized else { return ["CREATE VIEW \(SQL.qualified(view.schema, view.name)) AS\n\(body);"] }
        var statements = ["CREATE MATERIALIZED VIEW \(SQL.qualified(view.schema, view.name)) AS\n\(body)\nWITH DATA;"]
        if let key = materializedViewKey(view) {
            statements.append(
                "CREATE UNIQUE INDEX \(SQL.identifier(key.name)) ON \(SQL.qualified(view.schema, view.name)) (\(SQL.list(key.columns)));")
        }
        return statements
    }

    public static func dropView(_ qualifiedName: String, materialized: Bool) -> String {
        "DROP \(materialized ? "MATERIALIZED VIEW" : "VIEW") \(SQL.qualified(qualifiedName));"
    }

    /// The spec's SELECT without trailing semicolons or blank space.
    public static func viewQuery(_ view: View) -> String {
        var text = view.sql.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(";") { text = String(text.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        return text
    }

    /// Roles belong to the cluster, not the database, so one may exist already (another database made
    /// it, or a concurrent migration did a moment ago): both cases leave the existing role alone.
    public static func createRole(_ role: DatabaseRole) -> String {
        """
        DO $$
        BEGIN
            CREATE ROLE \(SQL.identifier(role.name)) \(role.login ? "LOGIN" : "NOLOGIN");
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            RAISE NOTICE 'role % exists already', \(SQL.literal(role.name));
        END
        $$;
        """
    }

    public static func alterRoleLogin(_ role: DatabaseRole) -> String {
        "ALTER ROLE \(SQL.identifier(role.name)) \(role.login ? "LOGIN" : "NOLOGIN");"
    }

    public static func createFunction(_ function: FunctionDefinition, replacing: Bool = false) -> [String] {
        let head =
            function.isProcedure
            ? "PROCEDURE \(function.qualifiedName)(\(function.arguments))"
            : "FUNCTION \(function.qualifiedName)(\(function.arguments)) RETURNS \(function.returns)"
        return [
            "CREATE \(replacing ? "OR REPLACE " : "")\(head)\n\(function.attributes)\nAS $function$\n\(function.body)\n$function$;",
            // PostgreSQL lets PUBLIC execute a new routine; here only the roles granted it may.
            "REVOKE ALL ON ROUTINE \(function.signature) FROM PUBLIC;",
        ]
    }

    static func target(_ group: PrivilegeGroup) -> String {
        switch group.kind {
        case .schema: return "SCHEMA \(SQL.identifier(group.object))"
        case .table: return "TABLE \(SQL.qualified(group.object))"
        case .function: return "ROUTINE \(group.object)"
        }
    }

    /// The privileges of one role on one object, in a fixed order: what one GRANT or REVOKE covers.
    public struct PrivilegeGroup: Sendable {
        public var role: String
        public var kind: Privilege.ObjectKind
        public var object: String
        public var privileges: [String]

        /// `analytics.t` for a table, `schema analytics` or `function …` otherwise: how plans name it.
        public var objectLabel: String { kind == .table ? object : "\(kind.rawValue) \(object)" }
    }

    public static func grouped(_ privileges: [Privilege]) -> [PrivilegeGroup] {
        let order = ["USAGE", "EXECUTE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
        var groups: [PrivilegeGroup] = []
        for privilege in privileges.sorted() {
            if let last = groups.last, last.role == privilege.role, last.kind == privilege.kind, last.object == privilege.object {
                groups[groups.count - 1].privileges.append(privilege.privilege)
            } else {
                groups.append(PrivilegeGroup(role: privilege.role, kind: privilege.kind, object: privilege.object, privileges: [privilege.privilege]))
            }
        }
        for index in groups.indices {
            groups[index].privileges.sort { (order.firstIndex(of: $0) ?? 99) < (order.firstIndex(of: $1) ?? 99) }
        }
        return groups
    }

    public static func grant(_ group: PrivilegeGroup) -> String {
        "GRANT \(group.privileges.joined(separator: ", ")) ON \(target(group)) TO \(SQL.identifier(group.role));"
    }

    public static func revoke(_ group: PrivilegeGroup) -> String {
        "REVOKE \(group.privileges.joined(separator: ", ")) ON \(target(group)) FROM \(SQL.identifier(group.role));"
    }

    /// One GRANT per role and object.
    public static func grants(_ privileges: [Privilege]) -> [String] { grouped(privileges).map(grant) }

    public static func commentOnTable(_ table: String, _ text: String?) -> String {
        "COMMENT ON TABLE \(SQL.qualified(table)) IS \(text.map(SQL.literal) ?? "NULL");"
    }

    public static func commentOnColumn(_ table: String, _ column: String, _ text: String?) -> String {
        "COMMENT ON COLUMN \(SQL.qualified(table)).\(SQL.identifier(column)) IS \(text.map(SQL.literal) ?? "NULL");"
    }
}
