import ArgumentParser
import CloudFormation
import Foundation
import PostgresClient
import SluiceCore
import Warehouse
import WarehouseDDL

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Check specs, render generated/<spec>/, and show what changed (and, with --database, the migration).",
        discussion: """
        Writes generated/<spec>/ (cloudformation.yaml, schema.sql, plan.json, architecture.md) for each spec that passes its \
        checks and lists the files added, changed or removed; for the template, the resources added, removed and modified \
        and every security-relevant row (policy statements, Lambda permissions, security-group rules, routes, ACL entries) \
        added or removed. \
        With --database URL (one spec), also reads that database's catalog and prints the SQL `sluice apply` would run; \
        nothing in the database changes.
        Exit status: 0 ok; 1 a spec has errors, or (--check) generated/ is stale; 2 changes, with --detailed-exitcode; 64 usage error.
        """)

    @Argument(help: "Spec files: YAML, Swift (compiled against SluiceDSL), or an executable calling `Spec.main()`. Default: specs/*.yaml, and specs/*.swift without a YAML twin.")
    var specs: [String] = []

    @Option(help: "Folder the rendered files go to, one subfolder per spec.")
    var output = "generated"

    @Flag(help: "Write nothing; exit 1 when generated/ differs from what the specs render (the CI drift gate).")
    var check = false

    @Flag(help: "Exit 0 when nothing changed, 2 when something did, 1 on error (Terraform's convention).")
    var detailedExitcode = false

    @Option(help: "A PostgreSQL URL: also plan the migration of this database (one spec only).")
    var database: String?

    @Option(help: "Output format: text or json.")
    var format: PlanFormat = .text

    func validate() throws {
        if specs.isEmpty, DefaultSpecs.paths().isEmpty {
            throw ValidationError("no spec given and no specs/*.yaml or specs/*.swift in the current directory")
        }
        if database != nil, specs.count != 1 { throw ValidationError("--database plans one spec's warehouse: name exactly one spec") }
    }

    struct SpecResult: Encodable {
        var spec: String
        var files: [GeneratedFolder.FileChange]
        /// Against the cloudformation.yaml already in generated/.
        var cloudformation: TemplateChanges?
        var migration: MigrationReport?
    }

    func run() throws {
        let paths = specs.isEmpty ? DefaultSpecs.paths() : specs
        let compilations = paths.map(Compilation.run(path:))
        let failed = compilations.filter { $0.errorCount > 0 || $0.spec == nil }
        if !failed.isEmpty {
            FileHandle.standardError.write(Data(Reporter.render(failed, as: .text, color: Terminal.isInteractive(fileDescriptor: 2)).utf8))
            throw ExitCode.failure
        }
        var results: [SpecResult] = []
        var changed = false
        for compilation in compilations {
            guard let spec = compilation.spec else { continue }
            let folder = try GeneratedFolder(spec: spec, specPath: compilation.file, root: output)
            let changes = folder.changes()
            if changes.contains(where: { $0.status != .unchanged }) { changed = true }
            warn(about: spec, file: compilation.file, folder: folder)
            // Compared before writing, with what the previous plan left in generated/.
            let template = TemplateChanges.compute(spec: spec, template: folder.template, previousFile: folder.directory.appendingPathComponent("cloudformation.yaml"))
            if !check { try folder.write() }
            var result = SpecResult(spec: compilation.file, files: changes, cloudformation: template.isEmpty ? nil : template)
            if let database {
                guard let warehouse = spec.warehouse else { throw ValidationError("\(compilation.file) has no warehouse to plan a migration for") }
                let connection = try Connection(database)
                let plan = try Migrator(DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines)).plan(on: connection)
                if !plan.isEmpty { changed = true }
                result.migration = MigrationReport(plan, target: DatabaseTarget.redacted(database), applied: false)
                if format == .text {
                    print(text(result, plan: plan))
                }
            } else if format == .text {
                print(text(result, plan: nil))
            }
            results.append(result)
        }
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(["specs": results]), as: UTF8.self))
        }
        let stale = results.contains { $0.files.contains { $0.status != .unchanged } }
        if check, stale {
            FileHandle.standardError.write(Data("\(output)/ is stale: run `sluice plan` and commit the result\n".utf8))
            throw ExitCode.failure
        }
        if detailedExitcode, changed { throw ExitCode(2) }
    }

    /// Warnings that do not stop the plan: suppressions naming nothing, and a template beyond what
    /// one CloudFormation stack takes (it renders and lints, but does not deploy as one stack).
    private func warn(about spec: Spec, file: String, folder: GeneratedFolder) {
        var warnings: [String] = []
        for suppression in ScannerSuppressions.unmatched(spec) {
            warnings.append("\(suppression.location): warning: suppression of \(suppression.rule) names '\(suppression.subject ?? "")', which is nothing in the template")
        }
        let resources = TemplateRenderer.resourceCount(folder.template)
        let bytes = folder.files.first { $0.name == "cloudformation.yaml" }?.contents.utf8.count ?? 0
        if resources > 500 || bytes > 1_000_000 {
            warnings.append("\(file): warning: the template has \(resources) resources and \(bytes) bytes; CloudFormation takes at most 500 resources and 1,000,000 bytes per stack, so this spec must be split to deploy")
        }
        for warning in warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
    }

    private func text(_ result: SpecResult, plan: MigrationPlan?) -> String {
        var text = "\(result.spec)\n"
        for file in result.files {
            let relative = file.path.hasPrefix(FileManager.default.currentDirectoryPath + "/")
                ? String(file.path.dropFirst(FileManager.default.currentDirectoryPath.count + 1)) : file.path
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
        if let plan, let migration = result.migration {
            if plan.isEmpty {
                text += "database \(migration.target): up to date\n"
                text += MigrationReport.lines(plan)
            } else {
                text += "database \(migration.target): \(plan.steps.count) change(s)\n"
                text += MigrationReport.lines(plan)
                text += "\n" + plan.script
            }
        }
        return text
    }
}

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
