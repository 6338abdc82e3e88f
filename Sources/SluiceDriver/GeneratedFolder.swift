import ArchitectureDiagram
import CloudFormation
import Foundation
import PlanCompiler
import SluiceCore
import WarehouseDDL

/// `generated/<spec>/`: every renderer's output for one spec, and how it differs from what is on disk.
public struct GeneratedFolder: Sendable {
    public enum Status: String, Encodable, Sendable {
        case added, changed, unchanged, removed

        /// As plan lists it: + added, ~ changed, - removed, = unchanged.
        public var sign: String {
            switch self {
            case .added: "+";
            case .changed: "~";
            case .removed: "-";
            case .unchanged: "="
            }
        }
    }

    public struct FileChange: Encodable, Sendable {
        public var path: String
        public var status: Status
        public var linesAdded: Int
        public var linesRemoved: Int
    }

    public let directory: URL
    /// File name → contents, from every renderer that has something for this spec.
    public let files: [(name: String, contents: String)]
    /// The CloudFormation template as a tree, for the plan's diff and quota check.
    let template: TemplateValue
    let spec: Spec
    let specPath: String

    public init(spec: Spec, specPath: String, root: String) throws {
        self.spec = spec
        self.specPath = specPath
        let base = URL(fileURLWithPath: specPath).deletingPathExtension().lastPathComponent
        directory = URL(fileURLWithPath: root).appendingPathComponent(base)
        let cloudformation = try TemplateRenderer.rendered(spec: spec)
        template = cloudformation.template
        var files: [(String, String)] = [
            ("architecture.md", ArchitectureDiagram.render(spec: spec)),
            ("cloudformation.yaml", cloudformation.text),
        ]
        if let plan = try PlanCompiler.render(spec) { files.append(("plan.json", plan)) }
        if let schema = SchemaScript.render(spec: spec) { files.append(("schema.sql", schema)) }
        self.files = files
    }

    /// What writing would change. Files in the folder that no renderer produces any more are `removed`.
    public func changes() -> [FileChange] {
        var result: [FileChange] = []
        for file in files {
            let path = directory.appendingPathComponent(file.name).path
            guard let old = try? String(contentsOfFile: path, encoding: .utf8) else {
                result.append(FileChange(path: path, status: .added, linesAdded: Self.lines(file.contents).count, linesRemoved: 0))
                continue
            }
            if old == file.contents {
                result.append(FileChange(path: path, status: .unchanged, linesAdded: 0, linesRemoved: 0))
            } else {
                let (added, removed) = Self.lineDifference(old, file.contents)
                result.append(FileChange(path: path, status: .changed, linesAdded: added, linesRemoved: removed))
            }
        }
        let produced = Set(files.map(\.name))
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() where !produced.contains(name) {
            let path = directory.appendingPathComponent(name).path
            let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            result.append(FileChange(path: path, status: .removed, linesAdded: 0, linesRemoved: Self.lines(old).count))
        }
        return result
    }

    public func write() throws {
        if files.isEmpty, !FileManager.default.fileExists(atPath: directory.path) { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in files {
            let url = directory.appendingPathComponent(file.name)
            if (try? String(contentsOf: url, encoding: .utf8)) == file.contents { continue }
            try Data(file.contents.utf8).write(to: url, options: .atomic)
        }
        let produced = Set(files.map(\.name))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where !produced.contains(name) {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// What the new template changes against the cloudformation.yaml in the folder now (read before
    /// `write`).
    public func templateChanges() -> TemplateChanges {
        TemplateChanges.compute(spec: spec, template: template, previousFile: directory.appendingPathComponent("cloudformation.yaml"))
    }

    public static let stackQuota = RuleDocumentation(
        id: "SL002", name: "stack-quota", severity: .warning, summary: "The template is larger than one CloudFormation stack takes.",
        explanation:
            "CloudFormation takes at most 500 resources and a template of at most 1,000,000 bytes per stack (AWS's quotas). The template still renders, lints and can be reviewed, but it does not deploy as one stack: split the spec by part of the platform, or leave out what it does not need. `sluice plan` reports it."
    )

    /// What rendering finds that the checks cannot see: a template beyond what one CloudFormation
    /// stack takes (it renders and lints, but does not deploy as one stack).
    public func findings() -> [Diagnostic] {
        let resources = TemplateRenderer.resourceCount(template)
        let bytes = files.first { $0.name == "cloudformation.yaml" }?.contents.utf8.count ?? 0
        guard resources > 500 || bytes > 1_000_000 else { return [] }
        let location = spec.project.location == .unknown ? SourceLocation(file: specPath, line: 1, column: 1) : spec.project.location
        return [
            Diagnostic(
                Self.stackQuota.severity, code: Self.stackQuota.id,
                "the template has \(resources) resources and \(bytes) bytes; CloudFormation takes at most 500 resources and 1,000,000 bytes per stack, so this spec must be split to deploy",
                at: location, subject: "template")
        ]
    }

    /// Every name a renderer writes into a spec's folder.
    static let renderedNames: Set<String> = ["architecture.md", "cloudformation.yaml", "plan.json", "schema.sql"]

    /// A folder of generated/ that no spec of the project renders any more: its spec was deleted or renamed.
    public struct Orphan: Sendable {
        public let directory: URL
        public let files: [FileChange]
        /// Only what Sluice renders is in it, so removing it loses nothing of a user's.
        public let removable: Bool
    }

    /// The subfolders of `root` other than `rendered` (folder names), hidden ones left alone.
    public static func orphans(in root: String, rendered: Set<String>) -> [Orphan] {
        let rootURL = URL(fileURLWithPath: root)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        return names.compactMap { name in
            var isDirectory: ObjCBool = false
            let directory = rootURL.appendingPathComponent(name)
            guard !name.hasPrefix("."), !rendered.contains(name),
                FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
            else { return nil }
            let contents = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
            let files = contents.map { file in
                let path = directory.appendingPathComponent(file).path
                let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                return FileChange(path: path, status: .removed, linesAdded: 0, linesRemoved: lines(old).count)
            }
            return Orphan(directory: directory, files: files, removable: contents.allSatisfy(renderedNames.contains))
        }
    }

    private static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// Lines added and removed, by longest common subsequence over lines (files here are small).
    static func lineDifference(_ old: String, _ new: String) -> (added: Int, removed: Int) {
        let a = lines(old), b = lines(new)
        var previous = [Int](repeating: 0, count: b.count + 1)
        for i in 0..<a.count {
            var current = [Int](repeating: 0, count: b.count + 1)
            for j in 0..<b.count {
                current[j + 1] = a[i] == b[j] ? previous[j] + 1 : max(previous[j + 1], current[j])
            }
            previous = current
        }
        let common = previous[b.count]
        return (b.count - common, a.count - common)
    }
}
