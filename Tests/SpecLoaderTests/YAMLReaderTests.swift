import SluiceCore
import Testing
import YAML

@testable import SpecLoader

@Suite struct YAMLReaderTests {
    func read(_ text: String) -> (root: YAMLNode?, diagnostics: [Diagnostic]) {
        YAMLReader(file: "t.yaml").read(Array(text.utf8))
    }

    func value(_ node: YAMLNode?, _ key: String) -> YAMLNode? {
        node?.mapping?.first { $0.key.scalar == key }?.value
    }

    @Test func everyNodeKeepsItsLineAndColumn() throws {
        let (root, diagnostics) = read("a:\n  b: [1, two]\n  c:\n    - x: 'y'\n")
        #expect(diagnostics.isEmpty)
        let b = try #require(value(value(root, "a"), "b"))
        #expect((b.location.line, b.location.column) == (2, 6))
        let items = try #require(b.sequence)
        #expect((items[1].location.line, items[1].location.column) == (2, 10))
        let x = try #require(value(value(root, "a"), "c")?.sequence?.first.flatMap { value($0, "x") })
        #expect((x.location.line, x.location.column, x.scalar) == (4, 10, "y"))
        #expect(!x.isPlainScalar)
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let (root, diagnostics) = read(
            """
            base: &base { port: 5432, protocol: tcp }
            rule:
              <<: *base
              port: 6432
            list: [*base, *base]
            """)
        #expect(diagnostics.isEmpty)
        let rule = try #require(value(root, "rule"))
        #expect(value(rule, "port")?.scalar == "6432")  // written keys win over merged ones
        #expect(value(rule, "protocol")?.scalar == "tcp")
        #expect(value(root, "list")?.sequence?.count == 2)
    }

    @Test func duplicateKeysAreReportedWithTheFirstPosition() throws {
        let (_, diagnostics) = read("a: 1\nb: 2\na: 3\n")
        let d = try #require(diagnostics.first)
        #expect(d.code == "SL105")
        #expect((d.location?.line, d.location?.column) == (3, 1))
        #expect(d.notes.first?.location?.line == 1)
    }

    @Test func syntaxErrorsCarryLibyamlsPosition() throws {
        let (root, diagnostics) = read("a: [1, 2\nb: 3\n")
        #expect(root == nil)
        let d = try #require(diagnostics.first)
        #expect(d.code == "SL100")
        #expect(d.location?.line == 2)
    }

    @Test func aliasBombIsRefusedWithoutExpanding() throws {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { text += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let clock = ContinuousClock()
        let started = clock.now
        let (root, diagnostics) = read(text)
        #expect(root == nil)
        #expect(diagnostics.first?.code == "SL110")
        // Not a timing test: a generous bound only shows nothing was expanded (expansion would take hours).
        #expect(clock.now - started < .seconds(5))
    }

    @Test func deepNestingIsRefused() {
        let text = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        let (root, diagnostics) = read(text)
        #expect(root == nil)
        #expect(diagnostics.first?.code == "SL110")
    }

    @Test func oneDocumentPerFile() {
        let (_, diagnostics) = read("a: 1\n---\nb: 2\n")
        #expect(diagnostics.map(\.code) == ["SL100"])
        #expect(diagnostics.first?.location?.line == 2)
    }

    @Test func emptyInputIsAnEmptyMapping() {
        let (root, diagnostics) = read("")
        #expect(diagnostics.isEmpty)
        #expect(root?.mapping?.isEmpty == true)
    }
}
