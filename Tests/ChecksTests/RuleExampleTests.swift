import Foundation
import SluiceCore
import SpecLoader
import Testing

@testable import Checks

/// Every rule's examples, as SwiftLint runs its rules' triggering and non-triggering examples: each
/// fragment is merged into its base by `include`, loaded, and the rule alone is run on it.
@Suite struct RuleExampleTests {
    /// An example written out beside its base, with the `↓` markers taken out and remembered.
    struct Prepared {
        var spec: Spec?
        var loaderErrors: [String]
        var file: String
        /// (line, column) in `file` of each marker: where the token after it starts.
        var marked: Set<[Int]>
    }

    static func prepare(_ example: RuleExample, in folder: URL, name: String) throws -> Prepared {
        let base = folder.appendingPathComponent("base-\(name).yaml")
        try Data(example.base.text.utf8).write(to: base)
        var lines = ["include: [\(base.lastPathComponent)]"]
        var marked = Set<[Int]>()
        for line in example.fragment.split(separator: "\n", omittingEmptySubsequences: false) {
            var text = ""
            for character in line {
                if character == RuleExample.marker { marked.insert([lines.count + 1, text.count + 1]) } else { text.append(character) }
            }
            lines.append(text)
        }
        let file = folder.appendingPathComponent("\(name).yaml")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        let loaded = SpecLoader.load(path: file.path)
        return Prepared(
            spec: loaded.spec,
            loaderErrors: loaded.diagnostics.filter { $0.severity == .error }.map { "\($0.location.map { "\($0)" } ?? ""): \($0.message)" },
            file: file.path, marked: marked)
    }

    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-rule-examples-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    @Test func bothBasesAreClean() throws {
        for base in [RuleExample.Base.network, .warehouse] {
            let loaded = SpecLoader.load(text: base.text)
            let spec = try #require(loaded.spec, "\(loaded.diagnostics.map(\.message))")
            #expect(Checker.run(spec).filter { !$0.isSuppressed }.map(\.message) == [])
        }
    }

    @Test(arguments: Checker.rules.map { RuleCase($0) })
    func examplesFindExactlyWhatTheyMark(_ rule: RuleCase) throws {
        let documentation = rule.type.documentation, examples = rule.type.examples
        #expect(!examples.triggering.isEmpty, "\(documentation.id) shows no spec it reports")
        #expect(!examples.nonTriggering.isEmpty, "\(documentation.id) shows no spec it accepts")
        for (index, example) in examples.triggering.enumerated() {
            let prepared = try Self.prepare(example, in: Self.folder, name: "\(documentation.id)-triggering-\(index + 1)")
            #expect(prepared.loaderErrors.isEmpty, "\(documentation.id) triggering example \(index + 1) does not load: \(prepared.loaderErrors)")
            guard let spec = prepared.spec else { continue }
            #expect(!prepared.marked.isEmpty, "\(documentation.id) triggering example \(index + 1) marks no finding")
            let findings = rule.type.init().check(CheckContext(spec: spec))
            let found = Set(findings.compactMap { finding in finding.location.map { [$0.line, $0.column] + ($0.file == prepared.file ? [] : [0]) } })
            #expect(
                found == prepared.marked,
                """
                \(documentation.id) triggering example \(index + 1): findings at \(found.sorted { $0.lexicographicallyPrecedes($1) }), \
                marked \(prepared.marked.sorted { $0.lexicographicallyPrecedes($1) }): \(findings.map(\.message))
                """)
            #expect(findings.allSatisfy { $0.code == documentation.id && $0.severity == documentation.severity })
        }
        for (index, example) in examples.nonTriggering.enumerated() {
            #expect(!example.fragment.contains(RuleExample.marker), "\(documentation.id) non-triggering example \(index + 1) has a marker")
            let prepared = try Self.prepare(example, in: Self.folder, name: "\(documentation.id)-non-triggering-\(index + 1)")
            #expect(prepared.loaderErrors.isEmpty, "\(documentation.id) non-triggering example \(index + 1) does not load: \(prepared.loaderErrors)")
            guard let spec = prepared.spec else { continue }
            let findings = rule.type.init().check(CheckContext(spec: spec))
            #expect(findings.isEmpty, "\(documentation.id) non-triggering example \(index + 1) is reported: \(findings.map(\.message))")
        }
    }
}

/// A rule type as a test argument, named by its ID in the test report.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let type: any Rule.Type
    init(_ type: any Rule.Type) { self.type = type }
    var testDescription: String { type.documentation.id }
}
