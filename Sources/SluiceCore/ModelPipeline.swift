// MARK: - Pipelines

public enum SourceFormat: String, Sendable, CaseIterable {
    case jsonLines = "jsonl"
    case jsonArray = "json_array"
    case csv
    /// An Excel workbook (Office Open XML): one sheet, read as CSV is, its first row naming the columns.
    case xlsx
}

public enum Compression: String, Sendable, CaseIterable { case none, gzip, auto }

public enum SourceLocationKind: Hashable, Sendable {
    /// Objects in a spec bucket under a prefix template such as `events/{yyyy}/{MM}/{dd}/{HH}/`.
    case bucket(name: String, prefixTemplate: String)
    /// A local folder, for the embedded default and tests.
    case folder(path: String)
}

public struct CSVOptions: Hashable, Sendable {
    public var header: Bool
    public var delimiter: Character
    public var quote: Character
    public init(header: Bool = true, delimiter: Character = ",", quote: Character = "\"") {
        self.header = header
        self.delimiter = delimiter
        self.quote = quote
    }
}

public struct XLSXOptions: Hashable, Sendable {
    public enum Sheet: Hashable, Sendable {
        case name(String)
        /// 1-based, in the workbook's order.
        case index(Int)
    }
    public var sheet: Sheet
    /// The row that names the columns (1-based); the rows above it are not read.
    public var headerRow: Int
    public init(sheet: Sheet = .index(1), headerRow: Int = 1) {
        self.sheet = sheet
        self.headerRow = headerRow
    }
}

/// A web API read page by page. Each page's records are first written to the landing bucket (the
/// source's `kind`), then loaded as that bucket's objects are: exactly once, quarantined, replayable.
public struct APISource: Hashable, Sendable {
    public enum Pagination: Hashable, Sendable {
        /// One request.
        case none
        /// The next page is the response's `Link: <URL>; rel="next"` (RFC 8288).
        case link
        /// The response's field `from` holds the next page's token, sent as the query parameter `param`;
        /// a response without one (absent, null or empty) is the last page.
        case cursor(param: String, from: String)
        /// Pages numbered from `first` in the query parameter `param` (with `size` records each in
        /// `sizeParameter`, when given); a page without records is past the last.
        case page(param: String, first: Int, sizeParameter: String?, size: Int?)
    }

    /// Where the next run starts: the greatest value of the records' field `from` seen so far, sent
    /// as the query parameter `param` (kept in the warehouse, `sluice.api_cursors`).
    public struct Incremental: Hashable, Sendable {
        public var param: String
        public var from: String
        public init(param: String, from: String) {
            self.param = param
            self.from = from
        }
    }

    /// A header carrying a Secrets Manager secret's string (`Authorization: Bearer <secret>`).
    public struct Auth: Hashable, Sendable {
        public var secret: String
        public var header: String
        /// Written before the secret, with a space: `Bearer`, `Token`.
        public var scheme: String?
        public init(secret: String, header: String = "Authorization", scheme: String? = nil) {
            self.secret = secret
            self.header = header
            self.scheme = scheme
        }
    }

    /// `https://host/path?fixed=query`.
    public var url: String
    /// The dotted path of the records' array in a response; nil when the response is the array.
    public var records: String?
    public var pagination: Pagination
    public var incremental: Incremental?
    public var auth: Auth?
    public var location: SourceLocation

    public init(
        url: String, records: String? = nil, pagination: Pagination = .none, incremental: Incremental? = nil, auth: Auth? = nil,
        location: SourceLocation = .unknown
    ) {
        self.url = url
        self.records = records
        self.pagination = pagination
        self.incremental = incremental
        self.auth = auth
        self.location = location
    }

    /// The host the workload must reach (`api.example.com`).
    public var host: String { URLParts(url)?.host ?? "" }

