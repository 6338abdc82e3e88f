import Foundation
import SluiceCore
import YAML

/// The project file, `sluice.yaml` at the top of a repository: which files are specs, where
/// `generated/` goes, and the defaults of `check` and `plan`. Without one, a project is the
/// defaults: `specs/*.yaml` and `specs/*.swift`, rendered into `generated/`.
public struct ProjectFile: Sendable, Equatable {
    public static let name = "sluice.yaml"
    public static let defaultSpecs = ["specs/*.yaml", "specs/*.yml", "specs/*.swift"]

    /// The folder holding the project file (or the current folder, for the defaults), absolute:
    /// every path and glob below is relative to it.
    public var root: String
    /// The file itself; nil when the defaults are in use.
    public var path: String?
    public var specs: [String] = ProjectFile.defaultSpecs
    /// Files the spec globs match that are not specs, such as fragments other specs include.
    public var exclude: [String] = []
    public var generated = "generated"
    public var strict = false
    public var checkFormat: String?
    public var planFormat: String?

    public init(root: String, path: String? = nil) {
        self.root = root
        self.path = path
    }

    /// The project's specs as paths relative to `root`, sorted: what the globs match, less what
    /// `exclude` matches and what lies in the generated folder. A Swift spec whose YAML twin (same
    /// folder, same name) is also a spec is left out: both would write the same generated folder.
    public func specFiles() -> [String] {
        let files = Glob.files(matching: specs, excluding: exclude, under: root, skipping: [generated])
        let isYAML = { (file: String) in file.hasSuffix(".yaml") || file.hasSuffix(".yml") }
        let yamlStems = Set(files.filter(isYAML).map { URL(fileURLWithPath: $0).deletingPathExtension().path })
        return files.filter { file in
            !(file.hasSuffix(".swift") && yamlStems.contains(URL(fileURLWithPath: file).deletingPathExtension().path))
        }
    }

    /// The project file in `directory` or the nearest folder above it, stopping at the repository's
    /// top (the folder holding `.git`): a command run in a subfolder uses its repository's project.
    public static func find(from directory: String) -> String? {
        var folder = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = folder.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) { return nil }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// Reads and checks a project file; diagnostics point at the line and column, as a spec's do.
    /// `checkFormats` and `planFormats` are the words each command's `--format` takes.
    public static func load(path: String, checkFormats: [String], planFormats: [String]) -> (project: ProjectFile?, diagnostics: [Diagnostic]) {
        let sink = DiagnosticSink()
        let bytes: [UInt8]
        do { bytes = try SpecLoader.readFile(path) } catch let error as SpecLoader.ReadError {
            return (nil, [LoaderDiagnostics.unreadable(path, reason: error.reason)])
        } catch {
            return (nil, [LoaderDiagnostics.unreadable(path, reason: "\(error)")])
        }
        let (node, diagnostics) = YAMLReader(file: path).read(bytes)
        diagnostics.forEach(sink.add)
        let root = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
        var project = ProjectFile(root: root, path: path)
        guard let node else { return (nil, sink.diagnostics) }
        // An empty file is a project with the defaults.
        if node.isNull { return (project, sink.diagnostics) }
        guard let top = MapReader(node, SpecSchema.projectFile, sink: sink) else {
            return (nil, sink.diagnostics)
        }
        if top.has("specs") {
            project.specs = globs(top, "specs", sink: sink)
            if top.strings("specs").isEmpty {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "'specs' names no glob; leave it out for the defaults (\(defaultSpecs.joined(separator: ", ")))",
                        at: top.location(of: "specs")))
            }
        }
        project.exclude = globs(top, "exclude", sink: sink)
        if let generated = top.string("generated") {
            if generated.isEmpty || generated.hasPrefix("/") || generated.split(separator: "/").contains("..") {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "'generated' is a folder inside the project, written relative to \(name)", at: top.location(of: "generated")))
            } else {
                project.generated = generated
            }
        }
        if let check = top.value("check"), let reader = MapReader(check, SpecSchema.projectCheck, sink: sink) {
            project.strict = reader.bool("strict") ?? false
            project.checkFormat = word(reader, allowed: checkFormats, sink: sink)
        }
        if let plan = top.value("plan"), let reader = MapReader(plan, SpecSchema.projectPlan, sink: sink) {
            project.planFormat = word(reader, allowed: planFormats, sink: sink)
        }
        return (sink.diagnostics.hasErrors ? nil : project, sink.diagnostics.sortedForOutput())
    }

    private static func globs(_ reader: MapReader, _ key: String, sink: DiagnosticSink) -> [String] {
        reader.strings(key).compactMap { glob in
            if let problem = Glob.problem(glob.value) {
                sink.add(LoaderDiagnostics.invalid("'\(glob.value)' in '\(key)': \(problem)", at: glob.location))
                return nil
            }
            return glob.value
        }
    }

    private static func word(_ reader: MapReader, allowed: [String], sink: DiagnosticSink) -> String? {
        guard let format = reader.string("format") else { return nil }
        guard allowed.contains(format) else {
            sink.add(LoaderDiagnostics.badWord(format, for: "format", allowed: allowed, at: reader.location(of: "format")))
            return nil
        }
        return format
    }
}
