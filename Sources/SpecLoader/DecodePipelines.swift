import Foundation
import SluiceCore
import YAML

extension SpecDecoder {
    /// Placeholders a prefix template may use, expanded hour by hour in UTC.
    static let timePlaceholders = ["yyyy", "MM", "dd", "HH"]

    func decodePipeline(_ node: YAMLNode) -> Pipeline? {
        guard
            let r = MapReader(node, SpecSchema.pipeline, sink: sink)
        else { return nil }
        let name = self.name(r, kind: "pipeline")
        let workload = r.string("workload", required: true)
        if let workload { refer("workload", workload, at: r.location(of: "workload")) }
        let schedule = r.string("schedule").map { Schedule(expression: $0, location: r.location(of: "schedule")) }
        let source = r.value("source", required: true).flatMap(decodeSource)
        let fields = r.value("fields").map(decodeFields) ?? []
        let derived = r.value("derive").map(decodeDerived) ?? []
        let filters = r.list("filters").compactMap(decodeFilter)
        let dedupe = r.strings("dedupe_key").map(\.value)
        let derivedNames = Set(derived.map(\.name))
        let targets = r.list("targets", required: true).compactMap { decodeTarget($0, derivedNames: derivedNames) }
        var quarantine = Quarantine()
        if let q = r.value("quarantine"), let qr = MapReader(q, SpecSchema.quarantine, sink: sink) {
            let bucket = qr.string("bucket")
            if let bucket { refer("bucket", bucket, at: qr.location(of: "bucket")) }
            quarantine = Quarantine(bucket: bucket, prefix: qr.string("prefix") ?? "quarantine/")
        }
        let postLoad: [PostLoadStep] = r.list("post_load").compactMap { node in
            guard let p = MapReader(node, SpecSchema.postLoadStep, sink: sink) else { return nil }
            if let view = p.string("refresh") {
                return .refreshMaterializedView(view, location: p.location(of: "refresh"))
            }
            if let procedure = p.string("call") { return .call(procedure, location: p.location(of: "call")) }
            sink.add(LoaderDiagnostics.invalid("a post-load step is 'refresh: MATERIALIZED_VIEW' or 'call: PROCEDURE'", at: p.location))
            return nil
        }
        var alarms: Alarms?
        if let a = r.value("alarms"), let ar = MapReader(a, SpecSchema.alarms, sink: sink),
            let topic = ar.string("topic", required: true)
        {
            refer("topic", topic, at: ar.location(of: "topic"))
            var percent = Alarms.standardQuarantinePercent
            if let text = ar.string("quarantine_rate") {
                if text.hasSuffix("%"), let value = Double(text.dropLast()), value > 0, value <= 100 {
                    percent = value
                } else {
                    sink.add(
                        LoaderDiagnostics.invalid(
                            "quarantine_rate is a share of the records read, above 0% and at most 100% (5%), not '\(text)'",
                            at: ar.location(of: "quarantine_rate")))
                }
            }
            alarms = Alarms(topic: topic, errorThreshold: ar.int("error_threshold", in: 1...100000) ?? 1, quarantinePercent: percent)
        }
        let maxRejected = r.string("max_rejected").flatMap { decodeRejectLimit($0, at: r.location(of: "max_rejected")) } ?? .standard
        guard let name, let workload, let source else { return nil }
        return Pipeline(
            name: name.value, workload: workload, schedule: schedule, source: source, fields: fields, derived: derived,
            filters: filters, dedupeKey: dedupe, targets: targets, quarantine: quarantine, postLoad: postLoad, alarms: alarms,
            maxRejected: maxRejected, location: r.location)
    }

    /// `25` (records of one object) or `10%` (of its records).
    private func decodeRejectLimit(_ text: String, at location: SourceLocation) -> RejectLimit? {
        if text.hasSuffix("%"), let percent = Double(text.dropLast()), (0...100).contains(percent) { return .share(percent / 100) }
        if let count = Int(text), count >= 0 { return .count(count) }
        sink.add(
            LoaderDiagnostics.invalid("max_rejected is a number of records (25) or a share of an object's records (10%), not '\(text)'", at: location)
        )
        return nil
    }

