import Foundation
import SluiceCore
import YAML

extension SpecDecoder {
    func decodeWarehouse(_ node: YAMLNode, compute: Compute) -> Warehouse? {
        guard
            let r = MapReader(node, SpecSchema.warehouse, sink: sink)
        else { return nil }
        let name = r.has("name") ? self.name(r, kind: "warehouse")?.value : "warehouse"
        let engineWord = r.word("engine", required: true)
        var engine: WarehouseEngine?
        let explicitSubnets = r.strings("subnets"), explicitGroups = r.strings("security_groups")
        refer("subnet", explicitSubnets)
        refer("security group", explicitGroups)
        var subnets = explicitSubnets.map(\.value), groups = explicitGroups.map(\.value)
        switch engineWord {
        case "ec2"?:
            if let host = r.string("host", required: true) {
                refer("host", host, at: r.location(of: "host"))
                engine = .ec2(host: host)
                // The database lives where its host lives, unless the spec says otherwise.
                if let h = compute.host(host) {
                    if subnets.isEmpty { subnets = [h.subnet] }
                    if groups.isEmpty { groups = h.securityGroups }
                }
            }
        case "rds"?: engine = .rds(instanceClass: r.string("instance_class") ?? "db.t4g.medium")
        case "aurora"?: engine = .aurora(instanceClass: r.string("instance_class") ?? "db.r6g.large", instances: r.int("instances", in: 1...15) ?? 2)
        default: break
        }
        if engine?.isManaged == true, subnets.isEmpty { sink.add(LoaderDiagnostics.missingKey("subnets", in: "warehouse", at: r.location)) }
        if engine?.isManaged == true, groups.isEmpty { sink.add(LoaderDiagnostics.missingKey("security_groups", in: "warehouse", at: r.location)) }
        let clients = r.strings("clients", required: true)
        refer("security group", clients)
        let secret = r.string("credentials_secret", required: true)
        if let secret { refer("secret", secret, at: r.location(of: "credentials_secret")) }
        let database = r.string("database", required: true)
        if let database, !Self.isIdentifier(database) {
            sink.add(LoaderDiagnostics.invalid("database name '\(database)' must be a lower-case SQL identifier", at: r.location(of: "database")))
        }
        var schemas = r.strings("schemas").map(\.value)
        if schemas.isEmpty { schemas = ["public"] }
        for schema in r.strings("schemas") where !Self.isIdentifier(schema.value) {
            sink.add(LoaderDiagnostics.invalid("schema name '\(schema.value)' must be a lower-case SQL identifier", at: schema.location))
        }
        let tables = r.list("tables").compactMap { decodeTable($0, defaultSchema: schemas[0], schemas: schemas) }
        let views =
            r.list("views").compactMap { decodeView($0, materialized: false, defaultSchema: schemas[0], schemas: schemas) }
            + r.list("materialized_views").compactMap { decodeView($0, materialized: true, defaultSchema: schemas[0], schemas: schemas) }
        let roles = r.list("roles").compactMap(decodeDatabaseRole)
        let routines = r.list("routines").compactMap { decodeRoutine($0, defaultSchema: schemas[0], schemas: schemas) }
        checkForeignKeys(tables)
        guard let name, let engine, let database, let secret else { return nil }
        return Warehouse(
            name: name, engine: engine, subnets: subnets, securityGroups: groups,
            port: r.int("port", in: 1...65535) ?? 5432, database: database, credentialsSecret: secret,
            clients: clients.map(\.value), publiclyAccessible: r.bool("publicly_accessible") ?? false, schemas: schemas,
            tables: tables, views: views, roles: roles, routines: routines, location: r.location)
    }

