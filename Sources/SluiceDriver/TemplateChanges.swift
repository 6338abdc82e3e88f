import CloudFormation
import Foundation
import YAML

/// The CloudFormation part of `sluice plan`'s report: what the new template changes against the one
/// in generated/, for people (text) and scripts (JSON).
public struct TemplateChanges: Encodable, Sendable {
    public struct Resource: Encodable, Sendable {
        public var id: String
        public var type: String
        public var paths: [String]?
    }
    public struct Row: Encodable, Sendable {
        public var table: String
        public var change: String
        public var row: String
    }
    public var added: [Resource]
    public var removed: [Resource]
    public var modified: [Resource]
    public var security: [Row]

    init(_ diff: TemplateDiff) {
        added = diff.added.map { Resource(id: $0.id, type: $0.type) }
        removed = diff.removed.map { Resource(id: $0.id, type: $0.type) }
        modified = diff.modified.map { Resource(id: $0.id, type: $0.type, paths: $0.paths) }
        security = diff.security.map { Row(table: $0.table, change: $0.change.rawValue, row: $0.text) }
    }

    static func compute(spec: Spec, template: TemplateValue, previousFile: URL) -> TemplateChanges {
        let previous = (try? Data(contentsOf: previousFile)).flatMap { data in
            YAMLReader(file: previousFile.path).read(Array(data)).root.map(YAMLValue.init(readBack:))
        }
        return TemplateChanges(TemplateDiff(old: previous, new: template, names: TemplateRenderer.displayNames(spec: spec)))
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && modified.isEmpty && security.isEmpty }

    public var text: String {
        var text = ""
        if !added.isEmpty || !removed.isEmpty || !modified.isEmpty {
            text += "    resources:\n"
            for resource in added { text += "      + \(resource.id) (\(resource.type))\n" }
            for resource in removed { text += "      - \(resource.id) (\(resource.type))\n" }
            for resource in modified { text += "      ~ \(resource.id): \((resource.paths ?? []).joined(separator: ", "))\n" }
        }
        for table in TemplateDiff.tables {
            let rows = security.filter { $0.table == table }
            guard !rows.isEmpty else { continue }
            text += "    \(table):\n"
            for row in rows { text += "      \(row.change == "added" ? "+" : "-") \(row.row)\n" }
        }
        return text
    }
}