    /// The scheme, host and port of an absolute URL, parsed without Foundation.
    public struct URLParts: Hashable, Sendable {
        public var scheme: String
        public var host: String
        public var port: Int
        public init?(_ text: String) {
            guard let separator = text.range(of: "://") else { return nil }
            scheme = text[..<separator.lowerBound].lowercased()
            let rest = text[separator.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard !authority.contains("@") else { return nil }
            if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
                guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { return nil }
                host = String(authority[..<colon])
                self.port = port
            } else {
                host = String(authority)
                port = scheme == "https" ? 443 : 80
            }
            guard !host.isEmpty, scheme == "https" || scheme == "http" else { return nil }
        }
    }
}

public struct PipelineSource: Hashable, Sendable {
    /// Where the objects are: for an API source, the landing bucket and prefix its pages are written to.
    public var kind: SourceLocationKind
    public var format: SourceFormat
    public var compression: Compression
    public var csv: CSVOptions?
    public var xlsx: XLSXOptions?
    public var api: APISource?
    public var location: SourceLocation
    public init(
        kind: SourceLocationKind, format: SourceFormat, compression: Compression = .auto, csv: CSVOptions? = nil,
        xlsx: XLSXOptions? = nil, api: APISource? = nil, location: SourceLocation = .unknown
    ) {
        self.api = api
        self.xlsx = xlsx
        self.kind = kind
        self.format = format
        self.compression = compression
        self.csv = csv
        self.location = location
    }

    /// The fixed part of the prefix template, before its first time placeholder: what IAM and listing can use.
    public var staticPrefix: String {
        guard case .bucket(_, let template) = kind else { return "" }
        return String(template.prefix { $0 != "{" })
    }
}

/// Value types a record's field can be validated as.
public enum FieldType: String, Sendable, CaseIterable {
    case string, integer, number, boolean, timestamp, date, uuid, email, object, array, any
}

public struct FieldRule: Hashable, Sendable {
    /// Dotted JSON path (`user.id`) or CSV column name.
    public var path: String
    public var type: FieldType
    public var required: Bool
    public var pattern: String?
    public var allowed: [String]
    /// Numbers written with another decimal (and grouping) separator: `20,65`, `1.234,56`.
    public var notation: NumberNotation?
    /// Dates and timestamps written otherwise than RFC 3339 (`dd.MM.yyyy`, `excel`).
    public var format: String?
    /// The zone of timestamps written without an offset (an IANA name: `Europe/Berlin`).
    public var timeZone: String?
    public var location: SourceLocation
    public init(
        path: String, type: FieldType = .any, required: Bool = false, pattern: String? = nil, allowed: [String] = [],
        notation: NumberNotation? = nil, format: String? = nil, timeZone: String? = nil, location: SourceLocation = .unknown
    ) {
        self.path = path
        self.type = type
        self.required = required
        self.pattern = pattern
        self.allowed = allowed
        self.notation = notation
        self.format = format
        self.timeZone = timeZone
        self.location = location
    }
}

public enum DerivationKind: String, Sendable, CaseIterable {
    /// The UTC calendar date of a timestamp.
    case date
    /// The UTC hour (0-23) of a timestamp.
    case hour
}

public struct DerivedField: Hashable, Sendable {
    public var name: String
    public var kind: DerivationKind
    public var from: String
    public var location: SourceLocation
    public init(name: String, kind: DerivationKind, from: String, location: SourceLocation = .unknown) {
        self.name = name
        self.kind = kind
        self.from = from
        self.location = location
    }
}

/// A record that matches is dropped and counted as filtered (never silently).
public struct Filter: Hashable, Sendable {
    public enum Condition: Hashable, Sendable {
        case equals(String)
        case oneOf([String])
        case matches(String)
        case exists
    }
    public var name: String
    public var path: String
    public var condition: Condition
    public var location: SourceLocation
    public init(name: String, path: String, condition: Condition, location: SourceLocation = .unknown) {
        self.name = name
        self.path = path
        self.condition = condition
        self.location = location
    }
}

public enum Transform: Hashable, Sendable {
    case trim, lower, upper
    case nullIfEmpty
    /// Value map; unmatched values pass through unless `fallback` is set.
    case map([String: String], fallback: String?)
}

