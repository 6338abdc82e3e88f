/// `generated/<spec>/plan.json`: everything the executor needs to run a spec's pipelines, so it can
/// run where the spec is absent (inside the ETL function). Codable both ways: the plan compiler encodes
/// it, the executor decodes it. No dependencies, so the executor links the format and not the compiler.
/// `docs/plan.md` documents every field; the enums' raw values are what plan.json holds.
public struct ETLPlan: Codable, Equatable, Sendable {
    /// Bumped when a field changes meaning; an executor refuses a plan of a version it does not know.
    public static let currentVersion = 1

    public var format = "sluice-plan"
    public var version = ETLPlan.currentVersion
    public var generatedFrom: String
    public var project: String
    public var warehouse: WarehouseTarget?
    public var pipelines: [PipelinePlan]

    public init(generatedFrom: String, project: String, warehouse: WarehouseTarget? = nil, pipelines: [PipelinePlan]) {
        self.generatedFrom = generatedFrom
        self.project = project
        self.warehouse = warehouse
        self.pipelines = pipelines
    }

    public struct WarehouseTarget: Codable, Equatable, Sendable {
        public var database: String
        public var port: Int
        /// Secrets Manager secret with username and password.
        public var credentialsSecret: String
        /// What `sluice.schema_version.schema_digest` holds once the schema is applied: the executor
        /// refuses to load into a database migrated to a different spec.
        public var schemaDigest: String

        public init(database: String, port: Int, credentialsSecret: String, schemaDigest: String) {
            self.database = database
            self.port = port
            self.credentialsSecret = credentialsSecret
            self.schemaDigest = schemaDigest
        }
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

    public init(
        name: String, workload: String, schedule: String? = nil, source: Source, fields: [Field], derived: [Derived],
        filters: [Filter], dedupeKey: [String], targets: [Target], staging: Staging, quarantine: Quarantine,
        postLoad: [PostLoad], lockKey: Int64, maxRejected: RejectLimitPlan? = nil
    ) {
        self.name = name
        self.workload = workload
        self.schedule = schedule
        self.source = source
        self.fields = fields
        self.derived = derived
        self.filters = filters
        self.dedupeKey = dedupeKey
        self.targets = targets
        self.staging = staging
        self.quarantine = quarantine
        self.postLoad = postLoad
        self.lockKey = lockKey
        self.maxRejected = maxRejected
    }

    /// Exactly one of the two is set.
    public struct RejectLimitPlan: Codable, Equatable, Sendable, CustomStringConvertible {
        public var records: Int?
        /// 0...1.
        public var share: Double?

        public init(records: Int? = nil, share: Double? = nil) {
            self.records = records
            self.share = share
        }

        /// Half: a file with a bad row or two loads; one whose records are mostly refused does not.
        public static let standard = RejectLimitPlan(share: 0.5)

        /// Whether `rejected` of `read` records is over the limit.
        public func exceeded(rejected: Int, of read: Int) -> Bool {
            if let records { return rejected > records }
            let share = share ?? Self.standard.share!
            return read > 0 && Double(rejected) > share * Double(read)
        }

        /// `10`, `25%`, as the spec writes it.
        public var description: String {
            if let records { return "\(records)" }
            let percent = (share ?? Self.standard.share!) * 100
            return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
        }
    }