    private func decodeSource(_ node: YAMLNode) -> PipelineSource? {
        guard
            let r = MapReader(node, SpecSchema.pipelineSource, sink: sink)
        else { return nil }
        let api = r.value("api").flatMap(decodeAPI)
        let format = r.word("format", as: SourceFormat.self, required: !r.has("api")) ?? (r.has("api") ? .jsonArray : nil)
        let compression = r.word("compression", as: Compression.self) ?? .auto
        var kind: SourceLocationKind?
        if r.has("api") {
            // Each page's records are landed as a JSON array, byte for byte as the API sent them.
            if r.has("format"), format != .jsonArray {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "an API source's pages are landed as JSON arrays: its format is json_array (or leave it out)", at: r.location(of: "format")))
            }
            if r.has("compression") {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "an API source lands its pages uncompressed; leave out compression", at: r.keyLocation(of: "compression")))
            }
            kind = r.value("landing", required: true).flatMap(decodeLanding)
            for other in ["bucket", "folder", "prefix"] where r.has(other) {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "an API source's pages are written to its landing bucket and read from there: '\(other)' goes in 'landing'",
                        at: r.keyLocation(of: other)))
            }
        } else {
            if r.has("landing") {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "'landing' is where an API source's pages are written; this source reads no API", at: r.keyLocation(of: "landing")))
            }
            if let bucket = r.string("bucket") {
                refer("bucket", bucket, at: r.location(of: "bucket"))
                let prefix = r.string("prefix") ?? ""
                validatePrefixTemplate(prefix, at: r.location(of: "prefix"))
                kind = .bucket(name: bucket, prefixTemplate: prefix)
                if r.has("folder") {
                    sink.add(LoaderDiagnostics.invalid("a source reads a bucket or a folder, not both", at: r.keyLocation(of: "folder")))
                }
            } else if let folder = r.string("folder") {
                kind = .folder(path: folder)
            } else {
                sink.add(LoaderDiagnostics.missingKey("bucket", in: "pipeline source (or 'folder', or 'api')", at: r.location))
            }
        }
        var csv: CSVOptions?
        if let c = r.value("csv"), let cr = MapReader(c, SpecSchema.csvOptions, sink: sink) {
            func character(_ key: String, _ fallback: Character) -> Character {
                guard let text = cr.string(key) else { return fallback }
                let decoded = text == "\\t" ? "\t" : text
                guard decoded.count == 1, let char = decoded.first else {
                    sink.add(LoaderDiagnostics.invalid("'\(key)' must be a single character", at: cr.location(of: key)))
                    return fallback
                }
                return char
            }
            csv = CSVOptions(header: cr.bool("header") ?? true, delimiter: character("delimiter", ","), quote: character("quote", "\""))
        }
        if format == .csv && csv == nil { csv = CSVOptions() }
        if format != .csv && r.has("csv"), format != nil {
            sink.add(LoaderDiagnostics.invalid("'csv' options apply only to format: csv", at: r.keyLocation(of: "csv")))
        }
        var xlsx: XLSXOptions?
        if let x = r.value("xlsx"), let xr = MapReader(x, SpecSchema.xlsxOptions, sink: sink) {
            var sheet = XLSXOptions.Sheet.index(1)
            if let text = xr.string("sheet") {
                if let index = Int(text), xr.value("sheet")?.isPlainScalar == true {
                    if index >= 1 {
                        sheet = .index(index)
                    } else {
                        sink.add(LoaderDiagnostics.invalid("a sheet's position counts from 1", at: xr.location(of: "sheet")))
                    }
                } else {
                    sheet = .name(text)
                }
            }
            xlsx = XLSXOptions(sheet: sheet, headerRow: xr.int("header_row", in: 1...1_048_576) ?? 1)
        }
        if format == .xlsx {
            if xlsx == nil { xlsx = XLSXOptions() }
            // A workbook is a zip already: there is nothing to decompress.
            if compression == .gzip {
                sink.add(
                    LoaderDiagnostics.invalid("an xlsx workbook is compressed already; leave out compression", at: r.location(of: "compression")))
            }
        } else if r.has("xlsx"), format != nil {
            sink.add(LoaderDiagnostics.invalid("'xlsx' options apply only to format: xlsx", at: r.keyLocation(of: "xlsx")))
        }
        guard let format, let kind else { return nil }
        if r.has("api") && api == nil { return nil }
        return PipelineSource(
            kind: kind, format: format, compression: format == .xlsx || api != nil ? .none : compression, csv: csv, xlsx: xlsx, api: api,
            location: r.location)
    }

    /// `landing: { bucket, prefix }`: a fixed folder, under which Sluice lays out the fetched pages.
    private func decodeLanding(_ node: YAMLNode) -> SourceLocationKind? {
        guard let r = MapReader(node, SpecSchema.apiLanding, sink: sink), let bucket = r.string("bucket", required: true) else { return nil }
        refer("bucket", bucket, at: r.location(of: "bucket"))
        let prefix = r.string("prefix") ?? ""
        if prefix.contains("{") || (!prefix.isEmpty && !prefix.hasSuffix("/")) {
            sink.add(
                LoaderDiagnostics.invalid(
                    "a landing prefix is a fixed folder ending in '/' (`bank/`): Sluice lays out the pages under it by the time they were fetched",
                    at: r.location(of: "prefix")))
        }
        return .bucket(name: bucket, prefixTemplate: prefix)
    }

    /// `api: { url, records, pagination, cursor | page, incremental, auth }`.
    private func decodeAPI(_ node: YAMLNode) -> APISource? {
        guard let r = MapReader(node, SpecSchema.apiSource, sink: sink), let url = r.string("url", required: true) else { return nil }
        var valid = true
        func refuse(_ message: String, at location: SourceLocation) {
            sink.add(LoaderDiagnostics.invalid(message, at: location))
            valid = false
        }
        let parts = APISource.URLParts(url)
        if parts == nil {
            refuse(
                "'\(url)' is not an absolute http(s) URL with a host (and no user:password@: credentials belong in auth)", at: r.location(of: "url"))
        } else if parts?.scheme != "https" {
            refuse("an API is read over https: its records and the credentials cross the internet", at: r.location(of: "url"))
        }
        if url.contains("#") || url.contains(" ") { refuse("an API URL has no fragment and no spaces (write %20)", at: r.location(of: "url")) }
        let query =
            url.split(separator: "?", maxSplits: 1).dropFirst().first.map { $0.split(separator: "&").map { String($0.prefix { $0 != "=" }) } } ?? []
        func path(_ reader: MapReader, _ key: String) -> String? {
            guard let text = reader.string(key, required: true) else { return nil }
            if text.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                refuse("'\(text)' is a dotted path of a response's keys (`meta.next_cursor`)", at: reader.location(of: key))
                return nil
            }
            return text
        }
        func parameter(_ reader: MapReader, _ key: String, default fallback: String? = nil) -> String? {
            guard let name = reader.string(key, required: fallback == nil) ?? fallback else { return nil }
            if query.contains(name) {
                refuse("the URL's query already sets '\(name)', which Sluice sets on each request", at: reader.location(of: key))
            }
            return name
        }
        var records: String?
        if r.has("records") { records = path(r, "records") }
        let style = r.word("pagination", required: false) ?? "none"
        var pagination = APISource.Pagination.none
        for (key, needed) in [("cursor", "cursor"), ("page", "page")] where r.has(key) && style != needed {
            refuse("'\(key)' settings apply to pagination: \(needed)", at: r.keyLocation(of: key))
        }
        switch style {
        case "none": pagination = .none
        case "link": pagination = .link
        case "cursor":
            guard let c = r.value("cursor", required: true), let cr = MapReader(c, SpecSchema.apiCursor, sink: sink),
                let param = parameter(cr, "param"), let from = path(cr, "from")
            else { return nil }
            pagination = .cursor(param: param, from: from)
        case "page":
            var param = "page", first = 1, sizeParameter: String?, size: Int?
            if let p = r.value("page"), let pr = MapReader(p, SpecSchema.apiPages, sink: sink) {
                param = parameter(pr, "param", default: "page") ?? "page"
                first = pr.int("first", in: 0...1) ?? 1
                if pr.has("size_param") { sizeParameter = parameter(pr, "size_param") }
                size = pr.int("size", in: 1...100_000)
                if (sizeParameter == nil) != (size == nil) {
                    refuse("size_param and size go together: the parameter and the records per page it asks for", at: pr.location)
                }
            } else if query.contains("page") {
                refuse("the URL's query already sets 'page', which Sluice sets on each request", at: r.location(of: "url"))
            }
            pagination = .page(param: param, first: first, sizeParameter: sizeParameter, size: size)
        default:
            refuse("pagination is none, link, cursor or page, not '\(style)'", at: r.location(of: "pagination"))
        }
        var incremental: APISource.Incremental?
        if let i = r.value("incremental"), let ir = MapReader(i, SpecSchema.apiIncremental, sink: sink), let param = parameter(ir, "param"),
            let from = path(ir, "from")
        {
            incremental = .init(param: param, from: from)
        }
        var auth: APISource.Auth?
        if let a = r.value("auth"), let ar = MapReader(a, SpecSchema.apiAuth, sink: sink), let secret = ar.string("secret", required: true) {
            refer("secret", secret, at: ar.location(of: "secret"))
            let header = ar.string("header") ?? "Authorization"
            if header.isEmpty || !header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) {
                refuse("'\(header)' is not an HTTP header name", at: ar.location(of: "header"))
            }
            auth = .init(secret: secret, header: header, scheme: ar.string("scheme"))
        }
        if case .cursor = pagination, records == nil, !r.has("records") {
            refuse("a cursor is read from a response object: say where its records are in it (records: data)", at: r.keyLocation(of: "pagination"))
        }
        guard valid else { return nil }
        return APISource(url: url, records: records, pagination: pagination, incremental: incremental, auth: auth, location: r.location)
    }

    /// `{yyyy}/{MM}/{dd}/{HH}` only, each at most once, coarse to fine, so an hour window expands to one prefix per hour.
    private func validatePrefixTemplate(_ template: String, at location: SourceLocation) {
        var used: [String] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                sink.add(LoaderDiagnostics.invalid("prefix template '\(template)' has an unclosed '{'", at: location))
                return
            }
            let placeholder = String(rest[rest.index(after: open)..<close])
            guard Self.timePlaceholders.contains(placeholder) else {
                var message = "unknown placeholder '{\(placeholder)}' in prefix template; use {yyyy}, {MM}, {dd}, {HH}"
                if let s = Suggestion.closest(to: placeholder, among: Self.timePlaceholders) { message += "; did you mean '{\(s)}'?" }
                sink.add(LoaderDiagnostics.invalid(message, at: location))
                return
            }
            used.append(placeholder)
            rest = rest[rest.index(after: close)...]
        }
        let order = used.compactMap { Self.timePlaceholders.firstIndex(of: $0) }
        if order != order.sorted() || Set(order).count != order.count || order != Array(0..<order.count) {
            sink.add(
                LoaderDiagnostics.invalid(
                    "prefix template placeholders must run {yyyy}, {MM}, {dd}, {HH} in that order, each once, without gaps",
                    at: location))
        }
    }

    private func decodeFields(_ node: YAMLNode) -> [FieldRule] {
        guard let pairs = node.mapping else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a mapping of field paths to rules", found: node, at: node.location))
            return []
        }
        return pairs.compactMap { pair in
            guard let path = pair.key.scalar else { return nil }
            guard let r = MapReader(pair.value, SpecSchema.field, context: "field '\(path)'", sink: sink)
            else { return nil }
            let pattern = r.string("pattern")
            if let pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
                sink.add(LoaderDiagnostics.invalid("pattern '\(pattern)' is not a valid regular expression", at: r.location(of: "pattern")))
            }
            let type = r.word("type", as: FieldType.self) ?? .any
            return FieldRule(
                path: path, type: type, required: r.bool("required") ?? false, pattern: pattern, allowed: r.strings("enum").map(\.value),
                notation: decodeNotation(r, type: type), format: decodeFormat(r, type: type), timeZone: decodeTimeZone(r, type: type),
                location: pair.key.location)
        }
    }

    /// `decimal` and `group`, for numbers only: one character each, different, neither a digit.
    private func decodeNotation(_ r: MapReader, type: FieldType) -> NumberNotation? {
        guard r.has("decimal") || r.has("group") else { return nil }
        guard type == .number || type == .integer else {
            let key = r.has("decimal") ? "decimal" : "group"
            sink.add(
                LoaderDiagnostics.invalid(
                    "'\(key)' reads numbers: it belongs to an integer or number field, not \(type.rawValue)", at: r.keyLocation(of: key)))
            return nil
        }
        var valid = true
        func character(_ key: String) -> Character? {
            guard let text = r.string(key) else { return nil }
            guard text.count == 1, let character = text.first, !character.isNumber, character != "-", character != "+" else {
                sink.add(LoaderDiagnostics.invalid("'\(key)' is one character that is not a digit or a sign, not '\(text)'", at: r.location(of: key)))
                valid = false
                return nil
            }
            return character
        }
        let decimal = character("decimal"), group = character("group")
        guard valid else { return nil }
        let notation = NumberNotation(decimal: decimal ?? ".", group: group)
        if notation.group == notation.decimal {
            sink.add(LoaderDiagnostics.invalid("the decimal and group separators must differ", at: r.location(of: "group")))
            return nil
        }
        return notation
    }

    /// `format`, for dates and timestamps: a pattern checked letter by letter, or `excel`.
    private func decodeFormat(_ r: MapReader, type: FieldType) -> String? {
        guard let text = r.string("format") else { return nil }
        guard type == .date || type == .timestamp else {
            sink.add(
                LoaderDiagnostics.invalid(
                    "'format' reads dates and times: it belongs to a date or timestamp field, not \(type.rawValue)", at: r.keyLocation(of: "format")))
            return nil
        }
        do {
            _ = try DateTimePattern(text)
        } catch {
            // At the offending letter: the scalar's column, past its opening quote when quoted.
            var location = r.location(of: "format")
            let quoted = !(r.value("format")?.isPlainScalar ?? true)
            location.column += error.offset + (quoted ? 1 : 0)
            sink.add(LoaderDiagnostics.invalid("format '\(text)': \(error.message)", at: location))
            return nil
        }
        if type == .timestamp, !r.has("time_zone") {
            sink.add(
                LoaderDiagnostics.invalid(
                    "a timestamp read with a format has no offset to say its zone: give its time_zone (UTC, Europe/Berlin)",
                    at: r.keyLocation(of: "format")))
        }
        return text
    }

    private func decodeTimeZone(_ r: MapReader, type: FieldType) -> String? {
        guard let name = r.string("time_zone") else { return nil }
        guard type == .timestamp else {
            sink.add(
                LoaderDiagnostics.invalid(
                    "'time_zone' places timestamps: it belongs to a timestamp field, not \(type.rawValue)", at: r.keyLocation(of: "time_zone")))
            return nil
        }
        guard TimeZone(identifier: name) != nil else {
            sink.add(
                LoaderDiagnostics.invalid(
                    "time_zone '\(name)' is not an IANA time zone name (UTC, Europe/Berlin, America/New_York)", at: r.location(of: "time_zone")))
            return nil
        }
        return name
    }

    private func decodeDerived(_ node: YAMLNode) -> [DerivedField] {
        guard let pairs = node.mapping else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a mapping of derived field names to derivations", found: node, at: node.location))
            return []
        }
        return pairs.compactMap { pair in
            guard let name = pair.key.scalar else { return nil }
            if Lineage(rawValue: name) != nil {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "'\(name)' is a lineage value every row has (derived: \(name)); name the derived field otherwise", at: pair.key.location))
                return nil
            }
            let kinds = SpecSchema.derivation.exactlyOne
            guard let r = MapReader(pair.value, SpecSchema.derivation, context: "derived field '\(name)'", sink: sink) else { return nil }
            let given = kinds.filter(r.has)
            guard given.count == 1, let kind = DerivationKind(rawValue: given[0]), let from = r.string(given[0]) else {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "a derived field is one of: \(kinds.map { "\($0): FIELD" }.joined(separator: ", "))",
                        at: pair.value.location))
                return nil
            }
            return DerivedField(name: name, kind: kind, from: from, location: pair.key.location)
        }
    }

    private func decodeFilter(_ node: YAMLNode) -> Filter? {
        let conditions = SpecSchema.filter.exactlyOne
        guard let r = MapReader(node, SpecSchema.filter, sink: sink) else { return nil }
        let field = r.string("field", required: true)
        let given = conditions.filter(r.contains)
        guard given.count == 1 else {
            sink.add(LoaderDiagnostics.invalid("a filter needs exactly one condition: equals, in, matches or exists", at: r.location))
            return nil
        }
        var condition: Filter.Condition?
        switch given[0] {
        case "equals": condition = r.string("equals").map(Filter.Condition.equals)
        case "in": condition = .oneOf(r.strings("in").map(\.value))
        case "matches":
            if let pattern = r.string("matches") {
                if (try? NSRegularExpression(pattern: pattern)) == nil {
                    sink.add(LoaderDiagnostics.invalid("'\(pattern)' is not a valid regular expression", at: r.location(of: "matches")))
                }
                condition = .matches(pattern)
            }
        default: condition = .exists
        }
        guard let field, let condition else { return nil }
        return Filter(name: r.string("name") ?? "\(field) \(given[0])", path: field, condition: condition, location: r.location)
    }

    private func decodeTarget(_ node: YAMLNode, derivedNames: Set<String>) -> PipelineTarget? {
        guard let r = MapReader(node, SpecSchema.pipelineTarget, sink: sink),
            let table = r.string("table", required: true)
        else { return nil }
        let mode = r.word("mode", as: WriteMode.self) ?? .append
        let key = r.strings("key")
        if mode != .append, key.isEmpty { sink.add(LoaderDiagnostics.missingKey("key", in: "\(mode.rawValue) target", at: r.location)) }
        let version = r.string("version_column")
        if mode == .versionedUpsert, version == nil {
            sink.add(LoaderDiagnostics.missingKey("version_column", in: "versioned_upsert target", at: r.location))
        }
        // A version column orders nothing outside a versioned upsert: refused rather than ignored.
        if mode != .versionedUpsert, version != nil {
            sink.add(
                LoaderDiagnostics.invalid(
                    "'version_column' applies to versioned_upsert targets only; this target's mode is \(mode.rawValue)",
                    at: r.keyLocation(of: "version_column")))
        }
        var mappings: [Mapping] = []
        if let columns = r.value("columns", required: true) {
            guard let pairs = columns.mapping else {
                sink.add(LoaderDiagnostics.wrongType(expected: "a mapping of column names to sources", found: columns, at: columns.location))
                return nil
            }
            mappings = pairs.compactMap { decodeMapping(column: $0.key, value: $0.value, derivedNames: derivedNames) }
        }
        // The key and version decide which rows meet before any expression is evaluated.
        for mapping in mappings where key.contains(where: { $0.value == mapping.column }) || mapping.column == version {
            if case .expression = mapping.source {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "column '\(mapping.column)' is the target's \(mapping.column == version ? "version column" : "key"): it must come from the record, not a sql expression",
                        at: mapping.sourceLocation))
            }
        }
        return PipelineTarget(table: table, mode: mode, key: key.map(\.value), versionColumn: version, mappings: mappings, location: r.location)
    }

    /// `column: user.id` (a field path) or `column: {from | derived | const | record, cast, transform, map, default, mask, merge}`.
    private func decodeMapping(column: YAMLNode, value: YAMLNode, derivedNames: Set<String>) -> Mapping? {
        guard let columnName = column.scalar else { return nil }
        if let path = value.scalar, !value.isNull {
            return Mapping(column: columnName, source: .path(path), location: column.location)
        }
        let sources = SpecSchema.columnMapping.exactlyOne
        guard
            let r = MapReader(value, SpecSchema.columnMapping, context: "mapping of column '\(columnName)'", sink: sink)
        else { return nil }
        let given = sources.filter(r.has)
        guard given.count == 1 else {
            sink.add(
                LoaderDiagnostics.invalid(
                    "column '\(columnName)' needs exactly one source: from, derived, const, record, on_update or sql", at: r.location))
            return nil
        }
        var source: MappingSource?
        switch given[0] {
        case "from": source = r.string("from").map(MappingSource.path)
        case "derived":
            if let name = r.string("derived") {
                if derivedNames.contains(name) {
                    source = .derived(name)
                } else if let lineage = Lineage(rawValue: name) {
                    source = .lineage(lineage)
                } else {
                    sink.add(
                        LoaderDiagnostics.dangling(
                            "derived field", name, candidates: derivedNames.sorted() + Lineage.allCases.map(\.rawValue),
                            at: r.location(of: "derived")))
                    source = .derived(name)
                }
            }
        case "const": source = r.string("const").map(MappingSource.constant)
        case "on_update":
            // The database's clock, in the merge: not a value from the record.
            if let expression = r.string("on_update") {
                if expression.replacingOccurrences(of: " ", with: "").lowercased() == "now()" {
                    source = .writtenAt
                } else {
                    sink.add(LoaderDiagnostics.invalid("on_update takes now(): the time the load writes the row", at: r.location(of: "on_update")))
                }
            }
        case "sql":
            if let sql = r.string("sql") {
                if sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    sink.add(LoaderDiagnostics.invalid("sql needs an expression, such as quantity * unit_price", at: r.location(of: "sql")))
                } else {
                    source = .expression(sql)
                }
            }
        default: source = r.bool("record") == true ? .record : nil
        }
        if case .expression? = source {
            // The expression is the whole computation: the value-shaping keys have no value to work on.
            for key in ["cast", "transform", "map", "map_default", "mask"] where r.has(key) {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "'\(key)' shapes a value read from the record; a sql column computes its own: write it in the expression",
                        at: r.keyLocation(of: key)))
            }
        }
        var transforms: [Transform] = []
        for word in r.words("transform") {
            switch word.value {
            case "trim": transforms.append(.trim)
            case "lower": transforms.append(.lower)
            case "upper": transforms.append(.upper)
            case "null_if_empty": transforms.append(.nullIfEmpty)
            default: break  // words() has refused it
            }
        }
        if r.has("map") {
            let entries = r.stringMap("map")
            transforms.append(
                .map(Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }), fallback: r.string("map_default")))
        }
        let cast = r.string("cast").flatMap { postgresType($0, at: r.location(of: "cast")) }
        let mask = r.word("mask", as: Mask.self)
        let merge = r.word("merge", as: MergeRule.self) ?? .last
        guard let source else { return nil }
        return Mapping(
            column: columnName, source: source, cast: cast, transforms: transforms, mask: mask, merge: merge, location: column.location,
            sourceLocation: r.location(of: given[0]))
    }

    /// Target tables and refreshed views must exist (a view is not a load target); names become qualified
    /// (`schema.table`) in the model. The mapping-level checks (columns, types) are rules, run on the model.
    func resolvePipelineTables(_ pipelines: [Pipeline], warehouse: Warehouse?) -> [Pipeline] {
        pipelines.map { pipeline in
            var pipeline = pipeline
            for index in pipeline.targets.indices {
                let target = pipeline.targets[index]
                if let table = warehouse?.table(target.table) {
                    pipeline.targets[index].table = table.qualifiedName
                } else if let view = warehouse?.views.first(where: { $0.name == target.table || $0.qualifiedName == target.table }) {
                    sink.add(LoaderDiagnostics.invalid("pipelines load tables; '\(view.qualifiedName)' is a view", at: target.location))
                } else {
                    let names = warehouse?.tables.flatMap { [$0.name, $0.qualifiedName] } ?? []
                    sink.add(LoaderDiagnostics.dangling("table", target.table, candidates: names, at: target.location))
                }
            }
            pipeline.postLoad = pipeline.postLoad.map { step in
                // A procedure without a schema is in the warehouse's default schema, as tables are: the
                // writer's search_path is not the spec's, so the name is never left to it.
                if case .call(let name, let location) = step {
                    let qualified = name.contains(".") ? name : warehouse?.schemas.first.map { "\($0).\(name)" } ?? name
                    // A routine of the spec is checked here; another is looked for in the database (`plan --validate-sql`).
                    if let routine = warehouse?.routine(qualified) {
                        if routine.kind != .procedure {
                            sink.add(
                                LoaderDiagnostics.invalid(
                                    "'\(routine.qualifiedName)' is a function: CALL runs procedures (declare it with kind: procedure)", at: location))
                        } else if !routine.arguments.isEmpty {
                            sink.add(
                                LoaderDiagnostics.invalid(
                                    "procedure '\(routine.qualifiedName)' takes arguments; a post-load step calls it with none", at: location))
                        }
                    }
                    return .call(qualified, location: location)
                }
                guard case .refreshMaterializedView(let name, let location) = step else { return step }
                let views = warehouse?.views.filter(\.materialized) ?? []
                guard let view = views.first(where: { $0.qualifiedName == name || $0.name == name }) else {
                    sink.add(LoaderDiagnostics.dangling("materialized view", name, candidates: views.map(\.qualifiedName), at: location))
                    return step
                }
                return .refreshMaterializedView(view.qualifiedName, location: location)
            }
            return pipeline
        }
    }
}