/// How an upsert combines a column's values for the same key, within a batch and with the row
/// already there. NULL never replaces a value in any of them.
public enum MergeRule: String, Hashable, Sendable, CaseIterable {
    /// The newest value (the default): a `country`, a `name`.
    case last
    /// The smallest: `first_seen_at`.
    case min
    /// The largest: `last_seen_at`, a running maximum.
    case max
}

public enum Mask: String, Hashable, Sendable, CaseIterable {
    /// Keyed SHA-256 (HMAC with a secret salt), hex: joins still work, the value is gone.
    case hash
    /// Replaced by a fixed marker.
    case redact
}

public enum MappingSource: Hashable, Sendable, CustomStringConvertible {
    case path(String)
    case derived(String)
    case constant(String)
    /// The whole record, e.g. into a jsonb column.
    case record
    /// Where the row came from (`derived: object_key`), for any target.
    case lineage(Lineage)
    /// `on_update: now()`: the time the row is inserted or last changed by a load (`updated_at`).
    case writtenAt
    /// `sql: "quantity * unit_price"`: evaluated by PostgreSQL in the merge, over the target's other
    /// columns as they are staged. Written in the spec only, never taken from data.
    case expression(String)

    public var description: String {
        switch self {
        case .path(let p): return "field '\(p)'"
        case .derived(let d): return "derived field '\(d)'"
        case .constant(let c): return "constant '\(c)'"
        case .record: return "the whole record"
        case .lineage(let value): return "lineage value '\(value.rawValue)'"
        case .writtenAt: return "the time the row is written"
        case .expression(let sql): return "SQL expression '\(sql)'"
        }
    }
}

/// What every row knows of where it came from, written `derived: NAME` like a derived field.
public enum Lineage: String, Hashable, Sendable, CaseIterable {
    /// The source object's key (a folder source: its path under the folder).
    case objectKey = "object_key"
    /// The line the record starts on in its object.
    case line
    /// The `sluice.load_runs` run that loaded it.
    case runID = "run_id"
    /// When that run started (UTC).
    case loadedAt = "loaded_at"

    /// What the value is, as a field would be validated.
    public var valueType: FieldType {
        switch self {
        case .objectKey: .string
        case .line, .runID: .integer
        case .loadedAt: .timestamp
        }
    }
}

public struct Mapping: Hashable, Sendable {
    public var column: String
    public var source: MappingSource
    public var cast: PostgresType?
    public var transforms: [Transform]
    public var mask: Mask?
    /// Upsert targets only.
    public var merge: MergeRule
    public var location: SourceLocation
    /// Where the source's value is written (a SQL expression's text, for errors inside it).
    public var sourceLocation: SourceLocation
    public init(
        column: String, source: MappingSource, cast: PostgresType? = nil, transforms: [Transform] = [],
        mask: Mask? = nil, merge: MergeRule = .last, location: SourceLocation = .unknown, sourceLocation: SourceLocation = .unknown
    ) {
        self.sourceLocation = sourceLocation
        self.column = column
        self.source = source
        self.cast = cast
        self.transforms = transforms
        self.mask = mask
        self.merge = merge
        self.location = location
    }
}

public enum WriteMode: String, Sendable, CaseIterable {
    case append
    /// INSERT … ON CONFLICT (key) DO UPDATE.
    case upsert
    /// Upsert that only replaces a row with a newer version column.
    case versionedUpsert = "versioned_upsert"
}

public struct PipelineTarget: Hashable, Sendable {
    /// Qualified `schema.table`.
    public var table: String
    public var mode: WriteMode
    public var key: [String]
    public var versionColumn: String?
    public var mappings: [Mapping]
    public var location: SourceLocation
    public init(
        table: String, mode: WriteMode, key: [String] = [], versionColumn: String? = nil, mappings: [Mapping],
        location: SourceLocation = .unknown
    ) {
        self.table = table
        self.mode = mode
        self.key = key
        self.versionColumn = versionColumn
        self.mappings = mappings
        self.location = location
    }
}

public struct Quarantine: Hashable, Sendable {
    /// Rejects always go to `sluice.quarantine`; optionally also to a bucket prefix.
    public var bucket: String?
    public var prefix: String
    public init(bucket: String? = nil, prefix: String = "quarantine/") {
        self.bucket = bucket
        self.prefix = prefix
    }
}

