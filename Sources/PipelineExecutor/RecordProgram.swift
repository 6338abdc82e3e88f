import AWSSigning
import Crypto
import Foundation
import PlanFormat

/// A pipeline's record program compiled from plan.json: field rules, filters, derived fields, the
/// dedupe key and every target column's mapping. It turns one record's values into one staging row,
/// or says why the record is filtered, a duplicate or refused. Used by one reader at a time.
final class RecordProgram: @unchecked Sendable {
    enum Outcome: Equatable {
        case accepted
        case filtered(String)
        case duplicate
        case refused(reason: String, field: String?)
    }

    /// Every path the program reads; the parsers fill values in this order. `""` is the whole record.
    let paths: [String]

    /// The paths a source with a header must have: those a column, a filter, a derived field or the
    /// dedupe key reads, and required fields. An optional field nothing else reads may be absent.
    let neededPaths: [String]
    private let fields: [FieldRule]
    private let filters: [FilterRule]
    private let derived: [DerivedRule]
    private let dedupe: [Int]
    private let columns: [ColumnProgram]
    private let maskKey: SymmetricKey?
    private var seen = Set<DedupeKey>()

    struct FieldRule {
        var path: String
        var index: Int
        var type: PipelinePlan.FieldType
        var required: Bool
        var pattern: Pattern?
        var allowed: Set<String>?
        /// Rewrites the value as the rules and the columns expect it (a number as JSON writes it, a
        /// date or timestamp as RFC 3339), for sources that write them otherwise.
        var reading: ValueReading?
    }

    struct FilterRule {
        var name: String
        var index: Int
        var equals: String?
        var oneOf: Set<String>?
        var pattern: Pattern?
        var exists: Bool
    }

    struct DerivedRule {
        var name: String
        var kind: PipelinePlan.DerivedKind
        var from: Int
    }

    enum Source {
        case path(Int)
        case derived(Int)
        case constant(String)
        case lineage(PipelinePlan.Lineage)
        /// Written by the merge (`now()`, a `sql` expression): staged as NULL.
        case writtenByMerge
    }

    /// The run this program loads for, for the lineage values: set once the run is recorded, before
    /// any object is read.
    var run: (id: Int64, startedAt: String) = (0, "")

    struct ColumnProgram {
        var name: String
        var source: Source
        var transforms: [PipelinePlan.Transform]
        var cast: ColumnType?
        var mask: PipelinePlan.Mask?
        var type: ColumnType
        var required: Bool
        /// Set for upsert targets: a row without its key is not a row of that table.
        var keyOfTarget: [Int]?
    }

    struct DedupeKey: Hashable {
        var high: Int
        var low: Int
    }

    init(_ pipeline: PipelinePlan, maskKey: SymmetricKey?) throws {
        var paths: [String] = []
        var indexOf: [String: Int] = [:]
        func index(_ path: String) -> Int {
            if let existing = indexOf[path] { return existing }
            paths.append(path)
            indexOf[path] = paths.count - 1
            return paths.count - 1
        }
        fields = try pipeline.fields.map {
            FieldRule(
                path: $0.path, index: index($0.path), type: $0.type, required: $0.required,
                pattern: try $0.pattern.map(Pattern.init), allowed: $0.allowed.map(Set.init), reading: try ValueReading($0))
        }
        filters = try pipeline.filters.map {
            FilterRule(
                name: $0.name, index: index($0.path), equals: $0.equals, oneOf: $0.oneOf.map(Set.init),
                pattern: try $0.matches.map(Pattern.init), exists: $0.exists ?? false)
        }
        derived = pipeline.derived.map { DerivedRule(name: $0.name, kind: $0.kind, from: index($0.from)) }
        dedupe = pipeline.dedupeKey.map(index)
        var columns: [ColumnProgram] = []
        var needsMaskKey = false
        for target in pipeline.targets {
            let first = columns.count
            for column in target.columns {
                let source: Source
                if let path = column.path {
                    source = .path(index(path))
                } else if let name = column.derived {
                    guard let position = derived.firstIndex(where: { $0.name == name }) else {
                        throw ExecutorError.plan("\(target.table).\(column.column) reads derived field \(name), which the pipeline does not define")
                    }
                    source = .derived(position)
                } else if let constant = column.constant {
                    source = .constant(constant)
                } else if let lineage = column.lineage {
                    source = .lineage(lineage)
                } else if column.writtenAt == true || column.expression != nil {
                    source = .writtenByMerge
                } else {
                    source = .path(index(""))
                }
                if column.mask == .hash { needsMaskKey = true }
                columns.append(
                    ColumnProgram(
                        name: "\(target.table).\(column.column)", source: source, transforms: column.transforms,
                        cast: column.cast.map(ColumnType.init), mask: column.mask, type: ColumnType(column.type),
                        required: column.notNull && column.writtenAt != true && column.expression == nil, keyOfTarget: nil))
            }
            if target.mode != .append {
                let key = target.key.compactMap { name in target.columns.firstIndex { $0.column == name }.map { first + $0 } }
                for position in first..<columns.count { columns[position].keyOfTarget = key }
            }
        }
        self.columns = columns
        self.paths = paths
        var needed = Set(fields.filter(\.required).map(\.index) + filters.map(\.index) + derived.map(\.from) + dedupe)
        for column in columns { if case .path(let index) = column.source { needed.insert(index) } }
        neededPaths = needed.sorted().map { paths[$0] }.filter { !$0.isEmpty }
        if needsMaskKey, maskKey == nil {
            throw ExecutorError.plan(
                "pipeline \(pipeline.name) hashes columns (mask: hash) but no mask key is set: set SLUICE_MASK_KEY, the secret the hashes are keyed with"
            )
        }
        self.maskKey = maskKey
    }

