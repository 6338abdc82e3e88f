import SluiceCore

struct MappingTypeRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL503", name: "mapping-type", severity: .error,
        summary: "A mapping's value type fits its column's type.",
        explanation: """
            The value's type is the field's validated type (fields: {path: {type: …}}), a derivation's type (date → date, hour → \
            integer), a cast's type, or text after a mask or string transform. Strings load into text, uuid, date, time, timestamp, \
            interval, inet and json columns (parsed, rejects quarantined); numbers from strings and any other conversion need an \
            explicit cast. Objects and arrays load only into json/jsonb. Fields without a declared type are not judged here; the \
            executor parses them and quarantines what does not fit.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, ↓event_name: { from: payload, transform: [lower] } }
                """),
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name, ↓created_at: { from: name, mask: hash } }
                """),
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, ↓event_name: { from: payload, cast: integer } }
                """),
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name, ↓created_at: { from: name, cast: integer } }
                """),
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: boolean, required: true } }
                    targets:
                      - table: events
                        columns: { ↓event_id: event_id, event_name: name }
                """),
        ],
        nonTriggering: [
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: string, required: true }, count: { type: integer } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: { from: count, cast: integer }, created_at: { from: when, cast: date } }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        var findings: [Diagnostic] = []
        for pipeline in context.spec.pipelines {
            let fieldTypes = Dictionary(pipeline.fields.map { ($0.path, $0.type) }, uniquingKeysWith: { a, _ in a })
            let derivedTypes = Dictionary(
                pipeline.derived.map { ($0.name, $0.kind == .date ? FieldType.date : .integer) }, uniquingKeysWith: { a, _ in a })
            for target in pipeline.targets {
                guard let table = warehouse.table(target.table) else { continue }
                for mapping in target.mappings {
                    guard let column = table.column(mapping.column) else { continue }
                    var valueType: FieldType
                    switch mapping.source {
                    case .path(let p): valueType = fieldTypes[p] ?? .any
                    case .derived(let d): valueType = derivedTypes[d] ?? .any
                    case .lineage(let value): valueType = value.valueType
                    case .writtenAt: valueType = .timestamp
                    // PostgreSQL types the expression: `sluice plan --database` prepares it against the schema.
                    case .expression: continue
                    case .constant: valueType = .any
                    case .record: valueType = .object
                    }
                    if mapping.mask != nil || mapping.transforms.contains(where: { $0 != .nullIfEmpty }) {
                        if valueType == .object || valueType == .array {
                            findings.append(
                                finding(
                                    "\(mapping.source) is \(valueType == .object ? "an object" : "an array"); string transforms and masks apply to scalar values",
                                    at: mapping.location, subject: "pipeline:\(pipeline.name)"))
                            continue
                        }
                        valueType = .string
                    }
                    if mapping.mask != nil, column.type.category != .text {
                        findings.append(
                            finding(
                                "masked \(mapping.source) yields text but column \(table.qualifiedName).\(column.name) is \(column.type)",
                                at: mapping.location, subject: "pipeline:\(pipeline.name)"))
                        continue
                    }
                    if let cast = mapping.cast {
                        if valueType == .object || valueType == .array, cast.category != .json {
                            findings.append(
                                finding(
                                    "\(mapping.source) is structured and cannot be cast to \(cast)", at: mapping.location,
                                    subject: "pipeline:\(pipeline.name)"))
                        } else if !Self.castFits(cast, column.type) {
                            findings.append(
                                finding(
                                    "\(mapping.source) is cast to \(cast) but column \(table.qualifiedName).\(column.name) is \(column.type)",
                                    at: mapping.location, subject: "pipeline:\(pipeline.name)"))
                        }
                        continue
                    }
                    if !Self.fits(valueType, column.type) {
                        findings.append(
                            finding(
                                "\(mapping.source) is validated as \(valueType.rawValue) but column \(table.qualifiedName).\(column.name) is \(column.type); add a cast or change the column",
                                at: mapping.location, subject: "pipeline:\(pipeline.name)",
                                notes: [RelatedNote("column '\(column.name)' is declared here", at: column.location)]))
                    }
                }
            }
        }
        return findings
    }

    /// Loads without an explicit cast.
    static func fits(_ value: FieldType, _ column: PostgresType) -> Bool {
        if column.isArray { return value == .array || value == .any }
        let category = column.category
        switch value {
        case .any: return true
        case .string: return [.text, .uuid, .date, .time, .timestamp, .interval, .network, .json].contains(category)
        case .email: return [.text, .json].contains(category)
        case .uuid: return [.uuid, .text].contains(category)
        case .integer: return [.integer, .decimal, .json].contains(category)
        case .number: return [.decimal, .json].contains(category)
        case .boolean: return [.boolean, .json].contains(category)
        case .timestamp: return [.timestamp, .json].contains(category)
        case .date: return [.date, .timestamp].contains(category)
        case .object, .array: return category == .json
        }
    }

    /// After a cast, what PostgreSQL assigns without loss.
    static func castFits(_ cast: PostgresType, _ column: PostgresType) -> Bool {
        if cast.category == column.category { return true }
        switch (cast.category, column.category) {
        case (.integer, .decimal), (.date, .timestamp), (_, .text), (_, .json): return true
        default: return false
        }
    }
}
