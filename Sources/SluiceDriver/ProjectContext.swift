import Foundation
import SpecLoader

/// The project `check` and `plan` work in: the nearest `sluice.yaml` (up to the repository's top),
/// or the defaults rooted at the current folder. Paths it hands out are as a user reads them:
/// relative to the current folder when inside it.
public struct ProjectContext {
    public let project: ProjectFile
    /// `sluice.yaml`
    public static let fileName = ProjectFile.name

    /// The current folder's project, and what reading its project file found. No context when the
    /// file has errors. `checkFormats` and `planFormats` are the output formats the file may name.
    public static func load(checkFormats: [String], planFormats: [String]) -> (context: ProjectContext?, diagnostics: [Diagnostic], file: String?) {
        let current = FileManager.default.currentDirectoryPath
        guard let file = ProjectFile.find(from: current) else {
            return (ProjectContext(project: ProjectFile(root: absolute(current))), [], nil)
        }
        // Read by the name a user would type, so its diagnostics point there.
        let (project, diagnostics) = ProjectFile.load(path: display(file), checkFormats: checkFormats, planFormats: planFormats)
        return (project.map(ProjectContext.init(project:)), diagnostics, display(file))
    }

    /// The project's specs. None is a usage error: there is nothing to check.
    public func specPaths() throws -> [String] {
        let paths = project.specFiles().map { Self.display(project.root + "/" + $0) }
        if paths.isEmpty {
            let place =
                project.path.map { "\(Self.display($0)) names no existing spec (specs: \(project.specs.joined(separator: ", ")))" }
                ?? "no spec given and no specs/*.yaml or specs/*.swift in the current directory (or a \(ProjectFile.name) naming them)"
            throw UsageError(place)
        }
        return paths
    }

    /// The project's generated folder, as `--output` takes it.
    public var generatedFolder: String { Self.display(project.root + "/" + project.generated) }

    /// Hook mode: of `changedFiles` (as git names them, relative to the current folder), the specs
    /// to check. The project's specs that changed, and the YAML specs that include a changed file;
    /// every spec when the project file changed. Files that are none of these are no business of
    /// `check`. The YAML specs are loaded to find what they include (milliseconds each); a Swift
    /// spec is compiled only when it changed itself.
    public func affectedSpecs(_ changedFiles: [String]) -> [Compilation] {
        let changed = Set(changedFiles.map(Self.absolute))
        let specs = project.specFiles().map { Self.display(project.root + "/" + $0) }
        if let projectFile = project.path, changed.contains(Self.absolute(projectFile)) {
            return specs.map(Compilation.run(path:))
        }
        return specs.compactMap { spec in
            if changed.contains(Self.absolute(spec)) { return Compilation.run(path: spec) }
            guard spec.hasSuffix(".yaml") || spec.hasSuffix(".yml") else { return nil }
            let compilation = Compilation.run(path: spec)
            return compilation.files.contains { changed.contains(Self.absolute($0)) } ? compilation : nil
        }
    }

    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// `path` relative to the current folder when inside it, else absolute.
    public static func display(_ path: String) -> String {
        let full = absolute(path)
        let current = absolute(FileManager.default.currentDirectoryPath)
        if full == current { return "." }
        return full.hasPrefix(current + "/") ? String(full.dropFirst(current.count + 1)) : full
    }
}
