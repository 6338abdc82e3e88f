import Foundation

/// `sluice plan`: specs compiled, rendered into generated/ and compared with what is there (and,
/// with a database, the migration planned), as one value a view shows.
public struct ProjectPlan: Sendable {
    public struct Request: Sendable {
        public var specPaths: [String]
        /// The generated folder: one subfolder per spec.
        public var output: String
        /// Compare only: write and remove nothing (`--check`).
        public var check: Bool
        /// Also plan this database's migration (one spec).
        public var database: String?
        /// Planning every spec of the project: a folder of `output` no spec renders is stale too.
        public var wholeProject: Bool
        /// Also compare with this deployed stack, through a change set that is described and deleted (one spec).
        public var stack: StackTarget?
        /// Have PostgreSQL check the spec's SQL (implied by `database`).
        public var validateSQL: Bool

        public init(
            specPaths: [String], output: String, check: Bool, database: String?, wholeProject: Bool, stack: StackTarget? = nil,
            validateSQL: Bool = false
        ) {
            self.validateSQL = validateSQL
            self.stack = stack
            self.specPaths = specPaths
            self.output = output
            self.check = check
            self.database = database
            self.wholeProject = wholeProject
        }
    }

    /// One spec's plan: what writing its folder changes (against what was on disk before), the
    /// template's changes, the migration, and the warnings that do not stop it.
    public struct SpecPlan: Encodable, Sendable {
        public var spec: String
        public var files: [GeneratedFolder.FileChange]
        /// Against the cloudformation.yaml already in generated/.
        public var cloudformation: TemplateChanges?
        public var migration: MigrationReport?
        /// What deploying to the stack would change (`--stack`).
        public var stack: StackDeployment.Proposal?
        /// The spec's own warnings and what rendering found.
        public var warnings: [Diagnostic]
        /// What PostgreSQL said of the spec's SQL (`--validate-sql`, `--database`): errors fail the plan.
        public var sql: [Diagnostic] = []

        enum CodingKeys: String, CodingKey { case spec, files, cloudformation, migration, stack, sql }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(spec, forKey: .spec)
            try container.encode(files, forKey: .files)
            try container.encodeIfPresent(cloudformation, forKey: .cloudformation)
            try container.encodeIfPresent(migration, forKey: .migration)
            try container.encodeIfPresent(stack, forKey: .stack)
            try container.encode(sql.map(MigrationReport.EncodedFinding.init), forKey: .sql)
        }
    }

    /// A generated/ file that differs from what the specs render, and why.
    public struct StaleFile: Sendable {
        public var file: GeneratedFolder.FileChange
        public var reason: String
    }

    public var request: Request
    /// Specs with errors: when there is one, nothing is rendered or written.
    public var failed: [Compilation]
    public var specs: [SpecPlan]
    /// Folders of generated/ no spec renders any more; removed unless `check`, when only Sluice's files are in them.
    public var orphans: [GeneratedFolder.Orphan]
    /// Every difference between generated/ and what the specs render.
    public var stale: [StaleFile]
    /// Something differs: a file, an orphaned folder, or the database.
    public var changed: Bool

    public static func run(_ request: Request) throws -> ProjectPlan {
        let compilations = request.specPaths.map(Compilation.run(path:))
        let failed = compilations.filter { $0.errorCount > 0 || $0.spec == nil }
        var plan = ProjectPlan(request: request, failed: failed, specs: [], orphans: [], stale: [], changed: false)
        guard failed.isEmpty else { return plan }
        var renderedFolders = Set<String>()
        for compilation in compilations {
            guard let spec = compilation.spec else { continue }
            let folder = try GeneratedFolder(spec: spec, specPath: compilation.file, root: request.output)
            renderedFolders.insert(folder.directory.lastPathComponent)
            // Compared before writing, with what the previous plan left in generated/.
            let template = folder.templateChanges()
            var result = SpecPlan(
                spec: compilation.file, files: folder.changes(), cloudformation: template.isEmpty ? nil : template,
                warnings: compilation.active + folder.findings())
            if !request.check { try folder.write() }
            if let database = request.database {
                guard spec.warehouse != nil else { throw Failure("\(compilation.file) has no warehouse to plan a migration for") }
                result.migration = try WarehouseMigration.plan(spec, database: database)
            }
            if request.database != nil || request.validateSQL { result.sql = try SpecSQL.check(spec, database: request.database) }
            if let target = request.stack {
                result.stack = try Blocking.run {
                    let session = try await StackDeployment.Session(compilation: compilation, target: target, generated: request.output)
                    let proposal = try await StackDeployment.propose(session, upload: false, observer: StackDeployment.Silent())
                    try await StackDeployment.discard(proposal, in: session)
                    return proposal
                }
            }
            plan.specs.append(result)
        }
        if request.wholeProject { plan.orphans = GeneratedFolder.orphans(in: request.output, rendered: renderedFolders) }
        if !request.check {
            for orphan in plan.orphans where orphan.removable { try FileManager.default.removeItem(at: orphan.directory) }
        }
        for result in plan.specs {
            for file in result.files {
                switch file.status {
                case .added: plan.stale.append(StaleFile(file: file, reason: "missing; \(result.spec) renders it"))
                case .changed:
                    plan.stale.append(
                        StaleFile(file: file, reason: "differs from what \(result.spec) renders (+\(file.linesAdded) -\(file.linesRemoved) lines)"))
                case .removed: plan.stale.append(StaleFile(file: file, reason: "not rendered from \(result.spec); plan removes it"))
                case .unchanged: continue
                }
            }
        }
        for orphan in plan.orphans {
            plan.stale += orphan.files.map {
                StaleFile(file: $0, reason: orphan.removable ? "no spec renders it any more; plan removes it" : "no spec renders it any more")
            }
        }
        plan.changed =
            !plan.stale.isEmpty || !plan.orphans.isEmpty || plan.specs.contains { $0.migration.map { !$0.upToDate } ?? false }
            || plan.specs.contains { $0.stack.map { !$0.upToDate } ?? false }
        return plan
    }
}
