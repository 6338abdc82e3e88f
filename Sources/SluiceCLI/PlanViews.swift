import Foundation
import SluiceDriver

/// How `sluice plan` shows a plan: chosen once from `--format`. Every view says on stderr what is
/// wrong (a spec's errors, its warnings, stale files with --check); they differ in what goes to stdout.
protocol PlanView {
    func show(_ plan: ProjectPlan) throws
}

extension PlanView {
    /// What every format says on stderr: specs with errors (and nothing else then), each spec's
    /// warnings, orphaned folders left in place, and with --check the stale files one per line.
    func reportProblems(_ plan: ProjectPlan) {
        if !plan.failed.isEmpty {
            FileHandle.standardError.write(Data(Reporter.render(plan.failed, as: .text, color: Terminal.isInteractive(fileDescriptor: 2)).utf8))
            return
        }
        let reporter = TextReporter.standardError
        for spec in plan.specs {
            // Warnings, and the migration steps `apply` would refuse (destructive or blocked).
            for finding in spec.warnings + spec.sql + (spec.migration?.findings ?? []) {
                FileHandle.standardError.write(Data(reporter.format(finding).utf8))
            }
        }
        if !plan.request.check {
            for orphan in plan.orphans where !orphan.removable {
                let folder = ProjectContext.display(orphan.directory.path) + "/"
                FileHandle.standardError.write(
                    Data("\(folder): warning: no spec renders it, but it holds files Sluice does not write; left in place\n".utf8))
            }
        }
        if plan.request.check, !plan.stale.isEmpty {
            // Named one per line, so a hook's or CI's log says which files to look at.
            var message = "\(plan.request.output)/ is stale: run `sluice plan` and commit the result\n"
            for stale in plan.stale { message += "  \(stale.file.status.sign) \(ProjectContext.display(stale.file.path)): \(stale.reason)\n" }
            FileHandle.standardError.write(Data(message.utf8))
        }
    }
}

/// For people: per spec, the files, the template's resources and security rows, the migration.
struct PlanTextView: PlanView {
    /// The pre-commit hook's mode: problems only.
    var quiet: Bool

    func show(_ plan: ProjectPlan) throws {
        defer { reportProblems(plan) }
        guard plan.failed.isEmpty, !quiet else { return }
        for spec in plan.specs { print(text(spec, check: plan.request.check)) }
        for orphan in plan.orphans {
            print("\(ProjectContext.display(orphan.directory.path))/ (no spec renders it any more)")
            for file in orphan.files { print("  - \(ProjectContext.display(file.path)) (-\(file.linesRemoved) lines)") }
            if plan.request.check { print("  (--check: nothing written)") }
            print("")
        }
    }

    func text(_ result: ProjectPlan.SpecPlan, check: Bool) -> String {
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
        if let stack = result.stack {
            for note in stack.notes { text += "note: \(note)\n" }
            text += StackText.proposal(stack)
        }
        return text
    }
}

/// For scripts: one JSON document with every spec's files, template changes and migration.
struct PlanJSONView: PlanView {
    struct Report: Encodable {
        var specs: [ProjectPlan.SpecPlan]
        /// Files of generated/ folders no spec renders any more (planning the project's specs only).
        var orphaned: [GeneratedFolder.FileChange]?
    }

    func show(_ plan: ProjectPlan) throws {
        defer { reportProblems(plan) }
        guard plan.failed.isEmpty else { return }
        print(try JSONOutput.text(Report(specs: plan.specs, orphaned: plan.orphans.isEmpty ? nil : plan.orphans.flatMap(\.files))))
    }
}

/// For a GitHub Actions job: only workflow commands on stdout, an `::error` per finding of a spec
/// with errors and, with --check, per stale file.
struct PlanGitHubView: PlanView {
    func show(_ plan: ProjectPlan) throws {
        defer { reportProblems(plan) }
        if !plan.failed.isEmpty {
            print(Reporter.render(plan.failed, as: .github), terminator: "")
            return
        }
        guard plan.request.check else { return }
        for stale in plan.stale {
            let path = ProjectContext.display(stale.file.path)
            print(
                GitHubReporter.annotation(
                    "error", file: path, title: "\(plan.request.output)/ is stale",
                    message: "\(path) \(stale.reason): run `sluice plan` and commit the result"), terminator: "")
        }
    }
}
