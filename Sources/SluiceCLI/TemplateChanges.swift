import CloudFormation
import Foundation
import SluiceCore
import SpecLoader

/// The CloudFormation part of `sluice plan`'s report: what the new template changes against the one
/// in generated/, for people (text) and scripts (JSON).
struct TemplateChanges: Encodable {
    struct Resource: Encodable {
        var id: String
        var type: String
        var paths: [String]?
    }
    struct Row: Encodable {
        var table: String
        var change: String
        var row: String
    }
    var added: [Resource]
    var removed: [Resource]
    var modified: [Resource]
    var security: [Row]

    init(_ diff: TemplateDiff) {
        added = diff.added.map { Resource(id: $0.id, type: $0.type) }
        removed = diff.removed.map { Resource(id: $0.id, type: $0.type) }
        modified = diff.modified.map { Resource(id: $0.id, type: $0.type, paths: $0.paths) }
        security = diff.security.map { Row(table: $0.table, change: $0.change.rawValue, row: $0.text) }
    }

    static func compute(spec: Spec, template: TemplateValue, previousFile: URL) -> TemplateChanges {
        let previous = (try? Data(contentsOf: previousFile)).flatMap { data in
            YAMLReader(file: previousFile.path).read(Array(data)).root.map(templateValue)
        }
        return TemplateChanges(TemplateDiff(old: previous, new: template, names: TemplateRenderer.displayNames(spec: spec)))
    }

    /// A template file read back: the emitter writes numbers and booleans plain and quotes any
    /// string a reader could take for one, so plain scalars can be typed safely.
    static func templateValue(_ node: YAMLNode) -> TemplateValue {
        if let entries = node.mapping { return .map(entries.map { ($0.key.scalar ?? "", templateValue($0.value)) }) }
        if let items = node.sequence { return .list(items.map(templateValue)) }
        let text = node.scalar ?? ""
        if node.isPlainScalar {
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            if let number = Int(text) { return .int(number) }
        }
        return .string(text)
    }

    var isEmpty: Bool { added.isEmpty && removed.isEmpty && modified.isEmpty && security.isEmpty }

    var text: String {
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
