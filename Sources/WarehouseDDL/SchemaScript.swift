import SluiceCore

/// A row of `sluice.managed_objects`.
public struct ManagedObject: Hashable, Comparable, Sendable {
    public var kind: String
    public var name: String
    public init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }
    public static func < (a: Self, b: Self) -> Bool { (a.kind, a.name) < (b.kind, b.name) }
}

extension DesiredSchema {
    /// Every object this schema makes Sluice responsible for.
    public var managedObjects: [ManagedObject] {
        var objects = schemas.map { ManagedObject(kind: "schema", name: $0) }
        for table in tables {
            objects.append(ManagedObject(kind: "table", name: table.qualifiedName))
            objects += table.columns.map { ManagedObject(kind: "column", name: "\(table.qualifiedName).\($0.name)") }
            objects += DDL.constraints(of: table).map { ManagedObject(kind: "constraint", name: "\(table.qualifiedName).\($0.name)") }
            objects += table.indexes.map { ManagedObject(kind: "index", name: "\(table.schema).\(DDL.indexName($0))") }
        }
        for view in views {
            objects.append(ManagedObject(kind: view.materialized ? "materialized view" : "view", name: view.qualifiedName))
            if let key = DDL.materializedViewKey(view) { objects.append(ManagedObject(kind: "index", name: "\(view.schema).\(key.name)")) }
        }
        objects += roles.map { ManagedObject(kind: "role", name: $0.name) }
        objects += functions.map { ManagedObject(kind: "function", name: $0.signature) }
        return objects.sorted()
    }

    /// The statements that create everything on an empty database, grouped under headings.
    public var creationSections: [(heading: String, statements: [String])] {
        let deferred = deferredForeignKeys
        var sections: [(String, [String])] = []
        sections.append(("Roles belong to the whole cluster: one that exists already is left as it is", roles.map(DDL.createRole)))
        sections.append(("Schemas", schemas.map(DDL.createSchema)))
        var tableStatements: [String] = []
        for table in tables {
            tableStatements.append(
                DDL.createTable(table, deferring: deferred.filter { $0.table.qualifiedName == table.qualifiedName }.map(\.foreignKey)))
            if let description = table.description { tableStatements.append(DDL.commentOnTable(table.qualifiedName, description)) }
            for column in table.columns {
                if let description = column.description {
                    tableStatements.append(DDL.commentOnColumn(table.qualifiedName, column.name, description))
                }
            }
        }
        sections.append(("Tables, each after the tables it references", tableStatements))
        let cycleClosers = deferred.compactMap { item in
            DDL.constraints(of: item.table).first { $0.foreignKey == item.foreignKey }.map { DDL.addConstraint($0, to: item.table) }
        }
        sections.append(("Foreign keys that close a reference cycle", cycleClosers))
        sections.append(("Indexes", tables.flatMap { table in table.indexes.map { DDL.createIndex($0, on: table) } }))
        sections.append(("Views and materialized views, each after what it reads", views.flatMap(DDL.createView)))
        sections.append(("Functions", functions.flatMap { DDL.createFunction($0) }))
        sections.append(
            (
                "Privileges: exactly what the spec grants, and what each pipeline's writer needs of the sluice schema",
                DDL.grants(privileges)
            ))
        return sections.filter { !$0.1.isEmpty }
    }

    /// A fingerprint of the DDL (FNV-1a 64): equal digests mean the same desired schema.
    public var digest: String {
        var hash = FNV1a()
        for statement in creationSections.flatMap(\.statements) { hash.add(statement) }
        let hex = hash.hex
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The statements that record what a migration made Sluice responsible for.
    public func bookkeeping(source: String, statementCount: Int) -> [String] {
        let rows = managedObjects.map { "    (\(SQL.literal($0.kind)), \(SQL.literal($0.name)))" }.joined(separator: ",\n")
        return [
            "DELETE FROM sluice.managed_objects;",
            "INSERT INTO sluice.managed_objects (kind, name) VALUES\n\(rows);",
            "INSERT INTO sluice.schema_version (schema_digest, source, statements) VALUES (\(SQL.literal(digest)), \(SQL.literal(source)), \(statementCount));",
        ]
    }
}

/// `generated/<spec>/schema.sql`: the whole warehouse on an empty database, in one transaction.
public enum SchemaScript {
    public static func render(spec: Spec) -> String? {
        guard let warehouse = spec.warehouse else { return nil }
        let schema = DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines)
        let sections = schema.creationSections
        let count = sections.reduce(0) { $0 + $1.statements.count }
        var text = """
            -- Generated by Sluice from the \(spec.sourceName) spec. Do not edit: change the spec and run `sluice plan`.
            -- Warehouse \(warehouse.name), database \(warehouse.database). Creates every object on an empty database:
            --   psql -v ON_ERROR_STOP=1 -d \(warehouse.database) -f schema.sql
            -- A database that already has tables is migrated with `sluice apply`, which reads its catalog first.

            BEGIN;

            -- View queries and defaults resolve in the spec's schemas first, as they do under `sluice apply`.
            SET LOCAL search_path = \(schema.searchPath);

            """
        for section in sections {
            text += "\n-- \(section.heading)\n\n"
            text += section.statements.joined(separator: "\n\n") + "\n"
        }
        text += "\n-- What this script made Sluice responsible for; `sluice apply` reports anything else as drift\n\n"
        text += schema.bookkeeping(source: "schema.sql", statementCount: count).dropFirst().joined(separator: "\n\n") + "\n"
        text += "\nCOMMIT;\n"
        return text
    }
}