    public enum SourceKind: String, PlanWord { case s3, folder }
    public enum Format: String, PlanWord { case jsonLines = "jsonl", jsonArray = "json_array", csv, xlsx }
    /// `auto` decides by the `.gz` suffix and the gzip magic bytes.
    public enum Compression: String, PlanWord { case none, gzip, auto }
    public enum FieldType: String, PlanWord { case string, integer, number, boolean, timestamp, date, uuid, email, object, array, any }
    /// The UTC calendar date, or the UTC hour (0-23), of a timestamp field.
    public enum DerivedKind: String, PlanWord { case date, hour }
    public enum WriteMode: String, PlanWord { case append, upsert, versionedUpsert = "versioned_upsert" }
    /// `hash` is HMAC-SHA-256 with the deployment's key, hex.
    public enum Mask: String, PlanWord { case hash, redact }
    /// Upserts without a version: keep the smallest or largest value rather than the newest.
    public enum ColumnMerge: String, PlanWord { case min, max }
    public enum TransformName: String, PlanWord { case trim, lower, upper, nullIfEmpty = "null_if_empty", map }
    /// Refresh a materialized view (through sluice.refresh_materialized_view) or call a procedure.
    public enum PostLoadKind: String, PlanWord { case refresh, call }
    /// Where a row came from: its object's key, its line there, its run, when that run started.
    public enum Lineage: String, PlanWord { case objectKey = "object_key", line, runID = "run_id", loadedAt = "loaded_at" }

    public struct Source: Codable, Equatable, Sendable {
        public var kind: SourceKind
        /// The spec's name for the bucket (the folder name under `sluice run --source DIR`)…
        public var bucket: String?
        /// …and the deployed bucket's name, as the template names it (`<project>-<bucket>-<account>-<region>`).
        public var bucketName: String?
        public var path: String?
        /// `{yyyy}`, `{MM}`, `{dd}`, `{HH}` are expanded hour by hour for `sluice run --from --to`.
        public var prefixTemplate: String?
        /// The fixed part before the first placeholder: what is listed when no window is given.
        public var staticPrefix: String?
        public var format: Format
        public var compression: Compression
        public var csv: CSV?
        public var xlsx: XLSX?
        /// A web API whose pages are landed under the bucket's prefix before the objects there are loaded.
        public var api: API?

        public init(
            kind: SourceKind, bucket: String? = nil, bucketName: String? = nil, path: String? = nil,
            prefixTemplate: String? = nil, staticPrefix: String? = nil, format: Format, compression: Compression,
            csv: CSV? = nil, xlsx: XLSX? = nil, api: API? = nil
        ) {
            self.api = api
            self.xlsx = xlsx
            self.kind = kind
            self.bucket = bucket
            self.bucketName = bucketName
            self.path = path
            self.prefixTemplate = prefixTemplate
            self.staticPrefix = staticPrefix
            self.format = format
            self.compression = compression
            self.csv = csv
        }
    }

    /// How a web API is read: its URL, where a response's records are, how its pages follow each
    /// other, what the next run starts from, and the header carrying its credential.
    public struct API: Codable, Equatable, Sendable {
        public enum Pagination: String, Codable, Sendable { case none, link, cursor, page }
        public var url: String
        /// Dotted path of the records' array; nil: the response is the array.
        public var records: String?
        public var pagination: Pagination
        /// `cursor`: the query parameter the token is sent in, and its dotted path in a response.
        public var cursorParam: String?
        public var cursorFrom: String?
        /// `page`: the page number's parameter and first value, and the page size's, if any.
        public var pageParam: String?
        public var firstPage: Int?
        public var pageSizeParam: String?
        public var pageSize: Int?
        /// The query parameter carrying the kept cursor, and the records' field it is the greatest of.
        public var incrementalParam: String?
        public var incrementalFrom: String?
        /// The secret (its name in the spec, and deployed) whose string goes in `authHeader`.
        public var authSecret: String?
        public var authHeader: String?
        public var authScheme: String?

        public init(url: String, records: String?, pagination: Pagination) {
            self.url = url
            self.records = records
            self.pagination = pagination
        }
    }

    /// Which sheet of a workbook, by name or 1-based position, and the row naming its columns.
    public struct XLSX: Codable, Equatable, Sendable {
        public var sheet: String?
        public var sheetIndex: Int?
        public var headerRow: Int

