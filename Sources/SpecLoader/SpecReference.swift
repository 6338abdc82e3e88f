/// The key tables of docs/spec.md, generated from `SpecSchema`. The document's prose is written by hand;
/// each table stands between `<!-- schema: SECTION -->` and `<!-- end schema -->` and is rewritten from
/// the section's declaration, so the reference cannot drift from what the decoder takes.
public enum SpecReference {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    static let begin = "<!-- schema: "
    static let end = "<!-- end schema -->"

    /// The document with every generated table rewritten. Fails on a marker that names no section, one
    /// left open, or a section of the spec that has no table (every section is documented once).
    public static func updating(_ document: String, sections: [SchemaSection] = SpecSchema.sections) throws -> String {
        let byName = Dictionary(uniqueKeysWithValues: sections.map { ($0.name, $0) })
        var output: [Substring] = []
        var documented: [String] = []
        var lines = document.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            output.append(line)
            guard line.hasPrefix(begin), line.hasSuffix(" -->") else { continue }
            let name = String(line.dropFirst(begin.count).dropLast(4))
            guard let section = byName[name] else {
                throw Problem(description: "'\(line)' names no section of the schema (known: \(sections.map(\.name).joined(separator: ", ")))")
            }
            guard let close = lines.firstIndex(where: { $0 == end }) else { throw Problem(description: "'\(line)' has no '\(end)' after it") }
            lines = lines[close...]
            // Blank lines around the table: Markdown ends a table only at a blank line or another block.
            output.append(contentsOf: ("\n" + table(section) + "\n").split(separator: "\n", omittingEmptySubsequences: false))
            documented.append(name)
        }
        let twice = Dictionary(grouping: documented, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        guard twice.isEmpty else { throw Problem(description: "documented twice: \(twice.joined(separator: ", "))") }
        let missing = sections.map(\.name).filter { !documented.contains($0) }
        guard missing.isEmpty else { throw Problem(description: "no '\(begin)NAME -->' table for: \(missing.joined(separator: ", "))") }
        return output.joined(separator: "\n")
    }

    /// One section's keys as a Markdown table: key, type (with the words it allows), default, meaning.
    public static func table(_ section: SchemaSection) -> String {
        var rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
        for key in section.entries {
            rows.append("| `\(key.name)` | \(cell(type(key))) | \(cell(absence(key, in: section))) | \(cell(key.doc)) |")
        }
        return rows.joined(separator: "\n")
    }

    private static func type(_ key: SchemaKey) -> String {
        guard !key.allowed.isEmpty else { return key.type }
        let words = key.allowed.map { "`\($0)`" }.joined(separator: " | ")
        switch key.type {
        case "word": return words
        case "list of words": return "list of \(words)"
        default: return "\(key.type): \(words)"
        }
    }

    private static func absence(_ key: SchemaKey, in section: SchemaSection) -> String {
        switch key.absence {
        case .required: return "**required**"
        case .requiredWhen(let when): return "**required** \(when)"
        case .alternative: return "exactly one of " + section.exactlyOne.map { "`\($0)`" }.joined(separator: ", ")
        case .defaults(let text): return text
        case .refused: return "refused"
        }
    }

    /// A table cell: a `|` not already escaped would end the cell.
    private static func cell(_ text: String) -> String {
        var out = ""
        var previous: Character = " "
        for character in text {
            if character == "|" && previous != "\\" { out.append("\\") }
            out.append(character)
            previous = character
        }
        return out
    }
}