    private func decodeRoutine(_ node: YAMLNode, defaultSchema: String, schemas: [String]) -> Routine? {
        guard let r = MapReader(node, SpecSchema.routine, sink: sink), let name = r.string("name", required: true) else { return nil }
        guard Self.isIdentifier(name) else {
            sink.add(LoaderDiagnostics.invalid("routine name '\(name)' must be a lower-case SQL identifier", at: r.location(of: "name")))
            return nil
        }
        let schema = self.schema(r, defaultSchema: defaultSchema, schemas: schemas)
        let kind = r.word("kind", as: Routine.Kind.self) ?? .procedure
        var valid = true
        let arguments: [Routine.Argument] = r.list("arguments").compactMap { node in
            guard let a = MapReader(node, SpecSchema.routineArgument, sink: sink), let argument = a.string("name", required: true),
                let typeText = a.string("type", required: true)
            else { return nil }
            guard Self.isIdentifier(argument) else {
                sink.add(LoaderDiagnostics.invalid("argument name '\(argument)' must be a lower-case SQL identifier", at: a.location(of: "name")))
                return nil
            }
            guard let type = PostgresType(parsing: typeText), !type.hasImplicitDefault else {
                sink.add(LoaderDiagnostics.invalid("'\(typeText)' is not a PostgreSQL type an argument can have", at: a.location(of: "type")))
                valid = false
                return nil
            }
            return Routine.Argument(name: argument, type: type)
        }
        // A procedure and a function of the same name and arguments would be one object to PostgreSQL.
        define("routine", "\(schema).\(name)", at: r.location(of: "name"))
        let returns = r.string("returns")
        if kind == .function && returns == nil {
            sink.add(LoaderDiagnostics.missingKey("returns", in: "function", at: r.location))
            valid = false
        }
        if kind == .procedure && returns != nil {
            sink.add(LoaderDiagnostics.invalid("a procedure returns nothing: 'returns' is for functions", at: r.keyLocation(of: "returns")))
            valid = false
        }
        guard let body = r.string("body", required: true), valid else { return nil }
        if body.contains("$function$") {
            sink.add(LoaderDiagnostics.invalid("a routine's body cannot contain '$function$', which quotes it", at: r.location(of: "body")))
            return nil
        }
        return Routine(
            schema: schema, name: name, kind: kind, arguments: arguments, returns: returns,
            language: r.word("language", as: Routine.Language.self) ?? .plpgsql, body: body, location: r.location,
            bodyLocation: r.location(of: "body"))
    }

