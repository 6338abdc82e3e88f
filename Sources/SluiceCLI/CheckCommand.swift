import ArgumentParser
import Foundation
import SluiceCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load specs, prove the network invariants and report every finding.",
        discussion: """
        Exit status: 0 when no spec has an error (or, with --strict, a warning); 1 when one has; 64 for a usage error. \
        An unreadable spec is an error with its reason. `sluice explain RULE` documents each rule ID.
        """)

    @Argument(help: "Spec files: YAML, Swift (compiled against SluiceDSL), or an executable calling `Spec.main()`. Default: specs/*.yaml, and specs/*.swift without a YAML twin.")
    var specs: [String] = []

    @Option(help: "Output format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: OutputFormat = .text

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    @Flag(inversion: .prefixedNo, help: "Colour the text output (default: only on a terminal, and never with NO_COLOR set).")
    var color: Bool?

    func validate() throws {
        if specs.isEmpty, DefaultSpecs.paths().isEmpty {
            throw ValidationError("no spec given and no specs/*.yaml or specs/*.swift in the current directory")
        }
    }

    func run() throws {
        let paths = specs.isEmpty ? DefaultSpecs.paths() : specs
        let compilations = paths.map(Compilation.run(path:))
        let useColor = color ?? Terminal.isInteractive(fileDescriptor: 1)
        FileHandle.standardOutput.write(Data(Reporter.render(compilations, as: format, color: useColor).utf8))
        let failed = compilations.contains { $0.errorCount > 0 || (strict && $0.warningCount > 0) }
        if failed { throw ExitCode.failure }
    }
}

extension OutputFormat: ExpressibleByArgument {}

enum Terminal {
    /// Colour and progress only on a terminal, and never when NO_COLOR is set (no-color.org).
    static func isInteractive(fileDescriptor: Int32) -> Bool {
        isatty(fileDescriptor) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
}
