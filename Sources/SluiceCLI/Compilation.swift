import ArgumentParser
import Checks
import Foundation
import SluiceCore
import SpecLoader
import SwiftSpecs

/// One spec through the front half of the compiler: load, then (when it loaded cleanly) check.
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
        let loaded = SwiftSpecLoader.handles(path) ? SwiftSpecLoader.load(path: path) : SpecLoader.load(path: path)
        var diagnostics = loaded.diagnostics
        // Checks reason about a whole, resolved model; a spec with loader errors has none yet.
        if let spec = loaded.spec { diagnostics += Checker.run(spec) }
        return Compilation(file: path, spec: loaded.spec, diagnostics: diagnostics.sortedForOutput(), root: loaded.root, files: loaded.files)
    }

    /// The spec, or its findings printed to stderr and exit 1: for commands that act on one clean spec.
    static func cleanSpec(path: String) throws -> Spec {
        try clean(path: path).spec!
    }

    /// The compilation of a spec without errors, or its findings printed to stderr and exit 1.
    static func clean(path: String) throws -> Compilation {
        try requiring(path: path) { $0.errorCount == 0 }
    }

    /// A spec that loaded, whatever the checks found (`sluice why` asks about broken networks too),
    /// or the loader's findings printed to stderr and exit 1.
    static func loadedSpec(path: String) throws -> Spec {
        try requiring(path: path) { _ in true }.spec!
    }

    private static func requiring(path: String, _ accept: (Compilation) -> Bool) throws -> Compilation {
        let compilation = run(path: path)
        guard compilation.spec != nil, accept(compilation) else {
            FileHandle.standardError.write(Data(Reporter.render([compilation], as: .text, color: Terminal.isInteractive(fileDescriptor: 2)).utf8))
            throw ExitCode.failure
        }
        return compilation
    }

    public var active: [Diagnostic] { diagnostics.filter { !$0.isSuppressed } }
    public var errorCount: Int { active.filter { $0.severity == .error }.count }
    public var warningCount: Int { active.filter { $0.severity == .warning }.count }
    public var suppressedCount: Int { diagnostics.filter(\.isSuppressed).count }
}

/// Every documented code: loader diagnostics, the suppression bookkeeping warning, and the check rules.
public enum RuleCatalog {
    public static var all: [RuleDocumentation] {
        (LoaderDiagnostics.catalog + [SwiftSpecDiagnostics.documentation, Checker.unusedSuppression] + Checker.catalog).sorted { $0.id < $1.id }
    }

    public static func find(_ idOrName: String) -> RuleDocumentation? {
        all.first { $0.id.caseInsensitiveCompare(idOrName) == .orderedSame || $0.name == idOrName }
    }
}
