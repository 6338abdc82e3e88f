import Foundation
import SluiceCore
import SwiftSpecs
import Testing

@testable import Checks
@testable import SpecLoader

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct CatalogTests {
    @Test func ruleIDsAndNamesAreUniqueAndDocumented() {
        let all = Checker.catalog + LoaderDiagnostics.catalog + [SwiftSpecDiagnostics.documentation, Checker.unusedSuppression]
        #expect(Set(all.map(\.id)).count == all.count)
        #expect(Set(all.map(\.name)).count == all.count)
        for rule in all {
            #expect(rule.id.hasPrefix("SL") && rule.id.count == 5)
            #expect(rule.summary.count > 20 && rule.explanation.count > 60, "\(rule.id) needs real documentation")
        }
    }

    /// The catalog is a hand-written list; a rule left out of it would never run. Every `Rule` type
    /// under Sources/Checks/Rules/ must be in it, once.
    @Test func everyRuleTypeIsInTheCatalog() throws {
        let folder = packageRoot.appendingPathComponent("Sources/Checks/Rules")
        var declared: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let names = text.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.firstRange(of: /struct (\w+)\s*:\s*Rule\b/) else { return nil }
                return String(line[range].dropFirst("struct ".count).prefix { $0 != ":" && $0 != " " })
            }
            #expect(names.count == 1, "\(file) declares \(names.count) rules; one file per rule")
            declared += names
        }
        let registered = Checker.rules.map { String(describing: $0) }
        #expect(Set(registered).count == registered.count, "a rule is registered twice")
        #expect(
            Set(declared) == Set(registered),
            "declared but not in Checker.rules: \(Set(declared).subtracting(registered).sorted()); registered but not declared: \(Set(registered).subtracting(declared).sorted())"
        )
    }

    /// A check rule's ID is written once, in its own documentation: findings, suppressions and
    /// tests refer to the rule, so a renumbering cannot leave a stale copy behind.
    @Test func ruleIDsAreWrittenOnlyInTheirRule() throws {
        let sources = packageRoot.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources.path))
        let checkRuleIDs = Set(Checker.catalog.map(\.id))
        for case let path as String in enumerator where path.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8)
            let literals = Set(text.matches(of: /"(SL\d{3})"/).map { String($0.output.1) }).intersection(checkRuleIDs)
            if path.hasPrefix("Checks/Rules/") {
                #expect(literals.count == 1, "\(path) writes \(literals.sorted()): a rule writes its own ID only")
            } else {
                #expect(literals.isEmpty, "\(path) writes the rule ID(s) \(literals.sorted()); refer to the rule's documentation instead")
            }
        }
    }

    /// `specs/invalid/` holds one broken spec per rule: the rule tests.
    @Test func everyRuleHasAnInvalidSpec() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("specs/invalid").path)
        for rule in Checker.catalog + LoaderDiagnostics.catalog + [SwiftSpecDiagnostics.documentation, Checker.unusedSuppression] {
            let matching = files.filter { $0.hasPrefix(rule.id + "-") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".swift")) }
            #expect(!matching.isEmpty, "no specs/invalid/\(rule.id)-*.yaml or .swift")
        }
    }

    @Test func anIdentityColumnNeedsNoFeeding() throws {
        let path = packageRoot.appendingPathComponent("specs/invalid/SL504-not-null-fed.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(Checker.run(try #require(SpecLoader.load(text: text).spec)).contains { $0.code == "SL504" })
        let numbered = text.replacingOccurrences(
            of: "{ name: event_name, type: text, not_null: true }",
            with: "{ name: event_name, type: text, not_null: true }\n        - { name: seq, type: bigint, not_null: true, identity: true }")
        #expect(numbered != text)
        let fixed = numbered.replacingOccurrences(of: "event_id: event_id\n", with: "event_id: event_id\n          event_name: event_id\n")
        let findings = Checker.run(try #require(SpecLoader.load(text: fixed).spec))
        #expect(!findings.contains { $0.code == "SL504" }, "\(findings.filter { $0.code == "SL504" }.map(\.message))")
    }

    @Test func suppressionsNeedAMatchAndKeepTheirReason() throws {
        let path = packageRoot.appendingPathComponent("specs/invalid/SL215-open-admin-port.yaml").path
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text += "suppressions:\n  - rule: SL215\n    subject: security_group:admin\n    reason: break-glass access while the VPN is rebuilt\n"
        let spec = try #require(SpecLoader.load(text: text).spec)
        let findings = Checker.run(spec)
        let suppressed = try #require(findings.first { $0.code == "SL215" })
        #expect(suppressed.suppressedBecause == "break-glass access while the VPN is rebuilt")
        #expect(!findings.hasErrors)
    }
}
