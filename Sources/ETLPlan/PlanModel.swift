import SluiceCore

/// `generated/<spec>/plan.json`: everything the executor needs to run a spec's pipelines, so it can
/// run where the spec is absent (inside the ETL function). Codable both ways: the renderer encodes it,
/// the executor decodes it. `docs/plan.md` documents every field.
public struct ETLPlan: Codable, Equatable, Sendable {
    /// Bumped when a field changes meaning; an executor refuses a plan of a version it does not know.
    public static let currentVersion = 1

    public var format = "sluice-plan"
    public var version = ETLPlan.currentVersion
    public var generatedFrom: String
    public var project: String
    public var warehouse: WarehouseTarget?
    public var pipelines: [PipelinePlan]

    public struct WarehouseTarget: Codable, Equatable, Sendable {
        public var database: String
        public var port: Int
        /// Secrets Manager secret with username and password.
        public var credentialsSecret: String
        /// What `sluice.schema_version.schema_digest` holds once the schema is applied: the executor
        /// refuses to load into a database migrated to a different spec.
        public var schemaDigest: String
    }
}

public struct PipelinePlan: Codable, Equatable, Sendable {
    public var name: String
    public var workload: String
    public var schedule: String?
    public var source: Source
    public var fields: [Field]
    public var derived: [Derived]
    public var filters: [Filter]
    public var dedupeKey: [String]
    public var targets: [Target]
    /// The one temporary table a batch is copied into: every target's columns side by side, plus the
    /// refused records, so a batch is a single COPY stream.
    public var staging: Staging
    public var quarantine: Quarantine
    public var postLoad: [PostLoad]
    /// The advisory lock that keeps one runner per pipeline.
    public var lockKey: Int64
    /// How many of an object's records may be refused before the object is not loaded: a count, or
    /// a share of its records. Absent in plans written before it existed: the standard half.
    public var maxRejected: RejectLimitPlan?

    public struct RejectLimitPlan: Codable, Equatable, Sendable {
        public var records: Int?
        public var share: Double?

        public init(_ limit: RejectLimit) {
            switch limit {
            case .count(let count): records = count
            case .share(let value): share = value
            }
        }

        public var limit: RejectLimit { records.map(RejectLimit.count) ?? share.map(RejectLimit.share) ?? .standard }
    }

    public struct Source: Codable, Equatable, Sendable {
        /// `s3` or `folder`.
        public var kind: String
        /// The spec's name for the bucket (the folder name under `sluice run --source DIR`)…
        public var bucket: String?
        /// …and the deployed bucket's name, as the template names it (`<project>-<bucket>-<account>-<region>`).
        public var bucketName: String?
        public var path: String?
        /// `{yyyy}`, `{MM}`, `{dd}`, `{HH}` are expanded hour by hour for `sluice run --from --to`.
        public var prefixTemplate: String?
        /// The fixed part before the first placeholder: what is listed when no window is given.
        public var staticPrefix: String?
        /// `jsonl`, `json_array` or `csv`.
        public var format: String
        /// `none`, `gzip` or `auto` (by the `.gz` suffix and the gzip magic bytes).
        public var compression: String
        public var csv: CSV?
    }

    public struct CSV: Codable, Equatable, Sendable {
        public var header: Bool
        public var delimiter: String
        public var quote: String
    }

    /// A field rule: a record whose field fails it is quarantined with the rule as its reason.
    public struct Field: Codable, Equatable, Sendable {
        public var path: String
        public var type: String
        public var required: Bool
        public var pattern: String?
        public var allowed: [String]?
    }

    public struct Derived: Codable, Equatable, Sendable {
        public var name: String
        /// `date` (UTC calendar date) or `hour` (UTC hour, 0-23) of a timestamp field.
        public var kind: String
        public var from: String
    }

    /// A record that matches is dropped and counted under the filter's name.
    public struct Filter: Codable, Equatable, Sendable {
        public var name: String
        public var path: String
        public var equals: String?
        public var oneOf: [String]?
        public var matches: String?
        public var exists: Bool?
    }

    public struct Target: Codable, Equatable, Sendable {
        public var table: String
        /// `append`, `upsert` or `versioned_upsert`.
        public var mode: String
        public var key: [String]
        public var versionColumn: String?
        public var columns: [Column]
        /// From the staging table into the target, by write mode. Its row count is what was written;
        /// the rest of the staged rows were duplicates (or, for upserts, rows without a key).
        public var merge: String
    }

    public struct Column: Codable, Equatable, Sendable {
        public var column: String
        /// Its column in the staging table.
        public var staged: String
        /// The column's PostgreSQL type: values are cast to it in the staging table.
        public var type: String
        public var notNull: Bool
        /// Exactly one of `path`, `derived`, `constant`, `record`.
        public var path: String?
        public var derived: String?
        public var constant: String?
        public var record: Bool?
        /// In order: `trim`, `lower`, `upper`, `null_if_empty`, `map`.
        public var transforms: [Transform]
        public var cast: String?
        /// `hash` (HMAC-SHA-256 with the deployment's salt, hex) or `redact`.
        public var mask: String?
        /// Upserts: `min` or `max` keep the smallest or largest value; absent, the newest.
        public var merge: String?
    }

    public struct Transform: Codable, Equatable, Sendable {
        public var name: String
        public var map: [String: String]?
        public var fallback: String?
    }

    /// The statements of one batch, in this order inside its transaction: `drop` (a leftover),
    /// `create`, `copy`, each target's merge, `quarantine`.
    public struct Staging: Codable, Equatable, Sendable {
        public var table: String
        /// COPY's column order: `sluice_ordinal`, `sluice_line`, `sluice_reason`, `sluice_field`,
        /// `sluice_record`, then each target's `staged` columns in target order.
        public var columns: [String]
        public var drop: String
        public var create: String
        /// `COPY … FROM STDIN`, text format.
        public var copy: String
        /// Refused records (`sluice_reason` set) into `sluice.quarantine`; `$1` run, `$2` pipeline, `$3` object key.
        public var quarantine: String
    }

    public struct Quarantine: Codable, Equatable, Sendable {
        public var table: String
        /// When set, each object's refused records are also written to this bucket, as JSON Lines
        /// under `prefix<pipeline>/<object key>.run-<run>.jsonl`.
        public var bucket: String?
        /// The deployed name of `bucket`.
        public var bucketName: String?
        public var prefix: String
    }

    public struct PostLoad: Codable, Equatable, Sendable {
        /// `refresh` a materialized view (through sluice.refresh_materialized_view) or `call` a procedure.
        public var kind: String
        public var name: String
        public var sql: String
    }
}
