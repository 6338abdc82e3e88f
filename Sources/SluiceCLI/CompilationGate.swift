import ArgumentParser
import Foundation
import SluiceDriver

/// For commands that act on one spec: the compilation they need, or its findings printed to stderr
/// and exit 1.
extension Compilation {
    /// The spec, without errors.
    static func cleanSpec(path: String) throws -> Spec {
        try clean(path: path).spec!
    }

    /// The compilation of a spec without errors.
    static func clean(path: String) throws -> Compilation {
        try requiring(path: path) { $0.errorCount == 0 }
    }

    /// A spec that loaded, whatever the checks found (`sluice why` asks about broken networks too).
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
}

/// Runs a driver call, turning its usage errors into ArgumentParser's (exit 64, with the usage line).
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as UsageError { throw ValidationError(error.description) }
}

extension ProjectContext {
    /// The current folder's project; a project file with errors prints them and exits 1.
    static func current() throws -> ProjectContext {
        let (context, diagnostics, file) = ProjectContext.load(
            checkFormats: OutputFormat.allCases.map(\.rawValue),
            planFormats: PlanOutput.allCases.map(\.rawValue))
        let reporter = TextReporter.standardError
        for diagnostic in diagnostics { FileHandle.standardError.write(Data(reporter.format(diagnostic).utf8)) }
        guard let context else {
            FileHandle.standardError.write(Data("error: \(file ?? ProjectContext.fileName) has errors; nothing was checked\n".utf8))
            throw ExitCode.failure
        }
        return context
    }
}