        public init(sheet: String?, sheetIndex: Int?, headerRow: Int) {
            self.sheet = sheet
            self.sheetIndex = sheetIndex
            self.headerRow = headerRow
        }
    }

    public struct CSV: Codable, Equatable, Sendable {
        public var header: Bool
        public var delimiter: String
        public var quote: String

        public init(header: Bool, delimiter: String, quote: String) {
            self.header = header
            self.delimiter = delimiter
            self.quote = quote
        }
    }

    /// A field rule: a record whose field fails it is quarantined with the rule as its reason.
    public struct Field: Codable, Equatable, Sendable {
        public var path: String
        public var type: FieldType
        public var required: Bool
        public var pattern: String?
        public var allowed: [String]?
        /// Numbers: the decimal and grouping separators the source writes (absent: JSON's).
        public var decimal: String?
        public var group: String?
        /// Dates and timestamps: the pattern (`dd.MM.yyyy`) or `excel`; absent: RFC 3339.
        public var format: String?
        /// Timestamps written without an offset are in this IANA zone.
        public var timeZone: String?

        public init(
            path: String, type: FieldType, required: Bool, pattern: String? = nil, allowed: [String]? = nil, decimal: String? = nil,
            group: String? = nil, format: String? = nil, timeZone: String? = nil
        ) {
            self.path = path
            self.type = type
            self.required = required
            self.pattern = pattern
            self.allowed = allowed
            self.decimal = decimal
            self.group = group
            self.format = format
            self.timeZone = timeZone
        }
    }

    public struct Derived: Codable, Equatable, Sendable {
        public var name: String
        public var kind: DerivedKind
        public var from: String

        public init(name: String, kind: DerivedKind, from: String) {
            self.name = name
            self.kind = kind
            self.from = from
        }
    }

    /// A record that matches is dropped and counted under the filter's name.
    public struct Filter: Codable, Equatable, Sendable {
        public var name: String
        public var path: String
        public var equals: String?
        public var oneOf: [String]?
        public var matches: String?
        public var exists: Bool?

        public init(
            name: String, path: String, equals: String? = nil, oneOf: [String]? = nil, matches: String? = nil,
            exists: Bool? = nil
        ) {
            self.name = name
            self.path = path
            self.equals = equals
            self.oneOf = oneOf
            self.matches = matches
            self.exists = exists
        }
    }

    public struct Target: Codable, Equatable, Sendable {
        public var table: String
        public var mode: WriteMode
        public var key: [String]
        public var versionColumn: String?
        public var columns: [Column]
        /// From the staging table into the target, by write mode. Its row count is what was written;
        /// the rest of the staged rows were duplicates (or, for upserts, rows without a key).
        public var merge: String
        /// Append targets with an `object_key` lineage column: deletes the rows one object put there
        /// (`$1` is its key), so a reload can load it again. Upserts re-merge instead; nil otherwise.
        public var removeObjectRows: String?
        /// Append targets of a pipeline with an upsert whose last value wins: `merge` split in two for
        /// loads side by side. `appendAhead` writes the rows not in `staging.heldRows`, before the load's
        /// turn (the rows they reference are already committed); `appendInTurn` writes the held rows, in
        /// the target's place among the merges made in turn. Together they write what `merge` writes.
        public var appendAhead: String?
        public var appendInTurn: String?

        public init(
            table: String, mode: WriteMode, key: [String], versionColumn: String? = nil, columns: [Column],
            merge: String, removeObjectRows: String? = nil, appendAhead: String? = nil, appendInTurn: String? = nil
        ) {
            self.table = table
            self.mode = mode
            self.key = key
            self.versionColumn = versionColumn
            self.columns = columns
            self.merge = merge
            self.removeObjectRows = removeObjectRows
            self.appendAhead = appendAhead
            self.appendInTurn = appendInTurn
        }
    }

