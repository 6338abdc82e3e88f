import Foundation
import PlanFormat
import SluiceCore
import WarehouseDDL

/// Spec → ETLPlan: the pipelines compiled against the warehouse's tables, with the SQL each batch runs.
public enum PlanCompiler {
    public static func compile(_ spec: Spec) -> ETLPlan? {
        guard !spec.pipelines.isEmpty else { return nil }
        let warehouse = spec.warehouse.map { warehouse in
            ETLPlan.WarehouseTarget(
                database: warehouse.database, port: warehouse.port, credentialsSecret: warehouse.credentialsSecret,
                schemaDigest: DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines).digest)
        }
        return ETLPlan(
            generatedFrom: spec.sourceName, project: spec.project.name,
            warehouse: warehouse, pipelines: spec.pipelines.map { pipeline($0, spec: spec) })
    }

    public static func render(_ spec: Spec) throws -> String? {
        guard let plan = compile(spec) else { return nil }
        return try JSONOutput.text(plan) + "\n"
    }

    static func pipeline(_ pipeline: Pipeline, spec: Spec) -> PipelinePlan {
        let warehouse = spec.warehouse
        let source: PipelinePlan.Source
        switch pipeline.source.kind {
        case .bucket(let name, let template):
            source = .init(
                kind: .s3, bucket: name, bucketName: deployedBucketName(name, spec: spec), prefixTemplate: template,
                staticPrefix: pipeline.source.staticPrefix,
                format: format(pipeline.source.format), compression: compression(pipeline.source.compression), csv: csv(pipeline.source.csv),
                xlsx: xlsx(pipeline.source.xlsx), api: api(pipeline.source.api))
        case .folder(let path):
            source = .init(
                kind: .folder, path: path,
                format: format(pipeline.source.format), compression: compression(pipeline.source.compression), csv: csv(pipeline.source.csv),
                xlsx: xlsx(pipeline.source.xlsx))
        }
        var targets = pipeline.targets.enumerated().compactMap { index, target -> PipelinePlan.Target? in
            guard let table = warehouse?.table(target.table) else { return nil }
            return self.target(target, table: table, index: index)
        }
        let heldRows = warehouse.flatMap { splitAppendsAroundTheTurn(&targets, warehouse: $0) }
        let postLoad: [PipelinePlan.PostLoad] = pipeline.postLoad.map { step in
            switch step {
            case .refreshMaterializedView(let view, _):
                let qualified =
                    warehouse.flatMap { w in w.views.first { $0.qualifiedName == view || ($0.name == view && $0.schema == w.schemas.first) } }?
                    .qualifiedName ?? view
                return .init(
                    kind: .refresh, name: qualified,
                    sql: "SELECT sluice.refresh_materialized_view(\(SQL.literal(SQL.qualified(qualified)))::regclass);")
            case .call(let procedure, _):
                return .init(kind: .call, name: procedure, sql: "CALL \(SQL.qualified(procedure))();")
            }
        }
        return PipelinePlan(
            name: pipeline.name, workload: pipeline.workload, schedule: pipeline.schedule?.expression, source: source,
            fields: pipeline.fields.map {
                .init(
                    path: $0.path, type: fieldType($0.type), required: $0.required, pattern: $0.pattern,
                    allowed: $0.allowed.isEmpty ? nil : $0.allowed, decimal: $0.notation.map { String($0.decimal) },
                    group: $0.notation?.group.map { String($0) }, format: $0.format, timeZone: $0.timeZone)
            },
            derived: pipeline.derived.map { .init(name: $0.name, kind: derivedKind($0.kind), from: $0.from) },
            filters: pipeline.filters.map { filter in
                switch filter.condition {
                case .equals(let value): return .init(name: filter.name, path: filter.path, equals: value)
                case .oneOf(let values): return .init(name: filter.name, path: filter.path, oneOf: values)
                case .matches(let pattern): return .init(name: filter.name, path: filter.path, matches: pattern)
                case .exists: return .init(name: filter.name, path: filter.path, exists: true)
                }
            },
            dedupeKey: pipeline.dedupeKey, targets: targets, staging: staging(targets, heldRows: heldRows),
            quarantine: .init(
                table: "sluice.quarantine", bucket: pipeline.quarantine.bucket,
                bucketName: pipeline.quarantine.bucket.flatMap { deployedBucketName($0, spec: spec) }, prefix: pipeline.quarantine.prefix),
            postLoad: postLoad, lockKey: lockKey(pipeline.name), maxRejected: rejectLimit(pipeline.maxRejected))
    }

    /// The name the template gives a bucket (StorageRenderer), with the spec's account and region.
    static func deployedBucketName(_ bucket: String, spec: Spec) -> String? {
        spec.project.account.map { "\(spec.project.name.lowercased())-\(bucket.lowercased())-\($0)-\(spec.project.region)" }
    }

    static func api(_ source: APISource?) -> PipelinePlan.API? {
        guard let source else { return nil }
        var api = PipelinePlan.API(url: source.url, records: source.records, pagination: .none)
        switch source.pagination {
        case .none: api.pagination = .none
        case .link: api.pagination = .link
        case .cursor(let param, let from):
            api.pagination = .cursor
            (api.cursorParam, api.cursorFrom) = (param, from)
        case .page(let param, let first, let sizeParameter, let size):
            api.pagination = .page
            (api.pageParam, api.firstPage, api.pageSizeParam, api.pageSize) = (param, first, sizeParameter, size)
        }
        (api.incrementalParam, api.incrementalFrom) = (source.incremental?.param, source.incremental?.from)
        (api.authSecret, api.authHeader, api.authScheme) = (source.auth?.secret, source.auth?.header, source.auth?.scheme)
        return api
    }

    static func xlsx(_ options: XLSXOptions?) -> PipelinePlan.XLSX? {
        options.map { options in
            switch options.sheet {
            case .name(let name): .init(sheet: name, sheetIndex: nil, headerRow: options.headerRow)
            case .index(let index): .init(sheet: nil, sheetIndex: index, headerRow: options.headerRow)
            }
        }
    }

    static func csv(_ options: CSVOptions?) -> PipelinePlan.CSV? {
        options.map { .init(header: $0.header, delimiter: String($0.delimiter), quote: String($0.quote)) }
    }

    /// FNV-1a of `pipeline:<name>`, kept positive and away from the migration's key.
    static func lockKey(_ name: String) -> Int64 {
        Int64(FNV1a("sluice pipeline:\(name)").value & 0x7fff_ffff_ffff_ffff)
    }

    /// The staging table's bookkeeping columns, before the targets' columns.
    static let controlColumns: [(name: String, type: String)] = [
        ("sluice_ordinal", "bigint NOT NULL"), ("sluice_line", "bigint"), ("sluice_reason", "text"), ("sluice_field", "text"),
        ("sluice_record", "text"),
    ]

    /// Loads side by side take turns to merge when an upsert's last value wins (each object after
    /// every earlier one has committed). Their append targets need not wait for it, except for rows
    /// that reference a row another target of the pipeline writes and that is not committed yet
    /// (a new user's first event). Those rows are held for the turn; the rest may be appended ahead
    /// of it. Sets each eligible append target's `appendAhead`/`appendInTurn` and returns the SQL that
    /// lists the held rows (nil when there is nothing to split, or nothing needs holding).
    static func splitAppendsAroundTheTurn(_ targets: inout [PipelinePlan.Target], warehouse: Warehouse) -> String? {
        guard targets.contains(where: { $0.mode == .upsert }) else { return nil }
        let written = Set(targets.map(\.table))
        // The append merges are cut where `target` wrote their filter of accepted rows.
        let accepted = "WHERE \(acceptedRows) "
        var held: [String] = []
        var split: [(index: Int, holds: Bool)] = []
        for (index, target) in targets.enumerated() where target.mode == .append {
            guard let table = warehouse.table(target.table), target.merge.contains(accepted) else { continue }
            let columns = Dictionary(target.columns.map { ($0.column, $0) }, uniquingKeysWith: { first, _ in first })
            var conditions: [String] = []
            var eligible = true
            for foreignKey in table.foreignKeys
            where written.contains(foreignKey.referencedTable) && foreignKey.referencedTable != table.qualifiedName {
                let values = foreignKey.columns.map { columns[$0] }
                // A column the target does not write is NULL (or its default): nothing of it to wait for.
                if values.contains(where: { $0 == nil }) { continue }
                let mapped = values.compactMap { $0 }
                // A `sql` column's value exists only in the merge: such a target merges in turn, whole.
                if mapped.contains(where: { $0.expression != nil || $0.writtenAt == true }) {
                    eligible = false
                    break
                }
                let pairs = zip(foreignKey.referencedColumns, mapped).map {
                    "referenced.\(SQL.identifier($0)) = sluice_stage.\(SQL.identifier($1.staged))"
                }
                conditions.append(
                    "(" + mapped.map { "\(SQL.identifier($0.staged)) IS NOT NULL" }.joined(separator: " AND ")
                        + " AND NOT EXISTS (SELECT FROM \(SQL.qualified(foreignKey.referencedTable)) AS referenced WHERE \(pairs.joined(separator: " AND "))))"
                )
            }
            guard eligible else { continue }
            held += conditions
            split.append((index, !conditions.isEmpty))
        }
        let heldOrdinals = "SELECT sluice_ordinal FROM pg_temp.sluice_held"
        for (index, holds) in split {
            let merge = targets[index].merge
            guard holds else {
                targets[index].appendAhead = merge
                continue
            }
            targets[index].appendAhead = merge.replacingOccurrences(
                of: accepted, with: "WHERE \(acceptedRows) AND sluice_ordinal NOT IN (\(heldOrdinals)) ")
            targets[index].appendInTurn = merge.replacingOccurrences(
                of: accepted, with: "WHERE \(acceptedRows) AND sluice_ordinal IN (\(heldOrdinals)) ")
        }
        guard !held.isEmpty else { return nil }
        return "CREATE TEMP TABLE sluice_held ON COMMIT DROP AS\nSELECT sluice_ordinal FROM \(stagingTable)\n"
            + "WHERE \(acceptedRows) AND (\n    " + held.joined(separator: "\n    OR ") + "\n);"
    }

    /// The staging table every merge reads, and its rows that passed: refused records share it.
    static let stagingTable = "pg_temp.sluice_stage"
    static let acceptedRows = "sluice_reason IS NULL"

    static func staging(_ targets: [PipelinePlan.Target], heldRows: String? = nil) -> PipelinePlan.Staging {
        let table = stagingTable
        let columns = targets.flatMap(\.columns)
        let names = controlColumns.map(\.name) + columns.map(\.staged)
        let definitions = controlColumns.map { "\($0.name) \($0.type)" } + columns.map { "\(SQL.identifier($0.staged)) \($0.type)" }
        return .init(
            table: table, columns: names,
            drop: "DROP TABLE IF EXISTS \(table);",
            create: "CREATE TEMP TABLE sluice_stage (\n    " + definitions.joined(separator: ",\n    ") + "\n) ON COMMIT DROP;",
            copy: "COPY \(table) (\(SQL.list(names))) FROM STDIN;",
            quarantine: "INSERT INTO sluice.quarantine (run_id, pipeline, object_key, line, field, reason, record)\n"
                + "SELECT $1::bigint, $2::text, $3::text, sluice_line, sluice_field, sluice_reason, sluice_record FROM \(table)\n"
                + "WHERE sluice_reason IS NOT NULL ORDER BY sluice_ordinal;",
            heldRows: heldRows)
    }

    /// The prefix and suffix around a `sql` column's text in the merge: validation finds the text
    /// in the statement by them, to place PostgreSQL's error position in the spec.
    /// The text is on lines of its own, so a trailing `--` comment cannot swallow what follows.
    public static func expression(_ sql: String, over fields: String) -> String {
        "(SELECT (\n\(sql)\n) FROM (SELECT \(fields)) AS sluice_fields)"
    }

    /// The names a target's `sql` columns see: its staged columns under their own names.
    public static func expressionFields(_ columns: [PipelinePlan.Column]) -> String {
        columns.filter { $0.writtenAt != true && $0.expression == nil }
            .map { "sluice_stage.\(SQL.identifier($0.staged)) AS \(SQL.identifier($0.column))" }.joined(separator: ", ")
    }

    static func target(_ target: PipelineTarget, table: Table, index: Int) -> PipelinePlan.Target {
        let columns: [PipelinePlan.Column] = target.mappings.map { mapping in
            let column = table.column(mapping.column)
            var entry = PipelinePlan.Column(
                column: mapping.column, staged: SQL.fitted("t\(index + 1)_\(mapping.column)"),
                type: column?.type.description ?? "text", notNull: column?.notNull ?? false,
                transforms: mapping.transforms.map(transform), cast: mapping.cast?.description, mask: mapping.mask.map(mask),
                merge: columnMerge(mapping.merge))
            switch mapping.source {
            case .path(let path): entry.path = path
            case .derived(let name): entry.derived = name
            case .lineage(let value): entry.lineage = lineage(value)
            case .constant(let value): entry.constant = value
            case .record: entry.record = true
            case .writtenAt: entry.writtenAt = true
            case .expression(let sql): entry.expression = sql
            }
            return entry
        }
        let staging = stagingTable
        // A column written at merge time (`on_update: now()`) takes the database's clock, not a staged value:
        // the insert writes it, and an update sets it again (COALESCE and EXCLUDED see now()).
        // A `sql` column is its expression, evaluated in a scalar subquery whose only names are the
        // target's staged columns under their own names: PostgreSQL resolves them, nothing is rewritten.
        let fields = expressionFields(columns)
        let staged = Dictionary(
            uniqueKeysWithValues: columns.map { column -> (String, String) in
                if column.writtenAt == true { return (column.column, "now()") }
                if let sql = column.expression { return (column.column, Self.expression(sql, over: fields)) }
                return (column.column, SQL.identifier(column.staged))
            })
        let names = columns.map(\.column)
        let list = SQL.list(names)
        let qualified = SQL.qualified(table.schema, table.name)
        let accepted = acceptedRows
        let merge: String
        let key = target.key.map { staged[$0] ?? SQL.identifier($0) }.joined(separator: ", ")
        switch target.mode {
        case .append:
            // Rows already there (a re-sent event) are skipped and counted as duplicates.
            // Rows go in primary-key order, the file's order among equal keys: loads side by side that
            // append the same re-sent rows then meet them in one order. In the file's order, each could
            // insert a key the other then waits for: a deadlock PostgreSQL breaks only after
            // deadlock_timeout. Where another unique constraint decides which of two rows is kept, the
            // file's order stays.
            let plainlyStaged = Set(columns.filter { $0.writtenAt != true && $0.expression == nil }.map(\.column))
            let keyOrdered =
                !table.primaryKey.isEmpty && table.primaryKey.allSatisfy(plainlyStaged.contains)
                && table.uniques.isEmpty && !table.indexes.contains(where: \.unique)
            let order = (keyOrdered ? table.primaryKey.map { staged[$0]! } : []) + ["sluice_ordinal"]
            merge =
                "INSERT INTO \(qualified) (\(list))\nSELECT \(names.map { staged[$0]! }.joined(separator: ", ")) FROM \(staging)\n"
                + "WHERE \(accepted) ORDER BY \(order.joined(separator: ", "))\nON CONFLICT DO NOTHING;"
        case .upsert, .versionedUpsert:
            let version = target.versionColumn.map { staged[$0] ?? SQL.identifier($0) }
            let present =
                [accepted] + (target.key + (target.versionColumn.map { [$0] } ?? [])).map { "\(staged[$0] ?? SQL.identifier($0)) IS NOT NULL" }
            // One row per key (ON CONFLICT cannot touch a row twice): the newest version, or the values merged.
            let order = target.key.map { staged[$0] ?? SQL.identifier($0) } + (version.map { ["\($0) DESC"] } ?? []) + ["sluice_ordinal DESC"]
            let updated = names.filter { !target.key.contains($0) }
            var text: String
            let rules = Dictionary(uniqueKeysWithValues: target.mappings.map { ($0.column, $0.merge) })
            if version == nil {
                // Per key and column, the batch's last value that is not NULL (or its smallest or
                // largest): the same result however the records fall into batches, since a missing
                // value never erases a known one.
                let values = names.map { name -> String in
                    let column = staged[name]!
                    if target.key.contains(name) { return column }
                    switch rules[name] ?? .last {
                    case .min: return "min(\(column))"
                    case .max: return "max(\(column))"
                    case .last where column == "now()": return column
                    case .last: return "(array_agg(\(column) ORDER BY sluice_ordinal DESC) FILTER (WHERE \(column) IS NOT NULL))[1]"
                    }
                }
                text =
                    "INSERT INTO \(qualified) AS target (\(list))\nSELECT \(values.joined(separator: ", "))\nFROM \(staging)\n"
                    + "WHERE \(present.joined(separator: " AND "))\nGROUP BY \(key)\n"
                    // Rows in key order: loads merging side by side take their rows' locks in one order.
                    + "ORDER BY \(key)\n"
            } else {
                text =
                    "INSERT INTO \(qualified) AS target (\(list))\nSELECT DISTINCT ON (\(key)) \(names.map { staged[$0]! }.joined(separator: ", ")) FROM \(staging)\n"
                    + "WHERE \(present.joined(separator: " AND "))\nORDER BY \(order.joined(separator: ", "))\n"
            }
            if updated.isEmpty {
                text += "ON CONFLICT (\(SQL.list(target.key))) DO NOTHING;"
            } else if let versionColumn = target.versionColumn {
                // A newer version replaces the row whole; an older or equal one is ignored.
                let column = SQL.identifier(versionColumn)
                text +=
                    "ON CONFLICT (\(SQL.list(target.key))) DO UPDATE SET "
                    + updated.map { "\(SQL.identifier($0)) = EXCLUDED.\(SQL.identifier($0))" }.joined(separator: ", ")
                    + "\nWHERE target.\(column) < EXCLUDED.\(column);"
            } else {
                // A record without a value keeps what an earlier record said (events carry partial dimensions).
                // LEAST and GREATEST ignore NULLs, as COALESCE does.
                text +=
                    "ON CONFLICT (\(SQL.list(target.key))) DO UPDATE SET "
                    + updated.map { name -> String in
                        let column = SQL.identifier(name)
                        switch rules[name] ?? .last {
                        case .min: return "\(column) = LEAST(EXCLUDED.\(column), target.\(column))"
                        case .max: return "\(column) = GREATEST(EXCLUDED.\(column), target.\(column))"
                        case .last: return "\(column) = COALESCE(EXCLUDED.\(column), target.\(column))"
                        }
                    }.joined(separator: ", ") + ";"
            }
            merge = text
        }
        var removeObjectRows: String?
        if target.mode == .append, let lineage = columns.first(where: { $0.lineage == .objectKey }) {
            removeObjectRows = "DELETE FROM \(qualified) WHERE \(SQL.identifier(lineage.column)) = $1;"
        }
        return PipelinePlan.Target(
            table: table.qualifiedName, mode: writeMode(target.mode), key: target.key, versionColumn: target.versionColumn,
            columns: columns, merge: merge, removeObjectRows: removeObjectRows)
    }

    static func transform(_ transform: Transform) -> PipelinePlan.Transform {
        switch transform {
        case .trim: return .init(name: .trim)
        case .lower: return .init(name: .lower)
        case .upper: return .init(name: .upper)
        case .nullIfEmpty: return .init(name: .nullIfEmpty)
        case .map(let values, let fallback): return .init(name: .map, map: values, fallback: fallback)
        }
    }

    // The model's vocabulary in the plan's: one switch each, so a case added to the model does not
    // compile until the plan format (and so the executor) has its counterpart.

    static func format(_ format: SourceFormat) -> PipelinePlan.Format {
        switch format {
        case .jsonLines: .jsonLines
        case .jsonArray: .jsonArray
        case .csv: .csv
        case .xlsx: .xlsx
        }
    }

    static func compression(_ compression: Compression) -> PipelinePlan.Compression {
        switch compression {
        case .none: .none
        case .gzip: .gzip
        case .auto: .auto
        }
    }

    static func fieldType(_ type: FieldType) -> PipelinePlan.FieldType {
        switch type {
        case .string: .string
        case .integer: .integer
        case .number: .number
        case .boolean: .boolean
        case .timestamp: .timestamp
        case .date: .date
        case .uuid: .uuid
        case .email: .email
        case .object: .object
        case .array: .array
        case .any: .any
        }
    }

    static func derivedKind(_ kind: DerivationKind) -> PipelinePlan.DerivedKind {
        switch kind {
        case .date: .date
        case .hour: .hour
        }
    }

    static func writeMode(_ mode: WriteMode) -> PipelinePlan.WriteMode {
        switch mode {
        case .append: .append
        case .upsert: .upsert
        case .versionedUpsert: .versionedUpsert
        }
    }

    static func lineage(_ value: Lineage) -> PipelinePlan.Lineage {
        switch value {
        case .objectKey: .objectKey
        case .line: .line
        case .runID: .runID
        case .loadedAt: .loadedAt
        }
    }

    static func mask(_ mask: Mask) -> PipelinePlan.Mask {
        switch mask {
        case .hash: .hash
        case .redact: .redact
        }
    }

    /// The newest value is the plan's default, so it is left out.
    static func columnMerge(_ rule: MergeRule) -> PipelinePlan.ColumnMerge? {
        switch rule {
        case .last: nil
        case .min: .min
        case .max: .max
        }
    }

    static func rejectLimit(_ limit: RejectLimit) -> PipelinePlan.RejectLimitPlan {
        switch limit {
        case .count(let records): .init(records: records)
        case .share(let share): .init(share: share)
        }
    }
}
