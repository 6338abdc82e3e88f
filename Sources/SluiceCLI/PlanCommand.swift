import ArgumentParser
import Foundation
import SluiceDriver

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Check specs, render generated/<spec>/, and show what changed (and, with --database, the migration).",
        discussion: """
            Without spec arguments, plans the project's specs (see `sluice check --help`) into the project's generated \
            folder (sluice.yaml's `generated`, else generated/). \
            Writes generated/<spec>/ (cloudformation.yaml, schema.sql, plan.json, architecture.md) for each spec that passes its \
            checks and lists the files added, changed or removed; for the template, the resources added, removed and modified \
            and every security-relevant row (policy statements, Lambda permissions, security-group rules, routes, ACL entries) \
            added or removed. \
            With --database URL (one spec), also reads that database's catalog and prints the SQL `sluice apply` would run; \
            nothing in the database changes.
            Exit status: 0 ok; 1 a spec has errors, or (--check) generated/ is stale; 2 changes, with --detailed-exitcode; 64 usage error.
            """)

    @Argument(help: "Spec files: YAML, Swift (compiled against SluiceDSL), or an executable calling `Spec.main()`. Default: the project's specs.")
    var specs: [String] = []

    @Option(help: "Folder the rendered files go to, one subfolder per spec (default: the project's generated folder).")
    var output: String?

    @Flag(help: "Write nothing; exit 1 when generated/ differs from what the specs render (the CI drift gate).")
    var check = false

    @Flag(
        name: .shortAndLong,
        help: "Print no plan text, only problems: a spec's errors, warnings and, with --check, the stale files (the pre-commit hook).")
    var quiet = false

    @Flag(help: "Exit 0 when nothing changed, 2 when something did, 1 on error (Terraform's convention).")
    var detailedExitcode = false

    @Option(help: "A PostgreSQL URL: also plan the migration of this database (one spec only).")
    var database: String?

    @Option(help: "Output format: text, json or github (default: the project file's plan.format, else text).")
    var format: PlanOutput?

    func validate() throws {
        if database != nil, specs.count != 1 { throw ValidationError("--database plans one spec's warehouse: name exactly one spec") }
    }

    struct Report: Encodable {
        var specs: [SpecResult]
        /// Files of generated/ folders no spec renders any more (planning the project's specs only).
        var orphaned: [GeneratedFolder.FileChange]?
    }

    struct SpecResult: Encodable {
        var spec: String
        var files: [GeneratedFolder.FileChange]
        /// Against the cloudformation.yaml already in generated/.
        var cloudformation: TemplateChanges?
        var migration: MigrationReport?
    }

    func run() throws {
        let context = try ProjectContext.current()
        let paths = specs.isEmpty ? try usage { try context.specPaths() } : specs
        let output = output ?? context.generatedFolder
        let format = format ?? context.project.planFormat.flatMap(PlanOutput.init(rawValue:)) ?? .text
        let compilations = paths.map(Compilation.run(path:))
        let failed = compilations.filter { $0.errorCount > 0 || $0.spec == nil }
        if !failed.isEmpty {
            if format == .github { print(Reporter.render(failed, as: .github), terminator: "") }
            FileHandle.standardError.write(Data(Reporter.render(failed, as: .text, color: Terminal.isInteractive(fileDescriptor: 2)).utf8))
            throw ExitCode.failure
        }
        var results: [SpecResult] = []
        var renderedFolders = Set<String>()
        var changed = false
        for compilation in compilations {
            guard let spec = compilation.spec else { continue }
            let folder = try GeneratedFolder(spec: spec, specPath: compilation.file, root: output)
            renderedFolders.insert(folder.directory.lastPathComponent)
            let changes = folder.changes()
            if changes.contains(where: { $0.status != .unchanged }) { changed = true }
            // Warnings do not stop the plan, but are said: the spec's own, and what rendering found.
            let reporter = TextReporter(color: Terminal.isInteractive(fileDescriptor: 2), sources: SourceCache())
            for warning in compilation.active + folder.findings() { FileHandle.standardError.write(Data(reporter.format(warning).utf8)) }
            // Compared before writing, with what the previous plan left in generated/.
            let template = folder.templateChanges()
            if !check { try folder.write() }
            var result = SpecResult(spec: compilation.file, files: changes, cloudformation: template.isEmpty ? nil : template)
            if let database {
                guard spec.warehouse != nil else { throw ValidationError("\(compilation.file) has no warehouse to plan a migration for") }
                let migration = try WarehouseMigration.plan(spec, database: database)
                if !migration.upToDate { changed = true }
                result.migration = migration
            }
            if format == .text, !quiet { print(text(result)) }
            results.append(result)
        }
        // With the project's specs (not a chosen few), a folder no spec renders is stale too.
        let orphans = specs.isEmpty ? GeneratedFolder.orphans(in: output, rendered: renderedFolders) : []
        if !orphans.isEmpty { changed = true }
        for orphan in orphans {
            let folder = ProjectContext.display(orphan.directory.path) + "/"
            if format == .text, !quiet {
                print("\(folder) (no spec renders it any more)")
                for file in orphan.files { print("  - \(ProjectContext.display(file.path)) (-\(file.linesRemoved) lines)") }
                if check { print("  (--check: nothing written)") }
                print("")
            }
            guard !check else { continue }
            if orphan.removable {
                try FileManager.default.removeItem(at: orphan.directory)
            } else {
                FileHandle.standardError.write(
                    Data("\(folder): warning: no spec renders it, but it holds files Sluice does not write; left in place\n".utf8))
            }
        }
        if format == .json {
            print(try JSONOutput.text(Report(specs: results, orphaned: orphans.isEmpty ? nil : orphans.flatMap(\.files))))
        }
        var stale: [(file: GeneratedFolder.FileChange, reason: String)] = []
        for result in results {
            for file in result.files {
                switch file.status {
                case .added: stale.append((file, "missing; \(result.spec) renders it"))
                case .changed: stale.append((file, "differs from what \(result.spec) renders (+\(file.linesAdded) -\(file.linesRemoved) lines)"))
                case .removed: stale.append((file, "not rendered from \(result.spec); plan removes it"))
                case .unchanged: continue
                }
            }
        }
        for orphan in orphans {
            stale += orphan.files.map { ($0, orphan.removable ? "no spec renders it any more; plan removes it" : "no spec renders it any more") }
        }
        if check, !stale.isEmpty {
            // Named one per line, so a hook's or CI's log says which files to look at.
            var message = "\(output)/ is stale: run `sluice plan` and commit the result\n"
            for (file, reason) in stale {
                let path = ProjectContext.display(file.path)
                message += "  \(file.status.sign) \(path): \(reason)\n"
                if format == .github {
                    print(
                        GitHubReporter.annotation(
                            "error", file: path, title: "\(output)/ is stale",
                            message: "\(path) \(reason): run `sluice plan` and commit the result"), terminator: "")
                }
            }
            FileHandle.standardError.write(Data(message.utf8))
            throw ExitCode.failure
        }
        if detailedExitcode, changed { throw ExitCode(2) }
    }

    private func text(_ result: SpecResult) -> String {
        var text = "\(result.spec)\n"
        for file in result.files {
            let relative = ProjectContext.display(file.path)
            switch file.status {
            case .added: text += "  + \(relative) (new, \(file.linesAdded) lines)\n"
            case .changed: text += "  ~ \(relative) (+\(file.linesAdded) -\(file.linesRemoved) lines)\n"
            case .removed: text += "  - \(relative) (no renderer produces it any more)\n"
            case .unchanged: text += "  = \(relative) unchanged\n"
            }
        }
        if let template = result.cloudformation {
            if result.files.contains(where: { $0.path.hasSuffix("/cloudformation.yaml") && $0.status == .added }) {
                text += "    (a new template: every resource and security row below is new)\n"
            }
            text += template.text
        }
        if check, result.files.contains(where: { $0.status != .unchanged }) { text += "  (--check: nothing written)\n" }
        if let migration = result.migration {
            if migration.upToDate {
                text += "database \(migration.target): up to date\n"
                text += migration.lines
            } else {
                text += "database \(migration.target): \(migration.steps.count) change(s)\n"
                text += migration.lines
                text += "\n" + migration.script
            }
        }
        return text
    }
}

enum PlanOutput: String, ExpressibleByArgument, CaseIterable {
    /// github: only workflow commands, an `::error` per stale file with --check (and per finding of a spec with errors).
    case text, json, github
}
