import ArgumentParser
import Checks
import Foundation
import SluiceCore
import SpecLoader

/// One spec through the front half of the compiler: load, then (when it loaded cleanly) check.
public struct Compilation: Sendable {
    public var file: String
    public var spec: Spec?
    public var diagnostics: [Diagnostic]

    public static func run(path: String) -> Compilation {
        let loaded = SpecLoader.load(path: path)
        var diagnostics = loaded.diagnostics
        // Checks reason about a whole, resolved model; a spec with loader errors has none yet.
        if let spec = loaded.spec { diagnostics += Checker.run(spec) }
        return Compilation(file: path, spec: loaded.spec, diagnostics: diagnostics.sortedForOutput())
    }

    /// The spec, or its findings printed to stderr and exit 1: for commands that act on one clean spec.
    static func cleanSpec(path: String) throws -> Spec {
        let compilation = run(path: path)
        guard let spec = compilation.spec, compilation.errorCount == 0 else {
            FileHandle.standardError.write(Data(Reporter.render([compilation], as: .text, color: Terminal.isInteractive(fileDescriptor: 2)).utf8))
            throw ExitCode.failure
        }
        return spec
    }

    public var active: [Diagnostic] { diagnostics.filter { !$0.isSuppressed } }
    public var errorCount: Int { active.filter { $0.severity == .error }.count }
    public var warningCount: Int { active.filter { $0.severity == .warning }.count }
    public var suppressedCount: Int { diagnostics.filter(\.isSuppressed).count }
}

/// Every documented code: loader diagnostics, the suppression bookkeeping warning, and the check rules.
public enum RuleCatalog {
    public static var all: [RuleDocumentation] {
        (LoaderDiagnostics.catalog + [Checker.unusedSuppression] + Checker.catalog).sorted { $0.id < $1.id }
    }

    public static func find(_ idOrName: String) -> RuleDocumentation? {
        all.first { $0.id.caseInsensitiveCompare(idOrName) == .orderedSame || $0.name == idOrName }
    }
}