    /// Forgets the dedupe keys: a batch (one object) is deduplicated in memory, and across batches
    /// the target's key does it.
    func startBatch() { seen.removeAll(keepingCapacity: false) }

    /// Evaluates one record and appends its staging columns (every target's, in order) to `row`.
    func run(_ values: [Value], into row: inout CopyRow, objectKey: String, line: Int) -> Outcome {
        // The rules are read by position, not copied out of their arrays: a copy retains every
        // string and set a rule holds, for every record.
        var values = values
        for rule in fields.indices where fields[rule].reading != nil {
            let index = fields[rule].index
            guard !values[index].isAbsent else { continue }
            switch fields[rule].reading!.read(values[index]) {
            case .success(let value): values[index] = value
            case .failure(let problem): return .refused(reason: "field \(fields[rule].path): \(problem.reason)", field: fields[rule].path)
            }
        }
        for rule in filters.indices {
            let value = values[filters[rule].index]
            let text = value.text
            let hit: Bool
            if filters[rule].exists {
                hit = !value.isAbsent
            } else if let equals = filters[rule].equals {
                hit = text == equals
            } else if let oneOf = filters[rule].oneOf {
                hit = text.map(oneOf.contains) ?? false
            } else if let pattern = filters[rule].pattern {
                hit = text.map(pattern.matches) ?? false
            } else {
                hit = false
            }
            if hit { return .filtered(filters[rule].name) }
        }
        for rule in fields.indices {
            if let reason = check(fields[rule], values[fields[rule].index]) { return .refused(reason: reason, field: fields[rule].path) }
        }
        var key: DedupeKey?
        // A record without its whole key cannot repeat one: records lacking it are not one another's duplicates.
        if !dedupe.isEmpty, !dedupe.contains(where: { values[$0].isAbsent }) {
            var high = Hasher(), low = Hasher()
            low.combine(0x5eed)
            for index in dedupe {
                let text = values[index].text
                high.combine(text)
                low.combine(text)
            }
            key = DedupeKey(high: high.finalize(), low: low.finalize())
            if seen.contains(key!) { return .duplicate }
        }
        var derivedValues: [Value] = []
        derivedValues.reserveCapacity(derived.count)
        for rule in derived {
            guard case .string(let text) = values[rule.from], let timestamp = Timestamp.parse(text) else {
                derivedValues.append(.null)
                continue
            }
            derivedValues.append(rule.kind == .hour ? .integer(Int64(timestamp.hour)) : .string(timestamp.dateText))
        }
        var encoded: [String?] = []
        encoded.reserveCapacity(columns.count)
        for position in columns.indices {
            switch evaluate(column: position, values, derivedValues, objectKey: objectKey, line: line) {
            case .value(let text): encoded.append(text)
            case .refused(let reason): return .refused(reason: "\(columns[position].name): \(reason)", field: nil)
            }
        }
        // NOT NULL columns, once the values are known: for upsert targets only rows that have their key.
        for position in columns.indices where encoded[position] == nil && columns[position].required {
            if let key = columns[position].keyOfTarget, key.contains(where: { encoded[$0] == nil }) { continue }
            return .refused(reason: "\(columns[position].name) is NOT NULL, but the record gives it no value", field: nil)
        }
        for text in encoded {
            row.separator()
            row.field(text)
        }
        if let key { seen.insert(key) }
        return .accepted
    }

