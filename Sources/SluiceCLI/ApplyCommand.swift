import ArgumentParser
import Foundation
import SluiceDriver

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Migrate the warehouse database to the spec, in one transaction, then run every pipeline once.",
        discussion: """
            Reads the database's catalog, plans the steps and runs them in one transaction under an advisory lock, so two \
            concurrent applies never interleave and the second finds nothing to do. Destructive steps (dropping a table or \
            column, narrowing a type) are refused unless --allow-destructive; objects the spec does not know are reported as \
            drift and left alone.
            Database: --database URL; else libpq's PG* environment; else a throwaway local cluster in .sluice/ (or \
            $SLUICE_DB_DIR), started on demand, with the spec's database created in it.
            Then each pipeline runs once, as `sluice run` does: every source object not yet in sluice.manifest is loaded \
            in its own transaction (--no-run skips this). Hashed columns need the key in SLUICE_MASK_KEY.
            With --stack NAME, deploys to AWS instead: check, render, package each pipeline function and upload it to the \
            artifact bucket under its hash (skipped when there), resolve the template's parameters (prefix lists from EC2), \
            create a change set, show it, execute it after confirmation (--auto-approve without a terminal), follow the \
            stack's events until it settles, then migrate the warehouse from inside the VPC by invoking the pipeline \
            function with the migrate event. A change set that replaces or removes a resource holding data (warehouse, \
            bucket, queue, host) is refused unless --allow-destructive. See docs/deploy.md.
            Exit status: 0 applied and loaded; 1 refused, or an object failed, or the stack failed (its resources' reasons \
            are listed); 75 a pipeline is being run by another runner, or the stack is being changed by another deploy \
            (--wait queues); 64 usage error.
            """)

    @Argument(help: "The spec whose warehouse to migrate.")
    var spec: String

    @Option(help: "A PostgreSQL URL (postgresql://user@host:5432/db). Default: the PG* environment, else the local cluster.")
    var database: String?

    @Flag(help: "Also run destructive steps: dropped tables and columns, narrowed types.")
    var allowDestructive = false

    @Option(help: "Output format: text or json.")
    var format: PlanOutput = .text

    @Flag(help: "Migrate only; run no pipeline.")
    var noRun = false

    @OptionGroup(title: "Pipelines")
    var sources: SourceOptions

    @OptionGroup(title: "Stack")
    var stackOptions: StackOptions

    @Flag(help: "With --stack: deploy without asking (required when standard input is not a terminal).")
    var autoApprove = false

    @Flag(help: "With --stack: deploy only; do not invoke the pipeline function's migrate event.")
    var noMigrate = false

    func validate() throws {
        if stackOptions.stack != nil, database != nil {
            throw ValidationError("--stack migrates the deployed warehouse from inside its VPC; --database is for a warehouse this machine reaches")
        }
    }

    func run() throws {
        if let target = stackOptions.target(wait: sources.wait) {
            try StackApply.run(
                specPath: spec, target: target, allowDestructive: allowDestructive, autoApprove: autoApprove, migrate: !noMigrate,
                json: format == .json)
            return
        }
        let loaded = try Compilation.cleanSpec(path: spec)
        guard let warehouse = loaded.warehouse else { throw Failure("\(spec) has no warehouse") }
        let view: ApplyView = format == .json ? ApplyJSONView() : ApplyTextView()
        let target = DatabaseTarget.resolve(database)
        let conninfo = try target.connectionString(database: warehouse.database)
        let description = target.describe(database: warehouse.database)
        let started = Date()
        let migration: MigrationReport
        do {
            migration = try WarehouseMigration.apply(loaded, conninfo: conninfo, target: description, allowDestructive: allowDestructive)
        } catch let refusal as WarehouseMigration.Refusal {
            try view.refused(refusal, on: description)
            throw ExitCode.failure
        }
        view.migrated(migration, on: description, seconds: Date().timeIntervalSince(started))
        let run = try (noRun ? nil : PipelineExecution.compile(loaded)).map { etl in
            try usage {
                try PipelineExecution.run(
                    plan: etl, pipelines: etl.pipelines, database: conninfo, sources: sources.selection, window: nil,
                    region: loaded.project.region, baseDirectory: URL(fileURLWithPath: spec).deletingLastPathComponent(),
                    observer: view.pipelines)
            }
        }
        try view.finished(migration, run: run?.report, connectHint: target.connectHint(database: warehouse.database))
        if let status = run?.status, status != 0 { throw ExitCode(status) }
    }
}

/// How `sluice apply` shows the migration and the pipelines' runs: chosen once from `--format`.
protocol ApplyView {
    var pipelines: any PipelineRunObserver { get }
    func migrated(_ migration: MigrationReport, on target: String, seconds: Double)
    func refused(_ refusal: WarehouseMigration.Refusal, on target: String) throws
    func finished(_ migration: MigrationReport, run: PipelineExecution.Report?, connectHint: String?) throws
}

struct ApplyTextView: ApplyView {
    let pipelines: any PipelineRunObserver = PipelineTextView()

    func migrated(_ migration: MigrationReport, on target: String, seconds: Double) {
        if migration.upToDate {
            print("\(migration.database) on \(target): up to date, nothing to do")
        } else {
            print(
                "\(migration.database) on \(target): applied \(migration.steps.count) change(s), \(migration.statementCount) statement(s) in \(String(format: "%.2f", seconds)) s"
            )
        }
        print(migration.lines, terminator: "")
    }

    func refused(_ refusal: WarehouseMigration.Refusal, on target: String) {
        print("\(refusal.report.database) on \(target): \(refusal.report.steps.count) change(s) planned")
        print(refusal.report.lines, terminator: "")
        let reporter = TextReporter.standardError
        for finding in refusal.report.findings { FileHandle.standardError.write(Data(reporter.format(finding).utf8)) }
        FileHandle.standardError.write(Data("error: \(refusal.description)\n".utf8))
    }

    func finished(_ migration: MigrationReport, run: PipelineExecution.Report?, connectHint: String?) {
        if let connectHint { print(connectHint) }
    }
}

/// `sluice apply --format json`: one document at the end, the migration then what the pipelines
/// did (absent with --no-run).
struct ApplyJSONView: ApplyView {
    struct Report: Encodable {
        var migration: MigrationReport
        var run: PipelineExecution.Report?
    }

    let pipelines: any PipelineRunObserver = PipelineJSONView()

    func migrated(_ migration: MigrationReport, on target: String, seconds: Double) {}

    func refused(_ refusal: WarehouseMigration.Refusal, on target: String) throws {
        print(try JSONOutput.text(Report(migration: refusal.report, run: nil)))
    }

    func finished(_ migration: MigrationReport, run: PipelineExecution.Report?, connectHint: String?) throws {
        print(try JSONOutput.text(Report(migration: migration, run: run)))
    }
}