    /// Lower-case identifiers never need quoting in PostgreSQL and read the same everywhere.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLowercase || first == "_", text.utf8.count <= 63 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    private func schema(_ r: MapReader, defaultSchema: String, schemas: [String]) -> String {
        guard let schema = r.string("schema") else { return defaultSchema }
        if !schemas.contains(schema) {
            sink.add(LoaderDiagnostics.dangling("schema", schema, candidates: schemas, at: r.location(of: "schema")))
        }
        return schema
    }

    private func decodeTable(_ node: YAMLNode, defaultSchema: String, schemas: [String]) -> Table? {
        guard
            let r = MapReader(node, SpecSchema.table, sink: sink)
        else { return nil }
        guard let tableName = r.string("name", required: true) else { return nil }
        guard Self.isIdentifier(tableName) else {
            sink.add(LoaderDiagnostics.invalid("table name '\(tableName)' must be a lower-case SQL identifier", at: r.location(of: "name")))
            return nil
        }
        let schema = self.schema(r, defaultSchema: defaultSchema, schemas: schemas)
        define("table", "\(schema).\(tableName)", at: r.location(of: "name"))
        var columnNames: [String: SourceLocation] = [:]
        var primaryKey = r.strings("primary_key")
        var uniques = r.list("unique").map { Self.strings($0, key: "unique", sink: sink) }
        var foreignKeys: [ForeignKey] = []
        var columns: [Column] = []
        for columnNode in r.list("columns", required: true) {
            guard
                let c = MapReader(columnNode, SpecSchema.column, sink: sink),
                let columnName = c.string("name", required: true)
            else { continue }
            guard Self.isIdentifier(columnName) else {
                sink.add(LoaderDiagnostics.invalid("column name '\(columnName)' must be a lower-case SQL identifier", at: c.location(of: "name")))
                continue
            }
            if let first = columnNames[columnName] {
                sink.add(LoaderDiagnostics.duplicateName("column", columnName, at: c.location(of: "name"), first: first))
                continue
            }
            columnNames[columnName] = c.location(of: "name")
            let typeText = c.string("type", required: true)
            let type = typeText.flatMap { postgresType($0, at: c.location(of: "type")) }
            let isKey = c.bool("primary_key") ?? false
            if isKey { primaryKey.append(Located(value: columnName, location: c.location(of: "primary_key"))) }
            if c.bool("unique") == true { uniques.append([Located(value: columnName, location: c.location(of: "unique"))]) }
            if let reference = c.string("references") {
                // `table.column` or `schema.table.column`
                let parts = reference.split(separator: ".").map(String.init)
                if parts.count == 2 || parts.count == 3 {
                    let table = parts.count == 2 ? "\(schema).\(parts[0])" : "\(parts[0]).\(parts[1])"
                    foreignKeys.append(
                        ForeignKey(
                            columns: [columnName], referencedTable: table, referencedColumns: [parts.last!],
                            location: c.location(of: "references")))
                } else {
                    sink.add(LoaderDiagnostics.invalid("'\(reference)' is not a column reference (table.column)", at: c.location(of: "references")))
                }
            }
            guard let type else { continue }
            let identity = c.bool("identity") ?? false
            if identity, type.category != .integer || type.isArray || type.hasImplicitDefault || c.string("default") != nil {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "an identity column must be smallint, integer or bigint, without a default", at: c.location(of: "identity")))
            }
            columns.append(
                Column(
                    name: columnName, type: type, notNull: (c.bool("not_null") ?? false) || isKey,
                    defaultExpression: c.string("default"), description: c.string("description"), identity: identity,
                    location: c.location))
        }
        for fk in r.list("foreign_keys") {
            guard let f = MapReader(fk, SpecSchema.foreignKey, sink: sink),
                let target = f.value("references", required: true),
                let t = MapReader(target, SpecSchema.foreignKeyTarget, sink: sink),
                let table = t.string("table", required: true)
            else { continue }
            let onDelete = f.word("on_delete", caseInsensitive: true)
            foreignKeys.append(
                ForeignKey(
                    columns: f.strings("columns", required: true).map(\.value),
                    referencedTable: table.contains(".") ? table : "\(schema).\(table)",
                    referencedColumns: t.strings("columns", required: true).map(\.value), onDelete: onDelete,
                    location: f.location))
        }
        let checks: [CheckConstraint] = r.list("checks").compactMap { node in
            guard let c = MapReader(node, SpecSchema.check, sink: sink),
                let name = c.string("name", required: true), let expression = c.string("expression", required: true)
            else { return nil }
            return CheckConstraint(name: name, expression: expression, location: c.location)
        }
        let indexes: [Index] = r.list("indexes").compactMap { node in
            guard let i = MapReader(node, SpecSchema.index, sink: sink) else { return nil }
            let indexColumns = i.strings("columns", required: true)
            for column in indexColumns where columnNames[column.value] == nil {
                sink.add(LoaderDiagnostics.dangling("column", column.value, candidates: Array(columnNames.keys).sorted(), at: column.location))
            }
            let method = i.word("method") ?? "btree"
            let name = i.string("name") ?? ([tableName] + indexColumns.map(\.value) + ["idx"]).joined(separator: "_")
            return Index(
                name: name, columns: indexColumns.map(\.value), unique: i.bool("unique") ?? false, method: method,
                whereClause: i.string("where"), location: i.location)
        }
        for column in primaryKey + uniques.flatMap({ $0 }) where columnNames[column.value] == nil {
            sink.add(LoaderDiagnostics.dangling("column", column.value, candidates: Array(columnNames.keys).sorted(), at: column.location))
        }
        let keyNames = primaryKey.map(\.value)
        let finalColumns = columns.map { column in
            var column = column
            if keyNames.contains(column.name) { column.notNull = true }
            return column
        }
        return Table(
            schema: schema, name: tableName, columns: finalColumns, primaryKey: keyNames, uniques: uniques.map { $0.map(\.value) },
            foreignKeys: foreignKeys, checks: checks, indexes: indexes, description: r.string("description"), location: r.location)
    }

    private func checkForeignKeys(_ tables: [Table]) {
        for table in tables {
            for fk in table.foreignKeys {
                guard let target = tables.first(where: { $0.qualifiedName == fk.referencedTable }) else {
                    sink.add(LoaderDiagnostics.dangling("table", fk.referencedTable, candidates: tables.map(\.qualifiedName), at: fk.location))
                    continue
                }
                for column in fk.referencedColumns where target.column(column) == nil {
                    sink.add(
                        LoaderDiagnostics.dangling(
                            "column", "\(fk.referencedTable).\(column)", candidates: target.columns.map { "\(fk.referencedTable).\($0.name)" },
                            at: fk.location))
                }
                for column in fk.columns where table.column(column) == nil {
                    sink.add(LoaderDiagnostics.dangling("column", column, candidates: table.columns.map(\.name), at: fk.location))
                }
                if fk.columns.count != fk.referencedColumns.count {
                    sink.add(
                        LoaderDiagnostics.invalid(
                            "a foreign key names \(fk.columns.count) column(s) but references \(fk.referencedColumns.count)", at: fk.location))
                } else if target.column(fk.referencedColumns[0]) != nil, !target.hasUniqueKey(fk.referencedColumns) {
                    sink.add(
                        LoaderDiagnostics.invalid(
                            "\(fk.referencedTable)(\(fk.referencedColumns.joined(separator: ", "))) is not a primary key or unique, so PostgreSQL refuses to reference it",
                            at: fk.location))
                }
            }
        }
    }

    private func decodeView(_ node: YAMLNode, materialized: Bool, defaultSchema: String, schemas: [String]) -> View? {
        let kind = materialized ? "materialized view" : "view"
        guard
            let r = MapReader(node, materialized ? SpecSchema.materializedView : SpecSchema.view, context: kind, sink: sink),
            let name = r.string("name", required: true)
        else { return nil }
        guard Self.isIdentifier(name) else {
            sink.add(LoaderDiagnostics.invalid("\(kind) name '\(name)' must be a lower-case SQL identifier", at: r.location(of: "name")))
            return nil
        }
        let schema = self.schema(r, defaultSchema: defaultSchema, schemas: schemas)
        // Views and tables share PostgreSQL's relation namespace.
        define("table", "\(schema).\(name)", at: r.location(of: "name"))
        if materialized { define("materialized view", "\(schema).\(name)", at: r.location(of: "name")) }
        guard let sql = r.string("sql", required: true) else { return nil }
        return View(
            schema: schema, name: name, sql: sql.trimmingCharacters(in: .whitespacesAndNewlines), materialized: materialized,
            uniqueKey: r.strings("unique_key").map(\.value), location: r.location, sqlLocation: r.location(of: "sql"))
    }

    private func decodeDatabaseRole(_ node: YAMLNode) -> DatabaseRole? {
        guard let r = MapReader(node, SpecSchema.databaseRole, sink: sink),
            let name = r.string("name", required: true)
        else { return nil }
        guard Self.isIdentifier(name) else {
            sink.add(LoaderDiagnostics.invalid("role name '\(name)' must be a lower-case SQL identifier", at: r.location(of: "name")))
            return nil
        }
        define("database role", name, at: r.location(of: "name"))
        let grants: [Grant] = r.list("grants").compactMap { node in
            guard let g = MapReader(node, SpecSchema.grant, sink: sink) else { return nil }
            let granted = g.words("privileges", required: true, caseInsensitive: true)
            let on = g.strings("on", required: true)
            for target in on where !target.value.hasPrefix("schema:") {
                refer("table", target.value, at: target.location)
            }
            return Grant(privileges: granted.map { $0.value.uppercased() }, on: on.map(\.value), location: g.location)
        }
        return DatabaseRole(name: name, login: r.bool("login") ?? true, grants: grants, location: r.location)
    }
}
