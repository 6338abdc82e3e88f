import Foundation
import SluiceDriver

/// Output formats of `sluice check`. Each turns compilations into one string; only the command prints.
public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json, sarif, github
}

public enum Reporter {
    public static func render(
        _ compilations: [Compilation], as format: OutputFormat, color: Bool = false, sources: SourceCache = SourceCache()
    ) -> String {
        switch format {
        case .text: return TextReporter(color: color, sources: sources).render(compilations)
        case .json: return JSONReporter.render(compilations)
        case .sarif: return SARIFReporter.render(compilations)
        case .github: return GitHubReporter.render(compilations)
        }
    }
}

/// Reads spec lines for the source excerpt under a text diagnostic.
public final class SourceCache: @unchecked Sendable {
    private var files: [String: [Substring]] = [:]
    public init() {}
    func line(_ location: SourceLocation) -> String? {
        if files[location.file] == nil {
            let text = (try? String(contentsOfFile: location.file, encoding: .utf8)) ?? ""
            files[location.file] = text.split(separator: "\n", omittingEmptySubsequences: false)
        }
        guard let lines = files[location.file], location.line >= 1, location.line <= lines.count else { return nil }
        return String(lines[location.line - 1])
    }
}

/// Compiler-style text: `file:line:col: error: message [SL201]`, the source line with a caret,
/// the evidence chain, notes; then suppressions and a summary.
struct TextReporter {
    var color: Bool
    var sources: SourceCache

    /// For findings written to stderr: coloured only when stderr is a terminal.
    static var standardError: TextReporter { TextReporter(color: Terminal.isInteractive(fileDescriptor: 2), sources: SourceCache()) }

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func render(_ compilations: [Compilation]) -> String {
        var out = ""
        for compilation in compilations {
            for diagnostic in compilation.active { out += format(diagnostic) }
        }
        let suppressed = compilations.flatMap { $0.diagnostics.filter(\.isSuppressed) }
        if !suppressed.isEmpty {
            out += "suppressed findings (\(suppressed.count)):\n"
            for d in suppressed {
                out += "  \(d.location.map { "\($0)" } ?? "-"): [\(d.code)] \(d.message)\n    reason: \(d.suppressedBecause ?? "")\n"
            }
        }
        let errors = compilations.reduce(0) { $0 + $1.errorCount }, warnings = compilations.reduce(0) { $0 + $1.warningCount }
        let summary =
            "checked \(compilations.count) spec\(compilations.count == 1 ? "" : "s"): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s"), \(suppressed.count) suppressed"
        out += paint(summary, errors > 0 ? "1;31" : warnings > 0 ? "1;33" : "1;32") + "\n"
        return out
    }

    func format(_ d: Diagnostic) -> String {
        let severityColor = d.severity == .error ? "1;31" : d.severity == .warning ? "1;33" : "1;36"
        var out = "\(d.location.map { "\($0): " } ?? "")\(paint(d.severity.rawValue, severityColor)): \(d.message) [\(d.code)]\n"
        if let location = d.location, let line = sources.line(location) {
            out += "    \(line)\n    \(String(repeating: " ", count: max(0, location.column - 1)))\(paint("^", "1;32"))\n"
        }
        for step in d.evidence { out += "    evidence: \(step)\n" }
        for note in d.notes { out += "\(note.location.map { "\($0): " } ?? "    ")note: \(note.message)\n" }
        return out
    }
}

enum JSONReporter {
    struct Report: Encodable {
        var version = 1
        var specs: [SpecReport]
        var summary: Summary
    }
    struct SpecReport: Encodable { var file: String; var findings: [Finding] }
    struct Finding: Encodable {
        var rule: String, severity: String, message: String
        var file: String?, line: Int?, column: Int?
        var subject: String?
        var evidence: [String]
        var notes: [Note]
        var suppressed: String?
    }
    struct Note: Encodable { var message: String; var file: String?; var line: Int?; var column: Int? }
    struct Summary: Encodable { var errors: Int; var warnings: Int; var suppressed: Int }