    public struct Column: Codable, Equatable, Sendable {
        public var column: String
        /// Its column in the staging table.
        public var staged: String
        /// The column's PostgreSQL type: values are cast to it in the staging table.
        public var type: String
        public var notNull: Bool
        /// Exactly one of `path`, `derived`, `constant`, `record`, `lineage`, `writtenAt` (the merge
        /// writes `now()`; nothing is staged), `expression`.
        public var path: String?
        public var derived: String?
        public var constant: String?
        public var record: Bool?
        public var lineage: Lineage?
        public var writtenAt: Bool?
        /// A SQL expression the merge evaluates over the target's other staged columns (nothing is staged).
        public var expression: String?
        /// In order: `trim`, `lower`, `upper`, `null_if_empty`, `map`.
        public var transforms: [Transform]
        public var cast: String?
        public var mask: Mask?
        /// Absent: the newest value.
        public var merge: ColumnMerge?

        public init(
            column: String, staged: String, type: String, notNull: Bool, path: String? = nil, derived: String? = nil,
            constant: String? = nil, record: Bool? = nil, transforms: [Transform], cast: String? = nil,
            mask: Mask? = nil, merge: ColumnMerge? = nil, lineage: Lineage? = nil, writtenAt: Bool? = nil, expression: String? = nil
        ) {
            self.expression = expression
            self.lineage = lineage
            self.writtenAt = writtenAt
            self.column = column
            self.staged = staged
            self.type = type
            self.notNull = notNull
            self.path = path
            self.derived = derived
            self.constant = constant
            self.record = record
            self.transforms = transforms
            self.cast = cast
            self.mask = mask
            self.merge = merge
        }
    }

    public struct Transform: Codable, Equatable, Sendable {
        public var name: TransformName
        public var map: [String: String]?
        public var fallback: String?

        public init(name: TransformName, map: [String: String]? = nil, fallback: String? = nil) {
            self.name = name
            self.map = map
            self.fallback = fallback
        }
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
        /// With `appendAhead` targets: creates `pg_temp.sluice_held`, the ordinals of the accepted rows
        /// that reference a row of another target's table not yet committed (a new user, a new product).
        /// Those rows wait for the load's turn; the rest may be appended before it.
        public var heldRows: String?

        public init(
            table: String, columns: [String], drop: String, create: String, copy: String, quarantine: String, heldRows: String? = nil
        ) {
            self.table = table
            self.columns = columns
            self.drop = drop
            self.create = create
            self.copy = copy
            self.quarantine = quarantine
            self.heldRows = heldRows
        }
    }

    public struct Quarantine: Codable, Equatable, Sendable {
        public var table: String
        /// When set, each object's refused records are also written to this bucket, as JSON Lines
        /// under `prefix<pipeline>/<object key>.run-<run>.jsonl`.
        public var bucket: String?
        /// The deployed name of `bucket`.
        public var bucketName: String?
        public var prefix: String

        public init(table: String, bucket: String? = nil, bucketName: String? = nil, prefix: String) {
            self.table = table
            self.bucket = bucket
            self.bucketName = bucketName
            self.prefix = prefix
        }
    }

    public struct PostLoad: Codable, Equatable, Sendable {
        public var kind: PostLoadKind
        public var name: String
        public var sql: String

        public init(kind: PostLoadKind, name: String, sql: String) {
            self.kind = kind
            self.name = name
            self.sql = sql
        }
    }
}

/// A word of plan.json with a fixed set of values. One this executor does not know (a plan from a
/// newer compiler) is refused naming the ones it does.
public protocol PlanWord: RawRepresentable<String>, CaseIterable, Codable, Sendable {}

extension PlanWord {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

extension DecodingError {
    /// `pipelines[0].source.format: 'xml' is not one of jsonl, json_array, csv, xlsx`
    public var planProblem: String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { text, key in
                if let index = key.intValue { return text + "[\(index)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
        }
        switch self {
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return context.debugDescription
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        @unknown default: return "\(self)"
        }
    }
}