public enum PostLoadStep: Hashable, Sendable {
    case refreshMaterializedView(String, location: SourceLocation)
    case call(String, location: SourceLocation)
}

public struct Schedule: Hashable, Sendable {
    /// `cron(…)` or `rate(…)`, as EventBridge takes it; validated by a check.
    public var expression: String
    /// False in an environment that switches the schedule off: the rule is kept, disabled.
    public var enabled: Bool
    public var location: SourceLocation
    public init(expression: String, enabled: Bool = true, location: SourceLocation = .unknown) {
        self.expression = expression
        self.enabled = enabled
        self.location = location
    }
}

public struct Alarms: Hashable, Sendable {
    public var topic: String
    /// Alarm when the function reports this many errors in five minutes.
    public var errorThreshold: Int
    /// Alarm when more than this percentage of the records read in an hour were quarantined.
    public var quarantinePercent: Double
    public init(topic: String, errorThreshold: Int = 1, quarantinePercent: Double = Alarms.standardQuarantinePercent) {
        self.topic = topic
        self.errorThreshold = errorThreshold
        self.quarantinePercent = quarantinePercent
    }

    /// 5%: a few bad rows a day stay quiet; a source whose export changed shape pages someone well
    /// before its objects reach the per-object limit (`max_rejected`, half by default) and stop loading.
    public static let standardQuarantinePercent = 5.0
}

/// How many of an object's records may be refused before the object is not loaded at all: beyond
/// it the file is not what the spec describes (another export, a changed format), not a few bad rows.
public enum RejectLimit: Hashable, Sendable {
    /// At most this many records of one object.
    case count(Int)
    /// At most this share (0...1) of one object's records.
    case share(Double)

    /// Half: a file with a bad row or two loads; one whose records are mostly refused does not.
    public static let standard = RejectLimit.share(0.5)
}

public struct Pipeline: Named {
    public var name: String
    /// The function or host that runs it.
    public var workload: String
    public var schedule: Schedule?
    public var source: PipelineSource
    public var fields: [FieldRule]
    public var derived: [DerivedField]
    public var filters: [Filter]
    public var dedupeKey: [String]
    public var targets: [PipelineTarget]
    public var quarantine: Quarantine
    public var postLoad: [PostLoadStep]
    public var alarms: Alarms?
    public var maxRejected: RejectLimit
    public var location: SourceLocation
    public init(
        name: String, workload: String, schedule: Schedule? = nil, source: PipelineSource, fields: [FieldRule] = [],
        derived: [DerivedField] = [], filters: [Filter] = [], dedupeKey: [String] = [], targets: [PipelineTarget],
        quarantine: Quarantine = .init(), postLoad: [PostLoadStep] = [], alarms: Alarms? = nil,
        maxRejected: RejectLimit = .standard, location: SourceLocation = .unknown
    ) {
        self.maxRejected = maxRejected
        self.name = name
        self.workload = workload
        self.schedule = schedule
        self.source = source
        self.fields = fields
        self.derived = derived
        self.filters = filters
        self.dedupeKey = dedupeKey
        self.targets = targets
        self.quarantine = quarantine
        self.postLoad = postLoad
        self.alarms = alarms
        self.location = location
    }

    public var sourceBucket: String? {
        if case .bucket(let name, _) = source.kind { return name }
        return nil
    }
}

/// The environment variables naming an API source's credential: in the function, the deployed
/// secret (`SLUICE_API_SECRET_BANK_API`, its ARN, read from Secrets Manager); on a workstation or in
/// CI, its string itself (`SLUICE_API_CREDENTIAL_BANK_API`), as `sluice run` takes it.
public enum APISecretVariable {
    public static func name(_ secret: String) -> String { "SLUICE_API_SECRET_" + normalized(secret) }
    public static func credential(_ secret: String) -> String { "SLUICE_API_CREDENTIAL_" + normalized(secret) }

    private static func normalized(_ secret: String) -> String {
        String(secret.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }
}
