import Foundation
import SwiftSpecs
import Testing
import SluiceCore
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
        let numbered = text.replacingOccurrences(of: "{ name: event_name, type: text, not_null: true }",
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