    private func check(_ field: FieldRule, _ value: Value) -> String? {
        if value.isAbsent { return field.required ? "required field \(field.path) is \(value == .missing ? "missing" : "null")" : nil }
        // Only a failing record needs the value quoted.
        var shown: String { ColumnType.show(value) }
        let problem: String?
        switch field.type {
        case .string:
            if case .json = value { problem = "\(shown) is not a string" } else { problem = nil }
        case .integer:
            problem = ColumnType.integer(min: Int64.min, max: Int64.max).encode(value).refusal
        case .number:
            problem = ColumnType.float.encode(value).refusal
        case .boolean:
            problem = ColumnType.boolean.encode(value).refusal
        case .timestamp:
            if case .string(let text) = value, Timestamp.parse(text) != nil {
                problem = nil
            } else {
                problem = "\(shown) is not an RFC 3339 timestamp"
            }
        case .date:
            problem = ColumnType.date.encode(value).refusal
        case .uuid:
            problem = ColumnType.uuid.encode(value).refusal
        case .email:
            if case .string(let text) = value, Self.isEmail(text) { problem = nil } else { problem = "\(shown) is not an e-mail address" }
        case .object:
            if case .json(_, false) = value { problem = nil } else { problem = "\(shown) is not an object" }
        case .array:
            if case .json(_, true) = value { problem = nil } else { problem = "\(shown) is not an array" }
        case .any:
            problem = nil
        }
        if let problem { return "field \(field.path): \(problem)" }
        if let pattern = field.pattern, let text = value.text, !pattern.matches(text) {
            return "field \(field.path): \(shown) does not match /\(pattern.source)/"
        }
        if let allowed = field.allowed, let text = value.text, !allowed.contains(text) {
            return "field \(field.path): \(shown) is not one of \(allowed.sorted().joined(separator: ", "))"
        }
        return nil
    }

    /// One `@` with something before it and a dotted domain after it, no spaces or control
    /// characters: what a form would accept, not RFC 5322's every corner.
    static func isEmail(_ text: String) -> Bool {
        var at = -1, lastDot = -1, count = 0
        for byte in text.utf8 {
            if byte <= 0x20 || byte == 0x7F { return false }
            if byte == 0x40 {
                if at >= 0 { return false }
                at = count
            } else if byte == 0x2E, at >= 0 {
                if lastDot == count - 1 { return false }  // ".." or "@."
                lastDot = count
            }
            count += 1
        }
        return at > 0 && count <= 254 && lastDot > at + 1 && lastDot < count - 1
    }

    /// Trims whitespace (Unicode's, as Character sees it) without bridging to NSString.
    static func trimmed(_ text: String) -> String {
        guard let first = text.utf8.first, let last = text.utf8.last else { return text }
        if first > 0x20, first < 0x80, last > 0x20, last < 0x80 { return text }
        return String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// Column `position`'s staged value, read in place like the rules in `run`.
    private func evaluate(column position: Int, _ values: [Value], _ derivedValues: [Value], objectKey: String, line: Int) -> ColumnType.Encoded {
        var value: Value
        switch columns[position].source {
        case .path(let index): value = values[index]
        case .derived(let index): value = derivedValues[index]
        case .constant(let text): value = .string(text)
        case .lineage(.objectKey): value = .string(objectKey)
        case .lineage(.line): value = .integer(Int64(line))
        case .lineage(.runID): value = .integer(run.id)
        case .lineage(.loadedAt): value = .string(run.startedAt)
        case .writtenByMerge: return .value(nil)
        }
        for transform in columns[position].transforms {
            guard let text = value.text else { break }
            switch transform.name {
            case .trim: value = .string(Self.trimmed(text))
            case .lower: value = .string(text.lowercased())
            case .upper: value = .string(text.uppercased())
            case .nullIfEmpty: if text.isEmpty { value = .null }
            case .map:
                if let mapped = transform.map?[text] {
                    value = .string(mapped)
                } else if let fallback = transform.fallback {
                    value = .string(fallback)
                }
            }
        }
        if let cast = columns[position].cast {
            switch cast.encode(value) {
            case .value(let text): value = text.map(Value.string) ?? .null
            case .refused(let reason): return .refused("cast: \(reason)")
            }
        }
        if let mask = columns[position].mask, let text = value.text {
            switch mask {
            case .hash:
                let code = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: maskKey!)
                value = .string(hex(code))
            case .redact:
                if case .text = columns[position].type { value = .string("[redacted]") } else { value = .null }
            }
        }
        return columns[position].type.encode(value)
    }
}

extension ColumnType.Encoded {
    var refusal: String? {
        if case .refused(let reason) = self { return reason }
        return nil
    }
}
