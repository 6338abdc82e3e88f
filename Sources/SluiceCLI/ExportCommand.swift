import ArgumentParser
import Foundation
import SluiceDriver

/// `sluice export --swift SPEC.yaml` / `--yaml SPEC.swift`: the same spec in the other form, so a
/// team can move either way. Only a spec that loads without errors is exported.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a YAML spec as a Swift spec (--swift), or a Swift spec as YAML (--yaml).",
        discussion: """
            The result gives the same model, so the same generated/ output. YAML comments are not carried over (libyaml does not \
            report them), and includes are merged into the one file. Exit status: 0 written; 1 the spec has errors; 64 usage error.
            """)

    @Flag(help: "Write the Swift form of a YAML spec.")
    var swift = false

    @Flag(help: "Write the YAML form of a Swift spec (a .swift file or an executable calling Spec.main()).")
    var yaml = false

    @Argument(help: "The spec to export.")
    var spec: String

    @Option(name: .shortAndLong, help: "Write here instead of standard output.")
    var output: String?

    func validate() throws {
        guard swift != yaml else { throw ValidationError("give exactly one of --swift (from YAML) or --yaml (from Swift)") }
        if swift, Compilation.isSwiftSpec(spec) { throw ValidationError("'\(spec)' is already a Swift spec; --swift exports a YAML spec") }
        if yaml, !Compilation.isSwiftSpec(spec) { throw ValidationError("'\(spec)' is not a Swift spec; --yaml exports a .swift spec") }
    }

    func run() throws {
        let name = URL(fileURLWithPath: spec).lastPathComponent
        // One load: the tree written out is the one the clean model was decoded from.
        guard let text = try SpecTranslation.render(try Compilation.clean(path: spec), as: swift ? .swift : .yaml, source: name) else {
            throw ExitCode.failure
        }
        if let output {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
