import Checks
import CloudFormation
import SpecLoader
import SwiftSpecs
import YAML

/// One spec through the front half of the compiler: load (YAML, or a Swift spec compiled and run),
/// then, when it loaded cleanly, check.
public struct Compilation: Sendable {
    public var file: String
    public var spec: Spec?
    public var diagnostics: [Diagnostic]
    /// The tree the spec was decoded from, for `sluice export`.
    public var root: YAMLNode?
    /// The files the spec was read from: itself and what it includes.
    public var files: [String] = []

    public static func run(path: String) -> Compilation {
        // A .swift file (or a package's executable) is compiled and run; it yields the same tree YAML is read into.
        let loaded = isSwiftSpec(path) ? SwiftSpecLoader.load(path: path) : SpecLoader.load(path: path)
        var diagnostics = loaded.diagnostics
        // Checks reason about a whole, resolved model; a spec with loader errors has none yet.
        if let spec = loaded.spec { diagnostics += Checker.run(spec) + unmatchedScannerSuppressions(spec) }
        return Compilation(file: path, spec: loaded.spec, diagnostics: diagnostics.sortedForOutput(), root: loaded.root, files: loaded.files)
    }

    /// A scanner's suppression (checkov's `CKV_…`) exempts template resources; one whose subject is
    /// nothing the template has exempts nothing, as an unused suppression of a rule does.
    static func unmatchedScannerSuppressions(_ spec: Spec) -> [Diagnostic] {
        ScannerSuppressions.unmatched(spec).map { suppression in
            Diagnostic(
                .warning, code: Checker.unusedSuppression.id,
                "suppression of \(suppression.rule) names '\(suppression.subject ?? "")', which is nothing in the template",
                at: suppression.location, subject: "suppression:\(suppression.rule)")
        }
    }

    /// A Swift spec (a .swift file, or an executable calling `Spec.main()`) rather than YAML.
    public static func isSwiftSpec(_ path: String) -> Bool { SwiftSpecLoader.handles(path) }

    public var active: [Diagnostic] { diagnostics.filter { !$0.isSuppressed } }
    public var errorCount: Int { active.filter { $0.severity == .error }.count }
    public var warningCount: Int { active.filter { $0.severity == .warning }.count }
    public var suppressedCount: Int { diagnostics.filter(\.isSuppressed).count }
}

/// Every documented code: loader diagnostics, the suppression bookkeeping warning, and the check rules.
public enum RuleCatalog {
    public static var all: [RuleDocumentation] {
        (LoaderDiagnostics.catalog + [
            SwiftSpecDiagnostics.documentation, Checker.unusedSuppression, GeneratedFolder.stackQuota, WarehouseMigration.destructiveStep,
            WarehouseMigration.blockedStep, SpecSQL.invalid,
        ]
            + Checker.catalog)
            .sorted { $0.id < $1.id }
    }

    /// A check rule's examples (loader codes have none): fragments merged into `RuleExample.Base`.
    public static func examples(of id: String) -> (reported: [String], accepted: [String])? {
        guard let rule = Checker.rules.first(where: { $0.documentation.id == id }) else { return nil }
        return (rule.examples.triggering.map(\.fragment), rule.examples.nonTriggering.map(\.fragment))
    }

    public static func find(_ idOrName: String) -> RuleDocumentation? {
        all.first { $0.id.caseInsensitiveCompare(idOrName) == .orderedSame || $0.name == idOrName }
    }
}
