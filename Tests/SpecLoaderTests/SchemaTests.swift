import Foundation
import SluiceCore
import Testing
import YAML

@testable import SpecLoader

/// The schema is the one declaration of the spec language's keys. These hold the decoder and
/// docs/spec.md to it; SwiftSpecTests holds the Swift export and the DSL to it, by round-tripping
/// the same corpus.
@Suite struct SchemaTests {
    /// The reference specs, and `every-key.yaml` for the keys they do not use: together they write
    /// every key of the schema.
    static let corpus: [String] =
        ["clickstream", "serverless-canonical", "sme-reporting", "streaming-lake", "data-platform"].map {
            packageRoot.appendingPathComponent("specs/\($0).yaml").path
        } + [packageRoot.appendingPathComponent("Tests/SpecLoaderTests/every-key.yaml").path]

    @Test func theCorpusWritesEveryKeyOfTheSchema() {
        var written: Set<String> = []
        for path in Self.corpus {
            let loaded = SpecLoader.load(path: path)
            #expect(loaded.spec != nil, "\(path): \(loaded.diagnostics.map { "\($0.location.map { "\($0)" } ?? ""): \($0.message)" })")
            written.formUnion(loaded.keysWritten)
        }
        let declared = Set(
            SpecSchema.sections.flatMap { section in section.keys.filter { !section.refused.contains($0) }.map { "\(section.name).\($0)" } })
        #expect(declared.subtracting(written).sorted() == [], "write these keys in Tests/SpecLoaderTests/every-key.yaml")
    }

    /// A key the schema takes and the decoder never reads would be accepted and then ignored.
    @Test func theDecoderReadsEveryKeyWritten() {
        for path in Self.corpus {
            #expect(SpecLoader.load(path: path).keysUnread == [], "\(path)")
        }
    }

    /// A refused key is taken, so its reason is given instead of "unknown key".
    @Test func aRefusedKeyIsAnErrorWithItsReason() {
        let loaded = SpecLoader.load(
            text: """
                project: { name: t, region: eu-west-1 }
                network: { vpc: { cidr: 10.0.0.0/16 }, subnets: [{ name: a, cidr: 10.0.1.0/24, az: a, type: isolated }] }
                messaging: { secrets: [{ name: key, value: hunter2 }] }
                """)
        #expect(loaded.diagnostics.map(\.message).contains { $0.hasPrefix("secrets are never written in a spec") })
    }

    @Test func aKeyTheDecoderDropsIsCaught() {
        // `name` read only when present: a spec that writes a key the decoder skips for its branch
        // still has it read (has/contains count), so this checks the tracking itself on a raw reader.
        let sink = DiagnosticSink()
        let root = YAMLReaderForTests.node("{ name: a, cidr: 10.0.0.0/16 }")
        let reader = MapReader(root, SpecSchema.vpc, sink: sink)
        _ = reader?.string("cidr")
        #expect(sink.unread.values.sorted() == ["vpc.name"])
        #expect(sink.written == ["vpc.name", "vpc.cidr"])
    }

    @Test func everySectionHasItsKeysOnceAndItsAlternativesAmongThem() {
        for section in SpecSchema.sections {
            #expect(Set(section.keys).count == section.keys.count, "\(section.name) lists a key twice")
            #expect(Set(section.exactlyOne).isSubset(of: section.keys), "\(section.name)")
            #expect(Set(section.refused).isSubset(of: section.keys), "\(section.name)")
        }
        #expect(SpecSchema.derivation.exactlyOne == DerivationKind.allCases.map(\.rawValue))
        #expect(Set(SpecSchema.sections.map(\.name)).count == SpecSchema.sections.count)
    }

    /// docs/spec.md is the reference users read: every key of the schema is written there (in
    /// backticks, as `key`, `parent.key` or `list[].key`).
    @Test func theSpecReferenceDocumentsEveryKey() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("docs/spec.md"), encoding: .utf8)
        var words: Set<String> = []
        for span in text.split(separator: "`", omittingEmptySubsequences: false).enumerated() where span.offset % 2 == 1 {
            for word in span.element.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }) { words.insert(String(word)) }
        }
        let missing = SpecSchema.sections.flatMap { section in section.keys.filter { !words.contains($0) }.map { "\(section.name).\($0)" } }
        #expect(missing == [], "docs/spec.md does not mention these keys")
    }
}

enum YAMLReaderForTests {
    static func node(_ text: String) -> YAMLNode {
        YAMLReader(file: "test.yaml").read(Array(text.utf8)).root!
    }
}
