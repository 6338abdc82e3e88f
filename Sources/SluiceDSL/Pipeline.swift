/// An EventBridge schedule: `.rate(30, .minutes)`, `.cron("0 4 * * ? *")`.
public struct Schedule: Sendable {
    public enum Unit: String, Sendable { case minutes, hours, days }

    let expression: String

    /// `rate(1 minute)` is singular, as EventBridge requires.
    public static func rate(_ value: Int, _ unit: Unit) -> Schedule {
        Schedule(expression: "rate(\(value) \(value == 1 ? String(unit.rawValue.dropLast()) : unit.rawValue))")
    }

    /// Six fields: minutes, hours, day of month, month, day of week, year.
    public static func cron(_ fields: String) -> Schedule { Schedule(expression: "cron(\(fields))") }

    /// Any expression, checked by Sluice with EventBridge's rules (SL501).
    public static func expression(_ text: String) -> Schedule { Schedule(expression: text) }

    /// In an environment's `PipelineSettings` only: the schedule's rule is kept, disabled.
    public static let off = Schedule(expression: "off")
}

/// How a source's objects are read.
public struct SourceFormat: Sendable {
    let word: String
    let csvOptions: [(String, String?)]?
    var xlsxOptions: [(String, SpecNode.Kind?)]? = nil

    public static let jsonl = SourceFormat(word: "jsonl", csvOptions: nil)
    public static let jsonArray = SourceFormat(word: "json_array", csvOptions: nil)
    /// CSV with a header line, `,` and `"`.
    public static let csv = SourceFormat(word: "csv", csvOptions: nil)

    public static func csv(header: Bool? = nil, delimiter: Character? = nil, quote: Character? = nil) -> SourceFormat {
        SourceFormat(
            word: "csv",
            csvOptions: [
                ("header", header.map { $0 ? "true" : "false" }), ("delimiter", delimiter.map { String($0) }),
                ("quote", quote.map { String($0) }),
            ])
    }

    /// An Excel workbook's first sheet, its first row naming the columns.
    public static let xlsx = SourceFormat(word: "xlsx", csvOptions: nil)

    /// A sheet by name, or by its position from 1; the row naming the columns.
    public static func xlsx(sheet: String? = nil, sheetIndex: Int? = nil, headerRow: Int? = nil) -> SourceFormat {
        var format = SourceFormat(word: "xlsx", csvOptions: nil)
        format.xlsxOptions = [
            ("sheet", sheet.map { .scalar($0, plain: false) } ?? sheetIndex.map { .scalar(String($0), plain: true) }),
            ("header_row", headerRow.map { .scalar(String($0), plain: true) }),
        ]
        return format
    }

    func pairs(_ at: DeclarationSite) -> [(String, SpecNode?)] {
        var pairs: [(String, SpecNode?)] = [("format", at.string(word))]
        if let xlsxOptions {
            pairs.append(("xlsx", .mapping(at, xlsxOptions.map { key, kind in (key, kind.map { SpecNode(kind: $0, site: at) }) })))
        }
        if let csvOptions {
            pairs.append(
                (
                    "csv",
                    .mapping(
                        at,
                        csvOptions.map { key, value in
                            (key, value.map { key == "header" ? .plain($0, at: at) : .string($0, at: at) })
                        })
                ))
        }
        return pairs
    }
}

/// `.auto` (the default) picks gzip by the `.gz` suffix. (Not `.none`, which Swift would read as "not given".)
public enum Compression: String, Sendable { case uncompressed = "none", gzip, auto }

/// A pipeline's source: objects in a bucket under a prefix template (`events/{yyyy}/{MM}/{dd}/{HH}/`).
public struct BucketSource: PipelinePart {
    public let contributions: [Contribution]

    public init(
        _ bucket: String, prefix: String? = nil, format: SourceFormat, compression: Compression? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .set(
                "source",
                to: .mapping(
                    at,
                    [("bucket", at.string(bucket)), ("prefix", at.string(prefix))]
                        + format.pairs(at) + [("compression", at.word(compression))]))
        ]
    }
}

/// How an API's pages follow each other.
public enum APIPagination: Sendable {
    /// One request.
    case none
    /// The `Link: <…>; rel="next"` header.
    case link
    /// The next page's token at `from` in a response, sent as `param`.
    case cursor(param: String, from: String)
    /// Numbered pages in `param` (default `page`) from `first` (default 1), `size` records each in `sizeParam`.
    case page(param: String? = nil, first: Int? = nil, sizeParam: String? = nil, size: Int? = nil)
}

