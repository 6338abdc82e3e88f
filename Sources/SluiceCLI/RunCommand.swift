import ArgumentParser
import Foundation
import SluiceDriver

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one pipeline once: load every source object not yet loaded, exactly once.",
        discussion: """
            Reads the pipeline from a spec (--spec) or from a compiled plan.json (--plan, what the ETL function ships with). \
            Each object is loaded in its own transaction together with its sluice.manifest row, so a crash anywhere \
            leaves it as if never started and the next run picks it up; objects already in the manifest are skipped, \
            and one rewritten after it was loaded is reported, not reloaded. Refused records go to sluice.quarantine \
            with their reasons. One runner per pipeline: a second one exits with status 75 unless --wait.
            With --from/--to, the source's prefix template ({yyyy}/{MM}/{dd}/{HH}) is expanded hour by hour over \
            [from, to): `--from -1h` is the last hour's prefix. Times are RFC 3339 (2026-11-20T10:00:00Z), a date, \
            `now`, or relative to now (-90m, -1h, -2d).
            --reload KEY… (or --reload with --from/--to) loads those objects again after a spec fix or a corrected \
            file, each in one transaction: its manifest entry moves to sluice.manifest_replaced, the rows it put into \
            append targets are deleted through their `{ derived: object_key }` column, upserts merge over, and it is \
            loaded under a new manifest entry that names the run it replaced. It needs a login that may delete (the \
            warehouse's admin). docs/operations.md walks through it.
            A pipeline with an API source first fetches the pages since its kept cursor and lands each one in its \
            landing bucket (or folder), then loads what is landed as above; its credential is the string in \
            SLUICE_API_CREDENTIAL_<SECRET>. --api PIPELINE=URL reads another server; --no-fetch loads only what is landed.
            Database: as for apply (--database, PG*, else the local cluster). Hashed columns need SLUICE_MASK_KEY.
            Exit status: 0 loaded; 1 an object failed or the run could not start; 75 another runner holds the \
            pipeline; 64 usage error.
            """)

    @Argument(help: "The pipeline to run.")
    var pipeline: String

    @Flag(help: "Load the KEYs (or the objects of --from/--to) again, replacing their earlier load.")
    var reload = false

    @Argument(help: "With --reload: the keys of the objects to load again.")
    var keys: [String] = []

    @Option(help: "The spec the pipeline is in.")
    var spec: String?

    @Option(help: "A compiled plan.json instead of the spec.")
    var plan: String?

    @Option(help: "Start of the time window (inclusive).")
    var from: String?

    @Option(help: "End of the time window (exclusive). Default: now.")
    var to: String?

    @Option(help: "A PostgreSQL URL. Default: the PG* environment, else the local cluster.")
    var database: String?

    @Option(help: "Output format: text or json.")
    var format: PlanOutput = .text

    @OptionGroup(title: "Source")
    var sources: SourceOptions

    func validate() throws {
        if (spec == nil) == (plan == nil) { throw ValidationError("give the pipeline's --spec or its --plan (one of them)") }
        if to != nil, from == nil { throw ValidationError("--to needs --from") }
        if !keys.isEmpty, !reload { throw ValidationError("object keys after the pipeline are for --reload: sluice run \(pipeline) --reload KEY…") }
        if reload, keys.isEmpty, from == nil {
            throw ValidationError("--reload needs the keys of the objects to load again, or --from/--to for every object of a window")
        }
        if let from { _ = try Self.time(from, option: "--from") }
        if let to { _ = try Self.time(to, option: "--to") }
    }

    func run() throws {
        let (etl, region, base) = try loadPlan()
        guard let selected = etl.pipelines.first(where: { $0.name == pipeline }) else {
            throw ValidationError("no pipeline '\(pipeline)'; the plan has: \(etl.pipelines.map(\.name).joined(separator: ", "))")
        }
        var window: (from: Date, to: Date)?
        if let from {
            window = (try Self.time(from, option: "--from"), try to.map { try Self.time($0, option: "--to") } ?? Date())
        }
        guard let warehouse = etl.warehouse else { throw Failure("the plan has no warehouse to load into") }
        let target = DatabaseTarget.resolve(database)
        let conninfo = try target.connectionString(database: warehouse.database)
        let (status, report) = try usage {
            try PipelineExecution.run(
                plan: etl, pipelines: [selected], database: conninfo, sources: sources.selection, window: window,
                region: region, baseDirectory: base, observer: format == .json ? PipelineJSONView() : PipelineTextView(),
                objectKeys: keys.isEmpty ? nil : keys, reload: reload)
        }
        if format == .json { print(try JSONOutput.text(report)) }
        if status != 0 { throw ExitCode(status) }
    }

    private func loadPlan() throws -> (ETLPlan, region: String, base: URL) {
        if let plan {
            let decoded = try usage { try PipelineExecution.readPlan(plan) }
            let region = ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1"
            return (decoded, region, URL(fileURLWithPath: plan).deletingLastPathComponent())
        }
        let loaded = try Compilation.cleanSpec(path: spec!)
        guard let etl = PipelineExecution.compile(loaded) else { throw Failure("\(spec!) has no pipelines") }
        return (etl, loaded.project.region, URL(fileURLWithPath: spec!).deletingLastPathComponent())
    }

    /// RFC 3339, a date, `now`, or `-90m` / `-1h` / `-2d` from now.
    static func time(_ text: String, option: String) throws -> Date {
        if text == "now" { return Date() }
        if text.hasPrefix("-"), let unit = text.last, let amount = Double(text.dropFirst().dropLast()) {
            let seconds: Double? = ["s": 1, "m": 60, "h": 3600, "d": 86400][String(unit)]
            if let seconds { return Date().addingTimeInterval(-amount * seconds) }
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        throw ValidationError("\(option) '\(text)' is not a time: use RFC 3339 (2026-11-20T10:00:00Z), a date, now, or -1h")
    }
}
