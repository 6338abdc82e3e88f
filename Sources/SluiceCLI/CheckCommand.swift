import ArgumentParser
import Foundation
import SluiceDriver

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load specs, prove the network invariants and report every finding.",
        discussion: """
            Without spec arguments, checks the project's specs: those the nearest sluice.yaml names (its folder or one \
            above, up to the repository's top), else specs/*.yaml and specs/*.swift. The project file also sets the \
            defaults of --strict and --format. \
            With --affected (the pre-commit hook), the arguments are changed files: the project's specs among them, and \
            the YAML specs that include one of them, are checked; other files are ignored, and nothing to check is success. \
            Exit status: 0 when no spec has an error (or, with --strict, a warning); 1 when one has; 64 for a usage error. \
            An unreadable spec is an error with its reason. `sluice explain RULE` documents each rule ID.
            """)

    @Argument(
        help:
            "Spec files: YAML, Swift (compiled against SluiceDSL), or an executable calling `Spec.main()`. Default: the project's specs. With --affected: changed files of any kind."
    )
    var specs: [String] = []

    @Option(
        help: "Output format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")) (default: the project file's check.format, else text)."
    )
    var format: OutputFormat?

    @Flag(inversion: .prefixedNo, help: "Treat warnings as errors (default: the project file's check.strict, else no).")
    var strict: Bool?

    @Option(help: ArgumentHelp("Also write the findings as SARIF 2.1.0 to this file, for code scanning, whatever --format is.", valueName: "file"))
    var sarif: String?

    @Flag(help: "The arguments are changed files (as pre-commit passes them): check the project's specs they touch.")
    var affected = false

    @Flag(inversion: .prefixedNo, help: "Colour the text output (default: only on a terminal, and never with NO_COLOR set).")
    var color: Bool?

    func run() throws {
        let context = try ProjectContext.current()
        let compilations: [Compilation]
        if affected {
            compilations = context.affectedSpecs(specs)
        } else {
            compilations = try (specs.isEmpty ? usage { try context.specPaths() } : specs).map(Compilation.run(path:))
        }
        let format = format ?? context.project.checkFormat.flatMap(OutputFormat.init(rawValue:)) ?? .text
        let strict = strict ?? context.project.strict
        let useColor = color ?? Terminal.isInteractive(fileDescriptor: 1)
        // The hook with nothing of ours among the changed files: silent success, as a linter with no files is.
        if !compilations.isEmpty || format != .text {
            FileHandle.standardOutput.write(Data(Reporter.render(compilations, as: format, color: useColor).utf8))
        }
        if let sarif {
            do {
                try Data(Reporter.render(compilations, as: .sarif).utf8).write(to: URL(fileURLWithPath: sarif), options: .atomic)
            } catch {
                FileHandle.standardError.write(Data("error: cannot write the SARIF file \(sarif): \(error.localizedDescription)\n".utf8))
                throw ExitCode.failure
            }
        }
        let failed = compilations.contains { $0.errorCount > 0 || (strict && $0.warningCount > 0) }
        if failed { throw ExitCode.failure }
    }
}

extension OutputFormat: ExpressibleByArgument {}