/// The records' field whose greatest value the next run starts from, sent as `param`.
public struct APIIncremental: Sendable {
    let param: String
    let from: String
    public init(param: String, from: String) {
        self.param = param
        self.from = from
    }
}

/// A header carrying a secret's string: `APIAuth(secret: "bank-api", scheme: "Bearer")`.
public struct APIAuth: Sendable {
    let secret: String
    let header: String?
    let scheme: String?
    public init(secret: String, header: String? = nil, scheme: String? = nil) {
        self.secret = secret
        self.header = header
        self.scheme = scheme
    }
}

/// A pipeline's source: a web API read page by page, each page's records landed in `landing`'s
/// bucket under `prefix` first, then loaded from there.
public struct APISource: PipelinePart {
    public let contributions: [Contribution]

    public init(
        _ url: String, records: String? = nil, pagination: APIPagination? = nil, incremental: APIIncremental? = nil, auth: APIAuth? = nil,
        landing bucket: String, prefix: String? = nil, file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var api: [(String, SpecNode?)] = [("url", at.string(url)), ("records", at.string(records))]
        switch pagination {
        case nil: break
        case .none?: api.append(("pagination", at.string("none")))
        case .link?: api.append(("pagination", at.string("link")))
        case .cursor(let param, let from)?:
            api += [("pagination", at.string("cursor")), ("cursor", .mapping(at, [("param", at.string(param)), ("from", at.string(from))]))]
        case .page(let param, let first, let sizeParam, let size)?:
            api.append(("pagination", at.string("page")))
            if param != nil || first != nil || sizeParam != nil || size != nil {
                api.append(
                    (
                        "page",
                        .mapping(
                            at, [("param", at.string(param)), ("first", at.int(first)), ("size_param", at.string(sizeParam)), ("size", at.int(size))])
                    ))
            }
        }
        if let incremental {
            api.append(("incremental", .mapping(at, [("param", at.string(incremental.param)), ("from", at.string(incremental.from))])))
        }
        if let auth {
            api.append(
                ("auth", .mapping(at, [("secret", at.string(auth.secret)), ("header", at.string(auth.header)), ("scheme", at.string(auth.scheme))])))
        }
        contributions = [
            .set(
                "source",
                to: .mapping(
                    at, [("api", .mapping(at, api)), ("landing", .mapping(at, [("bucket", at.string(bucket)), ("prefix", at.string(prefix))]))]))
        ]
    }
}

/// A pipeline's source: a local folder (embedded defaults, tests).
public struct FolderSource: PipelinePart {
    public let contributions: [Contribution]

    public init(
        _ folder: String, format: SourceFormat, compression: Compression? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .set(
                "source",
                to: .mapping(
                    at,
                    [("folder", at.string(folder))] + format.pairs(at)
                        + [("compression", at.word(compression))]))
        ]
    }
}

public enum FieldType: String, Sendable {
    case string, integer, number, boolean, timestamp, date, uuid, email, object, array, any
}

/// A rule a record's field must meet, or the record is quarantined with the reason.
public struct Field: PipelinePart {
    public let contributions: [Contribution]

    /// `path` is a dotted JSON path (`user.id`) or a CSV column name; `allowed` is YAML's `enum`.
    /// `decimal`/`group` read numbers written `1.234,56`; `format` reads dates and times
    /// (`dd.MM.yyyy`, `excel`) and `timeZone` places timestamps written without an offset.
    public init(
        _ path: String, _ type: FieldType? = nil, required: Bool? = nil, pattern: String? = nil, allowed: [String]? = nil,
        decimal: String? = nil, group: String? = nil, format: String? = nil, timeZone: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .set(
                "fields", path,
                to: .mapping(
                    at,
                    [
                        ("type", at.word(type)), ("required", at.bool(required)), ("pattern", at.string(pattern)), ("enum", at.strings(allowed)),
                        ("decimal", at.string(decimal)), ("group", at.string(group)), ("format", at.string(format)),
                        ("time_zone", at.string(timeZone)),
                    ]))
        ]
    }
}

/// A field computed from another (UTC): `Derive("event_date", .date(of: "event_timestamp"))`.
public struct Derive: PipelinePart {
    public enum Derivation: Sendable {
        case date(of: String)
        case hour(of: String)
    }

