import Crypto
import Foundation
import SluiceCore
import SpecLoader

/// Compiled Swift specs, keyed by everything that makes the program: the spec's path and bytes, the
/// SluiceDSL library and module it links, and the compiler. A second run with nothing changed only
/// hashes and runs (0.08 s for clickstream.swift); a changed spec compiles in about half a second.
struct SpecProgramCache {
    let environment: [String: String]

    /// `$SLUICE_CACHE_DIR`, else `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`.
    var root: URL {
        if let explicit = environment["SLUICE_CACHE_DIR"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("sluice") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/sluice")
    }

    func program(for absolutePath: String, displayPath: String) throws -> String {
        let library = try DSLLibrary.locate(environment: environment)
        let compiler = try Self.swiftc(environment: environment)
        var hasher = SHA256()
        for part in ["sluice-spec-program/1", absolutePath, compiler] { hasher.update(data: Data(part.utf8)); hasher.update(data: Data([0])) }
        for file in [absolutePath, library.sharedObject, library.module] {
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw SwiftSpecLoader.Failure(diagnostics: [SwiftSpecDiagnostics.failed(displayPath, "cannot read \(file)")])
            }
            hasher.update(data: bytes)
            hasher.update(data: Data([0]))
        }
        let key = hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
        let directory = root.appendingPathComponent("swift-specs").appendingPathComponent(String(key))
        let program = directory.appendingPathComponent("spec")
        if FileManager.default.isExecutableFile(atPath: program.path) { return program.path }

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Built under a unique name and renamed, so two sluice processes never run a half-written program.
        let partial = directory.appendingPathComponent("spec.\(UUID().uuidString).partial")
        defer { try? FileManager.default.removeItem(at: partial) }
        let arguments = [
            "-Onone", "-suppress-warnings", "-diagnostic-style", "llvm",
            "-module-cache-path", root.appendingPathComponent("module-cache").path,
            "-I", library.moduleDirectory, "-L", library.directory, "-lSluiceDSL",
            "-Xlinker", "-rpath", "-Xlinker", library.directory,
            "-o", partial.path, absolutePath,
        ]
        let result = try ChildProcess.run(compiler, arguments, timeout: 300)
        guard result.status == 0 else {
            throw SwiftSpecLoader.Failure(diagnostics: Self.compilerDiagnostics(result.stderr, absolutePath: absolutePath, displayPath: displayPath))
        }
        _ = try? FileManager.default.removeItem(at: program)
        try FileManager.default.moveItem(at: partial, to: program)
        return program.path
    }

    /// `file:line:col: error: message` lines, at the spec's own path; anything else in one diagnostic.
    static func compilerDiagnostics(_ output: String, absolutePath: String, displayPath: String) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
            guard parts.count == 5, let row = Int(parts[1]), let column = Int(parts[2]), parts[3] == " error" else { continue }
            let file = String(parts[0]) == absolutePath ? displayPath : SwiftSpecLoader.relativeToCurrentDirectory(String(parts[0]))
            diagnostics.append(
                SwiftSpecDiagnostics.compiler(
                    parts[4].trimmingCharacters(in: .whitespaces),
                    at: SourceLocation(file: file, line: row, column: column)))
        }
        if diagnostics.isEmpty {
            diagnostics.append(SwiftSpecDiagnostics.failed(displayPath, "the Swift compiler failed: \(output.isEmpty ? "no output" : output)"))
        }
        return diagnostics
    }

    /// `$SWIFTC`, else `swiftc` on the PATH.
    static func swiftc(environment: [String: String]) throws -> String {
        if let explicit = environment["SWIFTC"], !explicit.isEmpty { return explicit }
        for directory in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/swiftc"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SwiftSpecLoader.Failure(diagnostics: [
            SwiftSpecDiagnostics.failed("swiftc", "no Swift compiler on the PATH (or in $SWIFTC); Swift specs need the toolchain that built sluice")
        ])
    }
}

/// Where the SluiceDSL library and its module are: `$SLUICE_DSL_PATH`, else beside the running
/// executable (SwiftPM puts `libSluiceDSL.so` and `Modules/` next to `sluice` in `.build/<config>`).
struct DSLLibrary {
    let directory: String
    let moduleDirectory: String

    var sharedObject: String { "\(directory)/libSluiceDSL.\(Self.sharedObjectSuffix)" }
    var module: String { "\(moduleDirectory)/SluiceDSL.swiftmodule" }

    #if os(macOS)
        static let sharedObjectSuffix = "dylib"
    #else
        static let sharedObjectSuffix = "so"
    #endif

    static func locate(environment: [String: String]) throws -> DSLLibrary {
        var candidates: [String] = []
        if let explicit = environment["SLUICE_DSL_PATH"], !explicit.isEmpty { candidates.append(explicit) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().path)
        if let bundle = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            candidates.append(bundle.deletingLastPathComponent().path)
            // A test bundle runs from `.build/<config>/Name.xctest/...`.
            candidates.append(bundle.deletingLastPathComponent().deletingLastPathComponent().path)
        }
        for directory in candidates {
            for modules in ["\(directory)/Modules", directory]
            where FileManager.default.fileExists(atPath: "\(modules)/SluiceDSL.swiftmodule")
                && FileManager.default.fileExists(atPath: "\(directory)/libSluiceDSL.\(sharedObjectSuffix)")
            {
                return DSLLibrary(directory: directory, moduleDirectory: modules)
            }
        }
        throw SwiftSpecLoader.Failure(diagnostics: [
            SwiftSpecDiagnostics.failed(
                "SluiceDSL",
                "the SluiceDSL library is not next to sluice (looked in \(candidates.joined(separator: ", "))); build it in sluice's configuration, `swift build [-c release] --product SluiceDSL`, or set SLUICE_DSL_PATH"
            )
        ])
    }
}
