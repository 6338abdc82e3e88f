import Foundation
import SluiceCore
import WarehouseDDL

/// Spec → ETLPlan: the pipelines compiled against the warehouse's tables, with the SQL each batch runs.
public enum PlanCompiler {
    public static func compile(_ spec: Spec) -> ETLPlan? {
        guard !spec.pipelines.isEmpty else { return nil }
        let warehouse = spec.warehouse.map { warehouse in
            ETLPlan.WarehouseTarget(database: warehouse.database, port: warehouse.port, credentialsSecret: warehouse.credentialsSecret,
                                    schemaDigest: DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines).digest)
        }
        return ETLPlan(generatedFrom: spec.file.split(separator: "/").last.map(String.init) ?? spec.file, project: spec.project.name,
                       warehouse: warehouse, pipelines: spec.pipelines.map { pipeline($0, warehouse: spec.warehouse) })
    }

    public static func render(_ spec: Spec) throws -> String? {
        guard let plan = compile(spec) else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n"
    }

    static func pipeline(_ pipeline: Pipeline, warehouse: Warehouse?) -> PipelinePlan {
        let source: PipelinePlan.Source
        switch pipeline.source.kind {
        case .bucket(let name, let template):
            source = .init(kind: "s3", bucket: name, path: nil, prefixTemplate: template, staticPrefix: pipeline.source.staticPrefix,
                           format: pipeline.source.format.rawValue, compression: pipeline.source.compression.rawValue, csv: csv(pipeline.source.csv))
        case .folder(let path):
            source = .init(kind: "folder", bucket: nil, path: path, prefixTemplate: nil, staticPrefix: nil,
                           format: pipeline.source.format.rawValue, compression: pipeline.source.compression.rawValue, csv: csv(pipeline.source.csv))
        }
        let targets = pipeline.targets.enumerated().compactMap { index, target -> PipelinePlan.Target? in
            guard let table = warehouse?.table(target.table) else { return nil }
            return self.target(target, table: table, index: index)
        }
        let postLoad: [PipelinePlan.PostLoad] = pipeline.postLoad.map { step in
            switch step {
            case .refreshMaterializedView(let view, _):
                let qualified = warehouse.flatMap { w in w.views.first { $0.qualifiedName == view || ($0.name == view && $0.schema == w.schemas.first) } }?.qualifiedName ?? view
                return .init(kind: "refresh", name: qualified,
                             sql: "SELECT sluice.refresh_materialized_view(\(SQL.literal(SQL.qualified(qualified)))::regclass);")
            case .call(let procedure, _):
                return .init(kind: "call", name: procedure, sql: "CALL \(SQL.qualified(procedure))();")
            }
        }
        return PipelinePlan(
            name: pipeline.name, workload: pipeline.workload, schedule: pipeline.schedule?.expression, source: source,
            fields: pipeline.fields.map { .init(path: $0.path, type: $0.type.rawValue, required: $0.required, pattern: $0.pattern,
                                               allowed: $0.allowed.isEmpty ? nil : $0.allowed) },
            derived: pipeline.derived.map { .init(name: $0.name, kind: $0.kind.rawValue, from: $0.from) },
            filters: pipeline.filters.map { filter in
                switch filter.condition {
                case .equals(let value): return .init(name: filter.name, path: filter.path, equals: value)
                case .oneOf(let values): return .init(name: filter.name, path: filter.path, oneOf: values)
                case .matches(let pattern): return .init(name: filter.name, path: filter.path, matches: pattern)
                case .exists: return .init(name: filter.name, path: filter.path, exists: true)
                }
            },
            dedupeKey: pipeline.dedupeKey, targets: targets,
            quarantine: .init(table: "sluice.quarantine", bucket: pipeline.quarantine.bucket, prefix: pipeline.quarantine.prefix),
            postLoad: postLoad, lockKey: lockKey(pipeline.name))
    }

    static func csv(_ options: CSVOptions?) -> PipelinePlan.CSV? {
        options.map { .init(header: $0.header, delimiter: String($0.delimiter), quote: String($0.quote)) }
    }

    /// FNV-1a of `pipeline:<name>`, kept positive and away from the migration's key.
    static func lockKey(_ name: String) -> Int64 {
        Int64(FNV1a("sluice pipeline:\(name)").value & 0x7fff_ffff_ffff_ffff)
    }

    static func target(_ target: PipelineTarget, table: Table, index: Int) -> PipelinePlan.Target {
        let columns: [PipelinePlan.Column] = target.mappings.map { mapping in
            let column = table.column(mapping.column)
            var entry = PipelinePlan.Column(column: mapping.column, type: column?.type.description ?? "text", notNull: column?.notNull ?? false,
                                            transforms: mapping.transforms.map(transform), cast: mapping.cast?.description, mask: mapping.mask?.rawValue)
            switch mapping.source {
            case .path(let path): entry.path = path
            case .derived(let name): entry.derived = name
            case .constant(let value): entry.constant = value
            case .record: entry.record = true
            }
            return entry
        }
        let staging = "sluice_stage_\(index + 1)"
        let names = columns.map(\.column)
        let list = SQL.list(names)
        let qualified = SQL.qualified(table.schema, table.name)
        let createStaging = "CREATE TEMP TABLE \(staging) (sluice_ordinal bigint NOT NULL, "
            + columns.map { "\(SQL.identifier($0.column)) \($0.type)" }.joined(separator: ", ") + ") ON COMMIT DROP;"
        let copy = "COPY pg_temp.\(staging) (sluice_ordinal, \(list)) FROM STDIN;"
        let merge: String
        let key = SQL.list(target.key)
        switch target.mode {
        case .append:
            // Rows already there (a re-sent event) are skipped and counted as duplicates.
            merge = "INSERT INTO \(qualified) (\(list))\nSELECT \(list) FROM pg_temp.\(staging) ORDER BY sluice_ordinal\nON CONFLICT DO NOTHING;"
        case .upsert, .versionedUpsert:
            let version = target.versionColumn.map(SQL.identifier)
            let present = (target.key + (target.versionColumn.map { [$0] } ?? [])).map { "\(SQL.identifier($0)) IS NOT NULL" }.joined(separator: " AND ")
            // One row per key (ON CONFLICT cannot touch a row twice): the newest version, or the values merged.
            let order = target.key.map(SQL.identifier) + (version.map { ["\($0) DESC"] } ?? []) + ["sluice_ordinal DESC"]
            let updated = names.filter { !target.key.contains($0) }
            var text: String
            if version == nil {
                // Per key and column, the batch's last value that is not NULL: the same result however
                // the records fall into batches, since a missing value never erases a known one.
                let values = names.map { name -> String in
                    let column = SQL.identifier(name)
                    return target.key.contains(name) ? column
                        : "(array_agg(\(column) ORDER BY sluice_ordinal DESC) FILTER (WHERE \(column) IS NOT NULL))[1]"
                }
                text = "INSERT INTO \(qualified) AS target (\(list))\nSELECT \(values.joined(separator: ", "))\nFROM pg_temp.\(staging)\nWHERE \(present)\nGROUP BY \(key)\n"
            } else {
                text = "INSERT INTO \(qualified) AS target (\(list))\nSELECT DISTINCT ON (\(key)) \(list) FROM pg_temp.\(staging)\nWHERE \(present)\nORDER BY \(order.joined(separator: ", "))\n"
            }
            if updated.isEmpty {
                text += "ON CONFLICT (\(key)) DO NOTHING;"
            } else if let version {
                // A newer version replaces the row whole; an older or equal one is ignored.
                text += "ON CONFLICT (\(key)) DO UPDATE SET " + updated.map { "\(SQL.identifier($0)) = EXCLUDED.\(SQL.identifier($0))" }.joined(separator: ", ")
                    + "\nWHERE target.\(version) < EXCLUDED.\(version);"
            } else {
                // A record without a value keeps what an earlier record said (events carry partial dimensions).
                text += "ON CONFLICT (\(key)) DO UPDATE SET " + updated.map { "\(SQL.identifier($0)) = COALESCE(EXCLUDED.\(SQL.identifier($0)), target.\(SQL.identifier($0)))" }.joined(separator: ", ") + ";"
            }
            merge = text
        }
        return PipelinePlan.Target(table: table.qualifiedName, mode: target.mode.rawValue, key: target.key, versionColumn: target.versionColumn,
                                   columns: columns, sql: .init(createStaging: createStaging, copy: copy, merge: merge,
                                                                dropStaging: "DROP TABLE IF EXISTS pg_temp.\(staging);"))
    }

    static func transform(_ transform: Transform) -> PipelinePlan.Transform {
        switch transform {
        case .trim: return .init(name: "trim")
        case .lower: return .init(name: "lower")
        case .upper: return .init(name: "upper")
        case .nullIfEmpty: return .init(name: "null_if_empty")
        case .map(let values, let fallback): return .init(name: "map", map: values, fallback: fallback)
        }
    }
}