    public let contributions: [Contribution]

    public init(_ name: String, _ derivation: Derivation, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let pair: (String, SpecNode?)
        switch derivation {
        case .date(let field): pair = ("date", at.string(field))
        case .hour(let field): pair = ("hour", at.string(field))
        }
        contributions = [.set("derive", name, to: .mapping(at, [pair]))]
    }
}

/// Drops matching records, counted as filtered: `Filter("test traffic", field: "context.is_test", .equals("true"))`.
public struct Filter: PipelinePart {
    public enum Condition: Sendable {
        case equals(String)
        /// YAML's `in`.
        case oneOf([String])
        case matches(String)
        case exists
    }

    public let contributions: [Contribution]

    public init(
        _ name: String? = nil, field: String, _ condition: Condition,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let pair: (String, SpecNode?)
        switch condition {
        case .equals(let value): pair = ("equals", at.string(value))
        case .oneOf(let values): pair = ("in", at.strings(values))
        case .matches(let pattern): pair = ("matches", at.string(pattern))
        case .exists: pair = ("exists", at.bool(true))
        }
        contributions = [.append("filters", item: .mapping(at, [("name", at.string(name)), ("field", at.string(field)), pair]))]
    }
}

/// Records repeating this key (field paths) are counted as duplicates and loaded once.
public struct DedupeKey: PipelinePart {
    public let contributions: [Contribution]

    public init(_ paths: String..., file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = paths.map { .append("dedupe_key", item: .string($0, at: at)) }
    }
}

/// How a target table is written.
public struct WriteMode: Sendable {
    let word: String?
    let key: [String]?
    let versionColumn: String?

    public static let append = WriteMode(word: nil, key: nil, versionColumn: nil)
    /// Append; the key's unique constraint catches records sent again.
    public static func append(key: [String]) -> WriteMode { WriteMode(word: nil, key: key, versionColumn: nil) }
    /// INSERT … ON CONFLICT (key) DO UPDATE.
    public static func upsert(key: [String]) -> WriteMode { WriteMode(word: "upsert", key: key, versionColumn: nil) }
    /// An upsert that replaces a row only with a newer `versionColumn`.
    public static func versionedUpsert(key: [String], versionColumn: String) -> WriteMode {
        WriteMode(word: "versioned_upsert", key: key, versionColumn: versionColumn)
    }
}

public enum Transform: String, Sendable { case trim, lower, upper, nullIfEmpty = "null_if_empty" }
public enum Mask: String, Sendable { case hash, redact }
/// How values for the same key combine in an upsert: the newest (default), the smallest, the largest.
public enum Merge: String, Sendable { case last, min, max }

/// Where a column's value comes from. A string literal is a field path.
public enum ColumnSource: Sendable, ExpressibleByStringLiteral {
    case field(String)
    case derived(String)
    case constant(String)
    /// The whole record, for a jsonb column.
    case record
    /// `on_update: now()`: the time a load inserts or changes the row (`updated_at`).
    case writtenAt
    /// `sql: "quantity * unit_price"`: evaluated by PostgreSQL in the merge over the target's other columns.
    case sql(String)

    public init(stringLiteral value: String) { self = .field(value) }
}

public protocol TargetPart: Sendable { var contributions: [Contribution] { get } }
public typealias TargetBuilder = PartsBuilder<any TargetPart>

/// One column of a target: `Assign("email_hash", "user.email", transform: [.trim, .lower], mask: .hash)`.
public struct Assign: TargetPart {
    public let contributions: [Contribution]

    public init(
        _ column: String, _ source: ColumnSource, transform: [Transform]? = nil, map: [String: String]? = nil,
        mapDefault: String? = nil, cast: PostgresType? = nil, mask: Mask? = nil, merge: Merge? = nil,
        file: String = #filePath, line: Int = #line, column columnNumber: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: columnNumber)
        let sourcePair: (String, SpecNode?)
        switch source {
        case .field(let path): sourcePair = ("from", at.string(path))
        case .derived(let name): sourcePair = ("derived", at.string(name))
        case .constant(let value): sourcePair = ("const", at.string(value))
        case .record: sourcePair = ("record", at.bool(true))
        case .writtenAt: sourcePair = ("on_update", at.string("now()"))
        case .sql(let expression): sourcePair = ("sql", at.string(expression))
        }
        let options: [(String, SpecNode?)] = [
            ("transform", at.words(transform)), ("map", at.stringMap(map)), ("map_default", at.string(mapDefault)),
            ("cast", at.string(cast?.description)), ("mask", at.word(mask)), ("merge", at.word(merge)),
        ]
        // A bare field path is YAML's shorthand `column: path`.
        if case .field(let path) = source, options.allSatisfy({ $0.1 == nil }) {
            contributions = [.set("columns", column, to: .string(path, at: at))]
        } else {
            contributions = [.set("columns", column, to: .mapping(at, [sourcePair] + options))]
        }
    }
}

