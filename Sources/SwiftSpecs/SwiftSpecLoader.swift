import Foundation
import SluiceCore
import SpecLoader
import YAML

/// Loads a spec written in Swift the way SwiftPM loads `Package.swift`: compile the file against the
/// SluiceDSL library (cached by content), run it, read the node tree it writes, and decode that with
/// the YAML loader's decoder. A package's own executable that calls `Spec.main()` is run the same way.
public enum SwiftSpecLoader {
    /// Whether `path` names a spec this loader handles: a `.swift` file, or an executable that is not YAML.
    public static func handles(_ path: String) -> Bool {
        if path.hasSuffix(".swift") { return true }
        if path.hasSuffix(".yaml") || path.hasSuffix(".yml") { return false }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> LoadResult {
        // The file it compiles is the one its result depends on (a package's sources are its own build's business).
        switch nodes(path: path, environment: environment) {
        case .success(let root):
            var result = SpecLoader.load(root: root, file: path)
            result.files = [path]
            return result
        case .failure(let failure): return LoadResult(spec: nil, diagnostics: failure.diagnostics, files: [path])
        }
    }

    public struct Failure: Error { public var diagnostics: [Diagnostic] }

    /// The spec's node tree, or why there is none (compiler errors at their lines, a crash, a missing library).
    static func nodes(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<YAMLNode, Failure> {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            let program: String
            if path.hasSuffix(".swift") {
                guard FileManager.default.isReadableFile(atPath: absolute) else {
                    return .failure(Failure(diagnostics: [LoaderDiagnostics.unreadable(path, reason: "no such file or not readable")]))
                }
                program = try SpecProgramCache(environment: environment).program(for: absolute, displayPath: path)
            } else {
                program = absolute
            }
            let data = try run(program, specPath: path)
            var sources = DeclarationSources()
            let root = try SpecNodes.read(data) { file, line, column in
                SourceLocation(
                    file: file == absolute ? path : relativeToCurrentDirectory(file), line: line,
                    column: sources.nameColumn(file: file, line: line, column: column))
            }
            return .success(root)
        } catch let failure as Failure {
            return .failure(failure)
        } catch let malformed as SpecNodes.Malformed {
            return .failure(Failure(diagnostics: [SwiftSpecDiagnostics.failed(path, "its output could not be read: \(malformed.description)")]))
        } catch {
            return .failure(Failure(diagnostics: [SwiftSpecDiagnostics.failed(path, "\(error)")]))
        }
    }

    /// Runs the compiled spec, which writes its tree to a file it is given (stdout stays the user's own).
    static func run(_ program: String, specPath: String) throws -> Data {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-spec-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try ChildProcess.run(program, [SpecNodes.emitFlag, output.path], timeout: 120)
        guard result.status == 0 else {
            let reason = result.timedOut ? "it ran longer than 120 s" : "it exited with status \(result.status)"
            throw Failure(diagnostics: [SwiftSpecDiagnostics.failed(specPath, "\(reason)\(result.stderr.isEmpty ? "" : ": " + result.stderr)")])
        }
        guard let data = FileManager.default.contents(atPath: output.path), !data.isEmpty else {
            throw Failure(diagnostics: [
                SwiftSpecDiagnostics.failed(
                    specPath,
                    "it wrote no spec: a spec file declares `let spec = Spec { … }`, and a package's executable calls `spec.main()`")
            ])
        }
        return data
    }

    static func relativeToCurrentDirectory(_ file: String) -> String {
        let current = FileManager.default.currentDirectoryPath + "/"
        return file.hasPrefix(current) ? String(file.dropFirst(current.count)) : file
    }
}

/// Swift records a call's position at its `(`; a finding reads better at the name before it
/// (`Ingress(` is reported at the `I`). The spec's source lines are read once per file.
struct DeclarationSources {
    private var lines: [String: [[UInt8]]] = [:]

    mutating func nameColumn(file: String, line: Int, column: Int) -> Int {
        if lines[file] == nil {
            let bytes = FileManager.default.contents(atPath: file).map([UInt8].init) ?? []
            lines[file] = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        }
        guard let text = lines[file], text.indices.contains(line - 1) else { return column }
        let row = text[line - 1]
        var index = column - 1
        guard row.indices.contains(index), row[index] == UInt8(ascii: "(") else { return column }
        let isName: (UInt8) -> Bool = {
            $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
        }
        while index > 0, isName(row[index - 1]) { index -= 1 }
        return index + 1
    }
}

extension SpecNodes {
    /// The argument SluiceDSL's entry point takes: where to write the tree.
    public static let emitFlag = "--sluice-emit"
}

/// `SL112`: the Swift spec did not compile, crashed, or wrote nothing.
public enum SwiftSpecDiagnostics {
    public static let documentation = RuleDocumentation(
        id: "SL112", name: "swift-spec", severity: .error, summary: "A Swift spec that does not compile, run, or write a spec.",
        explanation:
            "A .swift spec is compiled against the SluiceDSL library and run, as SwiftPM does with Package.swift. Compiler errors are reported at their file, line and column; a spec that traps, runs over 120 s, or declares no `Spec` is reported with its output. SluiceDSL is looked for next to the sluice executable (or in SLUICE_DSL_PATH)."
    )

    public static func failed(_ path: String, _ reason: String, at location: SourceLocation? = nil) -> Diagnostic {
        Diagnostic(.error, code: "SL112", "the Swift spec \(path) failed: \(reason)", at: location ?? SourceLocation(file: path, line: 1, column: 1))
    }

    public static func compiler(_ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code: "SL112", "Swift: \(message)", at: location)
    }
}
