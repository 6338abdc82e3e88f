import Foundation
import SluiceCore
import TestSupport
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
            let alternatives = section.entries.filter { $0.absence == .alternative }.map(\.name)
            #expect(alternatives == section.exactlyOne, "\(section.name): the .alternative keys are its exactly-one group")
            for key in section.entries where !key.allowed.isEmpty {
                #expect(Set(key.allowed).count == key.allowed.count, "\(section.name).\(key.name) allows a word twice")
            }
        }
        #expect(SpecSchema.derivation.exactlyOne == DerivationKind.allCases.map(\.rawValue))
        #expect(Set(SpecSchema.sections.map(\.name)).count == SpecSchema.sections.count)
    }

    /// The key tables of docs/spec.md are the schema's. `scripts/update-spec-docs` rewrites them.
    @Test func theSpecReferenceTablesAreTheSchemas() throws {
        let url = packageRoot.appendingPathComponent("docs/spec.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let generated = try SpecReference.updating(text)
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_SPEC_DOCS"] == "1", generated != text {
            try generated.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(generated == text, "docs/spec.md's tables are not the schema's: run scripts/update-spec-docs")
    }

    @Test func theReferenceRefusesAMarkerForNoSectionAndASectionWithoutTable() {
        #expect(throws: SpecReference.Problem.self) { try SpecReference.updating("<!-- schema: nothing -->\n<!-- end schema -->") }
        #expect(throws: SpecReference.Problem.self) { try SpecReference.updating("# no tables\n") }
        #expect(throws: SpecReference.Problem.self) {
            try SpecReference.updating("<!-- schema: vpc -->\n| old |", sections: [SpecSchema.vpc])
        }
        let one = try? SpecReference.updating("<!-- schema: vpc -->\n| old |\n<!-- end schema -->\ntail", sections: [SpecSchema.vpc])
        #expect(one?.contains("| `cidr` | IPv4 CIDR, /16–/28 | **required** |") == true)
        #expect(one?.hasPrefix("<!-- schema: vpc -->\n\n| key | type | default | meaning |\n") == true)
        #expect(one?.hasSuffix(" |\n\n<!-- end schema -->\ntail") == true)
        #expect(one?.contains("| old |") == false)
    }

    /// Every `[text](#anchor)` in docs/spec.md lands on one of its headings (GitHub's anchors: lower
    /// case, spaces as dashes, other punctuation dropped).
    @Test func everyLinkInTheSpecReferenceLandsOnAHeading() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("docs/spec.md"), encoding: .utf8)
        let anchors = Set(
            text.split(separator: "\n").filter { $0.hasPrefix("#") }.map { heading in
                String(
                    heading.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces).lowercased()
                        .compactMap { $0 == " " ? "-" : ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : nil) })
            })
        var links: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "](#") {
            rest = rest[open.upperBound...]
            if let close = rest.firstIndex(of: ")") { links.append(String(rest[..<close])) }
        }
        #expect(!links.isEmpty)
        #expect(links.filter { !anchors.contains($0) } == [])
    }

    /// A key the schema marks required cannot be left out: each required key written in the corpus,
    /// removed, makes the spec an error that names it.
    @Test func leavingOutARequiredKeyIsAnErrorNamingIt() throws {
        var tried = 0
        for path in Self.corpus {
            let loaded = SpecLoader.load(path: path)
            let root = try #require(loaded.root)
            var seen: Set<String> = []
            for occurrence in loaded.keyOccurrences where occurrence.section[occurrence.key].isRequired {
                guard seen.insert("\(occurrence.section.name).\(occurrence.key)").inserted else { continue }
                let changed = SpecVariations.changing(keyAt: occurrence.location, in: root) { _ in nil }
                let result = SpecLoader.load(root: changed, file: path)
                let errors = result.diagnostics.filter { $0.severity == .error }.map(\.message)
                #expect(
                    errors.contains { $0.contains("'\(occurrence.key)'") },
                    "\(occurrence.location): \(occurrence.section.name).\(occurrence.key) left out: \(errors)")
                tried += 1
            }
        }
        #expect(tried > 100)
    }

    /// A key with a default can be left out: the spec still loads without that key being asked for.
    @Test func leavingOutAKeyWithADefaultIsNotAMissingKey() throws {
        var tried = 0
        for path in Self.corpus {
            let loaded = SpecLoader.load(path: path)
            let root = try #require(loaded.root)
            for occurrence in loaded.keyOccurrences {
                guard case .defaults = occurrence.section[occurrence.key].absence else { continue }
                let changed = SpecVariations.changing(keyAt: occurrence.location, in: root) { _ in nil }
                let missing = SpecLoader.load(root: changed, file: path).diagnostics.filter {
                    $0.message.hasPrefix("missing required key '\(occurrence.key)'")
                }
                #expect(missing.isEmpty, "\(occurrence.location): \(occurrence.section.name).\(occurrence.key)")
                tried += 1
            }
        }
        #expect(tried > 100)
    }

    /// The words a key allows are exactly those the decoder takes: each allowed word written in its
    /// place is accepted there, and a word not allowed is refused there with the allowed ones listed.
    @Test func everyAllowedWordIsTakenAndNoOther() throws {
        var tried: Set<String> = []
        for path in Self.corpus {
            let loaded = SpecLoader.load(path: path)
            let root = try #require(loaded.root)
            for occurrence in loaded.keyOccurrences {
                let key = occurrence.section[occurrence.key]
                guard !key.allowed.isEmpty, tried.insert("\(occurrence.section.name).\(key.name)").inserted else { continue }
                var valueLocation: SluiceCore.SourceLocation?
                func load(_ word: String) -> [Diagnostic] {
                    let changed = SpecVariations.changing(keyAt: occurrence.location, in: root) { value in
                        valueLocation = value.location
                        return value.sequence != nil ? SpecVariations.list([word], near: value) : SpecVariations.scalar(word, near: value)
                    }
                    return SpecLoader.load(root: changed, file: path).diagnostics.filter { $0.location == valueLocation }
                }
                for word in key.allowed {
                    #expect(load(word).map(\.message) == [], "\(occurrence.location): '\(word)' for \(occurrence.section.name).\(key.name)")
                }
                let refused = load("no-such-word").map(\.message)
                #expect(
                    refused.contains { $0.contains("'no-such-word' is not a valid") && $0.contains(key.allowed.joined(separator: ", ")) },
                    "\(occurrence.location): \(occurrence.section.name).\(key.name): \(refused)")
            }
        }
        let declared = Set(
            SpecSchema.sections.flatMap { section in section.entries.filter { !$0.allowed.isEmpty }.map { "\(section.name).\($0.name)" } })
        #expect(declared.subtracting(tried).sorted() == [], "write these keys in the corpus")
    }
}

enum YAMLReaderForTests {
    static func node(_ text: String) -> YAMLNode {
        YAMLReader(file: "test.yaml").read(Array(text.utf8)).root!
    }
}