/// A table the pipeline loads.
public struct Target: PipelinePart {
    public let contributions: [Contribution]

    public init(
        _ table: String, mode: WriteMode = .append,
        file: String = #filePath, line: Int = #line, column: Int = #column,
        @TargetBuilder _ columns: () -> [any TargetPart]
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var target = SpecNode.mapping(
            at,
            [
                ("table", at.string(table)), ("mode", at.string(mode.word)), ("key", at.strings(mode.key)),
                ("version_column", at.string(mode.versionColumn)),
            ])
        target.add(columns().flatMap(\.contributions))
        contributions = [.append("targets", item: target)]
    }
}

/// Where refused records are also written, besides `sluice.quarantine` (prefix `quarantine/` unless given).
public struct Quarantine: PipelinePart {
    public let contributions: [Contribution]

    public init(bucket: String? = nil, prefix: String? = nil, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.set("quarantine", to: .mapping(at, [("bucket", at.string(bucket)), ("prefix", at.string(prefix))]))]
    }
}

/// After the last object: refresh a materialized view.
public struct Refresh: PipelinePart {
    public let contributions: [Contribution]

    public init(_ materializedView: String, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("post_load", item: .mapping(at, [("refresh", at.string(materializedView))]))]
    }
}

/// After the last object: call a procedure.
public struct Call: PipelinePart {
    public let contributions: [Contribution]

    public init(_ procedure: String, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.append("post_load", item: .mapping(at, [("call", at.string(procedure))]))]
    }
}

/// An errors alarm on the workload, sent to a topic.
public struct Alarms: PipelinePart {
    public let contributions: [Contribution]

    /// `quarantinePercent`: 2.5 for `quarantine_rate: 2.5%`.
    public init(
        topic: String, errorThreshold: Int? = nil, quarantinePercent: Double? = nil, file: String = #filePath, line: Int = #line,
        column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let rate = quarantinePercent.map { percent -> SpecNode in
            .plain((percent.rounded() == percent ? String(Int(percent)) : String(percent)) + "%", at: at)
        }
        contributions = [
            .set(
                "alarms",
                to: .mapping(at, [("topic", at.string(topic)), ("error_threshold", at.int(errorThreshold)), ("quarantine_rate", rate)]))
        ]
    }
}

/// How many of an object's records may be refused before the object is not loaded:
/// `MaxRejected(.records(25))`, `MaxRejected(.percent(10))`.
public struct MaxRejected: PipelinePart {
    public struct Limit: Sendable {
        let text: String
        public static func records(_ count: Int) -> Limit { Limit(text: "\(count)") }
        public static func percent(_ share: Int) -> Limit { Limit(text: "\(share)%") }
    }

    public let contributions: [Contribution]

    public init(_ limit: Limit, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.set("max_rejected", to: .plain(limit.text, at: at))]
    }
}

/// `pipelines:` — a load from a bucket or folder into the warehouse, run by a workload.
///
/// ```swift
/// Pipeline("clickstream", workload: "etl", schedule: .rate(30, .minutes)) {
///     BucketSource("raw", prefix: "events/{yyyy}/{MM}/{dd}/{HH}/", format: .jsonl)
///     Field("event_id", .uuid, required: true)
///     Target("fact_events") {
///         Assign("event_id", "event_id")
///     }
/// }
/// ```
public struct Pipeline: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, workload: String, schedule: Schedule? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column,
        @PipelineBuilder _ content: () -> [any PipelinePart]
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var pipeline = SpecNode.mapping(
            at,
            [
                ("name", at.string(name)), ("workload", at.string(workload)),
                ("schedule", at.string(schedule?.expression)),
            ])
        pipeline.add(content().flatMap(\.contributions))
        contributions = [.append("pipelines", item: pipeline)]
    }
}
