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
            With --stack NAME (one spec), also compares with the stack deployed in AWS: the security tables and resource \
            changes against the template deployed there, and a CloudFormation change set created, described (each change \
            with its action, whether it replaces the resource, and the properties that cause it; stateful resources \
            replaced or removed marked destructive) and deleted. Nothing in the account changes. \
            With --database URL (one spec), also reads that database's catalog and prints the SQL `sluice apply` would run; \
            nothing in the database changes. With --validate-sql (implied by --database), PostgreSQL checks the spec's own SQL — \
            view bodies and sql columns in a scratch copy of its schema, post_load calls in the database — each problem at its \
            line and column (SL603).
            Exit status: 0 ok; 1 a spec has errors, PostgreSQL refuses its SQL (--validate-sql, --database), (--check) generated/ is stale, or (--detailed-exitcode) the migration has a step apply would refuse; 2 changes, with --detailed-exitcode; 64 usage error.
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

    @Option(help: "A PostgreSQL URL: also plan the migration of this database (one spec only); implies --validate-sql.")
    var database: String?

    @Flag(
        help:
            "Have PostgreSQL check the spec's SQL (views, sql columns) against a scratch copy of its schema in the throwaway cluster; with --database, post_load calls too."
    )
    var validateSQL = false

    @Option(help: "Output format: text, json or github (default: the project file's plan.format, else text).")
    var format: PlanOutput?

    @OptionGroup(title: "Stack")
    var stackOptions: StackOptions

    func validate() throws {
        if database != nil, specs.count != 1 { throw ValidationError("--database plans one spec's warehouse: name exactly one spec") }
        if stackOptions.stack != nil, specs.count != 1 {
            throw ValidationError("--stack compares one spec with its deployed stack: name exactly one spec")
        }
    }

    func run() throws {
        let context = try ProjectContext.current()
        let paths = specs.isEmpty ? try usage { try context.specPaths() } : specs
        let output = output ?? context.generatedFolder
        let format = format ?? context.project.planFormat.flatMap(PlanOutput.init(rawValue:)) ?? .text
        let view: PlanView =
            switch format {
            case .text: PlanTextView(quiet: quiet)
            case .json: PlanJSONView()
            case .github: PlanGitHubView()
            }
        let plan = try usage {
            try ProjectPlan.run(
                .init(
                    specPaths: paths, output: output, check: check, database: database, wholeProject: specs.isEmpty, stack: stackOptions.target(),
                    validateSQL: validateSQL))
        }
        try view.show(plan)
        if !plan.failed.isEmpty { throw ExitCode.failure }
        // SQL PostgreSQL refuses is an error in the spec, found later than the loader's own.
        if plan.specs.contains(where: { $0.sql.contains { $0.severity == .error } }) { throw ExitCode.failure }
        if check, !plan.stale.isEmpty { throw ExitCode.failure }
        // Terraform's convention: 1 is an error, and a migration `apply` would refuse is one.
        if detailedExitcode, plan.specs.contains(where: { !($0.migration?.findings.isEmpty ?? true) }) { throw ExitCode.failure }
        if detailedExitcode, plan.changed { throw ExitCode(2) }
    }
}

enum PlanOutput: String, ExpressibleByArgument, CaseIterable {
    /// github: only workflow commands, an `::error` per stale file with --check (and per finding of a spec with errors).
    case text, json, github
}