    static func finding(_ d: Diagnostic) -> Finding {
        Finding(
            rule: d.code, severity: d.severity.rawValue, message: d.message, file: d.location?.file, line: d.location?.line,
            column: d.location?.column, subject: d.subject, evidence: d.evidence,
            notes: d.notes.map { Note(message: $0.message, file: $0.location?.file, line: $0.location?.line, column: $0.location?.column) },
            suppressed: d.suppressedBecause)
    }

    static func render(_ compilations: [Compilation]) -> String {
        let report = Report(
            specs: compilations.map { SpecReport(file: $0.file, findings: $0.diagnostics.map(finding)) },
            summary: Summary(
                errors: compilations.reduce(0) { $0 + $1.errorCount }, warnings: compilations.reduce(0) { $0 + $1.warningCount },
                suppressed: compilations.reduce(0) { $0 + $1.suppressedCount }))
        return encode(report)
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        ((try? JSONOutput.text(value)) ?? "") + "\n"
    }
}

/// SARIF 2.1.0, as GitHub code scanning reads it.
enum SARIFReporter {
    static func render(_ compilations: [Compilation]) -> String {
        let catalog = RuleCatalog.all
        let rules: [[String: Any]] = catalog.map { rule in
            [
                "id": rule.id, "name": rule.name, "shortDescription": ["text": rule.summary], "fullDescription": ["text": rule.explanation],
                "defaultConfiguration": ["level": level(rule.severity)], "help": ["text": "sluice explain \(rule.id)"],
            ]
        }
        let results: [[String: Any]] = compilations.flatMap(\.diagnostics).map { d in
            var result: [String: Any] = ["ruleId": d.code, "level": level(d.severity), "message": ["text": messageText(d)]]
            if let index = catalog.firstIndex(where: { $0.id == d.code }) { result["ruleIndex"] = index }
            if let location = d.location { result["locations"] = [physical(location)] }
            let related = d.notes.compactMap { note -> [String: Any]? in
                guard let location = note.location else { return nil }
                var entry = physical(location)
                entry["message"] = ["text": note.message]
                return entry
            }
            if !related.isEmpty {
                result["relatedLocations"] = related.enumerated().map { index, entry in entry.merging(["id": index + 1]) { a, _ in a } }
            }
            if let reason = d.suppressedBecause { result["suppressions"] = [["kind": "inSource", "justification": reason]] }
            return result
        }
        let log: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                [
                    "tool": [
                        "driver": [
                            "name": "sluice", "version": SluiceVersion.current, "informationUri": "https://github.com/sluice/sluice",
                            "rules": rules,
                        ]
                    ],
                    "columnKind": "unicodeCodePoints",
                    "results": results,
                ]
            ],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: log, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func messageText(_ d: Diagnostic) -> String {
        d.evidence.isEmpty ? d.message : d.message + "\n" + d.evidence.map { "evidence: \($0)" }.joined(separator: "\n")
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .error: return "error";
        case .warning: return "warning";
        case .note: return "note"
        }
    }

    static func physical(_ location: SourceLocation) -> [String: Any] {
        ["physicalLocation": ["artifactLocation": ["uri": location.file], "region": ["startLine": location.line, "startColumn": location.column]]]
    }
}

/// GitHub Actions workflow commands: one annotation per finding.
enum GitHubReporter {
    static func render(_ compilations: [Compilation]) -> String {
        var out = ""
        for d in compilations.flatMap(\.active) {
            let command = d.severity == .error ? "error" : d.severity == .warning ? "warning" : "notice"
            let message = ([d.message] + d.evidence.map { "evidence: \($0)" }).joined(separator: "\n")
            out += annotation(command, file: d.location?.file, line: d.location?.line, column: d.location?.column, title: d.code, message: message)
        }
        return out
    }

    /// One workflow command (`::error file=…,line=…,col=…,title=…::message`), its parts escaped.
    static func annotation(_ command: String, file: String?, line: Int? = nil, column: Int? = nil, title: String, message: String) -> String {
        var properties: [String] = []
        if let file { properties.append("file=\(escapeProperty(file))") }
        if let line { properties.append("line=\(line)") }
        if let column { properties.append("col=\(column)") }
        properties.append("title=\(escapeProperty(title))")
        return "::\(command) \(properties.joined(separator: ","))::\(escapeData(message))\n"
    }

    static func escapeData(_ s: String) -> String {
        s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    static func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}
