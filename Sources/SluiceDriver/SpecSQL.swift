import Foundation
import LiveWarehouse
import PlanCompiler
import PostgresClient
import WarehouseDDL

/// The SQL a spec writes — view and materialized-view bodies, `sql` columns, `post_load` calls —
/// checked by PostgreSQL before anything changes, each problem reported where the spec wrote it.
public enum SpecSQL {
    public static let invalid = RuleDocumentation(
        id: "SL603", name: "invalid-sql", severity: .error, summary: "PostgreSQL refuses a piece of SQL the spec writes.",
        explanation:
            "Routine, view and materialized-view bodies and `sql` columns are created and prepared by PostgreSQL against a scratch copy of the spec's schema (a database made for the check in the throwaway cluster, or, without PostgreSQL's server programs on this machine, in the target server, and dropped afterwards); each `post_load: {call: …}` must name a procedure of the spec (`warehouse.routines`) or of the target database. A problem is reported at its line and column in the spec with PostgreSQL's message, by `sluice plan --database` and by `sluice apply`, which changes nothing while one remains — so a wrong view no longer fails a migration halfway through a deploy."
    )

    /// The scratch check and, with the target database, the calls.
    static func check(_ spec: Spec, database: String?) throws -> [Diagnostic] {
        guard let warehouse = spec.warehouse else { return [] }
        let scratch = try scratchServer(fallback: database)
        // A cluster started only for the check is stopped after it: a check leaves no server running.
        defer { try? scratch.startedHere?.stop() }
        var findings = try scratchCheck(spec, warehouse: warehouse, server: scratch.url)
        if let database { findings += try checkCalls(spec, conninfo: database) }
        return findings
    }

    /// Before a stack deploy, whose migrate event would otherwise meet a wrong view after the stack
    /// changed: the scratch check here, or a warning saying it could not run on this machine.
    public static func checkBeforeDeploy(_ spec: Spec) throws -> [Diagnostic] {
        guard let warehouse = spec.warehouse else { return [] }
        guard (try? LocalCluster.binDirectory()) != nil else {
            return [
                Diagnostic(
                    .warning, code: invalid.id,
                    "the spec's SQL was not checked before the deploy: PostgreSQL's server programs are not on this machine (apt install postgresql)",
                    at: warehouse.location, subject: "sql:scratch")
            ]
        }
        return try check(spec, database: nil)
    }

    /// The throwaway cluster when this machine can run one (nothing is created in a real server),
    /// else the target's server, which then must let the login create a database.
    static func scratchServer(fallback: String?) throws -> (url: String, startedHere: LocalCluster?) {
        guard (try? LocalCluster.binDirectory()) != nil else {
            guard let fallback else {
                throw Failure(
                    "checking the spec's SQL needs PostgreSQL's server programs on this machine (apt install postgresql), or --database URL of a server where the login may create a scratch database"
                )
            }
            return (fallback, nil)
        }
        let cluster = LocalCluster.default()
        let running = cluster.isRunning
        try cluster.start()
        return (cluster.url(database: "postgres"), running ? nil : cluster)
    }

    static func scratchCheck(_ spec: Spec, warehouse: Warehouse, server: String) throws -> [Diagnostic] {
        let schema = DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines)
        var pieces: [(piece: SQLUnderTest, text: String, location: SourceLocation)] = []
        // Routines first, as PostgreSQL checks their bodies when they are created: views may call them.
        for function in schema.functions {
            guard let declared = function.declared else { continue }
            let statement = DDL.createFunction(function)[0]
            pieces.append(
                (
                    SQLUnderTest(label: declared.label, statement: statement, fragment: range(of: function.body, in: statement), mode: .define),
                    function.body, declared.bodyLocation
                ))
        }
        for view in schema.views {
            let body = DDL.viewQuery(view)
            let statement = DDL.createView(view)[0]
            pieces.append(
                (
                    SQLUnderTest(
                        label: "\(view.materialized ? "materialized view" : "view") \(view.qualifiedName)", statement: statement,
                        fragment: range(of: body, in: statement), mode: .execute), body, view.sqlLocation
                ))
        }
        if let plan = PlanCompiler.compile(spec) {
            for pipeline in spec.pipelines {
                guard let compiled = plan.pipelines.first(where: { $0.name == pipeline.name }) else { continue }
                let setup = [compiled.staging.drop, compiled.staging.create]
                for (target, compiledTarget) in zip(pipeline.targets, compiled.targets) {
                    // Each expression alone, written into its column (so its type is checked against the
                    // column's), then the whole merge: one bad expression is not reported for every column.
                    let fields = PlanCompiler.expressionFields(compiledTarget.columns)
                    for mapping in target.mappings {
                        guard case .expression(let sql) = mapping.source else { continue }
                        let head = "INSERT INTO \(SQL.qualified(target.table)) (\(SQL.identifier(mapping.column)))\nSELECT "
                        let statement = head + PlanCompiler.expression(sql, over: fields) + "\nFROM pg_temp.sluice_stage"
                        let start = (head + "(SELECT (\n").unicodeScalars.count
                        pieces.append(
                            (
                                SQLUnderTest(
                                    label: "column \(mapping.column) of \(target.table) (pipeline \(pipeline.name))", statement: statement,
                                    fragment: start..<(start + sql.unicodeScalars.count), mode: .prepare(setup: setup)),
                                sql, mapping.sourceLocation
                            ))
                    }
                    if target.mappings.contains(where: { if case .expression = $0.source { true } else { false } }) {
                        pieces.append(
                            (
                                SQLUnderTest(
                                    label: "the merge into \(target.table) (pipeline \(pipeline.name))", statement: compiledTarget.merge,
                                    fragment: 0..<0, mode: .prepare(setup: setup)), "", target.location
                            ))
                    }
                }
            }
        }
        guard !pieces.isEmpty else { return [] }
        let found: [SQLProblem]
        do {
            found = try SQLValidation.run(schema: schema, pieces: pieces.map(\.piece), server: server)
        } catch let error as PostgresError where error.sqlState == "42501" {
            // No throwaway cluster here, and the target's login may not create the scratch database.
            return [
                Diagnostic(
                    .warning, code: invalid.id,
                    "the spec's SQL was not checked: \(error.message); install PostgreSQL's server programs on this machine to check it in the throwaway cluster, or use a login that may create databases",
                    at: warehouse.location, subject: "sql:scratch")
            ]
        }
        // A merge fails with any of its expressions: said once, at the expression.
        let problems = found.filter { problem in
            guard problem.label.hasPrefix("the merge into ") else { return true }
            let target = problem.label.dropFirst("the merge into ".count)
            return !found.contains { $0.label.hasPrefix("column ") && $0.label.hasSuffix(" of \(target)") }
        }
        return problems.compactMap { problem in
            guard let index = pieces.firstIndex(where: { $0.piece.label == problem.label }) else { return nil }
            let (_, text, location) = pieces[index]
            let at = problem.offset.map { SpecTextPosition.locate(offset: $0, in: text, writtenAt: location) } ?? location
            return Diagnostic(invalid.severity, code: invalid.id, "\(problem.label): \(problem.message)", at: at, subject: "sql:\(problem.label)")
        }
    }

    /// Each `post_load: {call: …}` names a procedure the target database has, taking no arguments.
    static func checkCalls(_ spec: Spec, conninfo: String) throws -> [Diagnostic] {
        let calls = spec.pipelines.flatMap { pipeline in
            pipeline.postLoad.compactMap { step -> (String, String, SourceLocation)? in
                guard case .call(let name, let location) = step else { return nil }
                return (pipeline.name, name, location)
            }
        }
        // The spec's own procedures are checked by the loader and created by the migration.
        let undeclared = calls.filter { spec.warehouse?.routine($0.1) == nil }
        guard !undeclared.isEmpty else { return [] }
        let connection = try Connection(conninfo)
        defer { connection.close() }
        return try undeclared.compactMap { pipeline, name, location in
            let kind = try connection.query(
                "SELECT p.prokind FROM pg_proc p WHERE p.oid = to_regprocedure($1)", [SQL.qualified(name) + "()"]
            ).scalar
            guard kind != "p" else { return nil }
            let problem =
                kind == nil ? "is not a procedure of the database (none taking no arguments)" : "is a function, not a procedure: CALL runs procedures"
            return Diagnostic(
                invalid.severity, code: invalid.id, "post_load of pipeline \(pipeline) calls \(name)(), which \(problem)", at: location,
                subject: "sql:call \(name)")
        }
    }

    static func range(of fragment: String, in statement: String) -> Range<Int> {
        guard let found = statement.range(of: fragment) else { return 0..<0 }
        let start = statement.unicodeScalars.distance(from: statement.startIndex, to: found.lowerBound)
        return start..<(start + fragment.unicodeScalars.count)
    }
}

/// Where a character of a scalar's text is in the spec file: PostgreSQL points into the text, the
/// finding points into the file. Knows YAML's block (`|`, `>`), quoted and plain scalars; anything
/// else (a Swift spec's declaration) keeps the scalar's own location.
enum SpecTextPosition {
    static func locate(offset: Int, in text: String, writtenAt location: SourceLocation) -> SourceLocation {
        guard location.file.hasSuffix(".yaml") || location.file.hasSuffix(".yml"),
            let source = try? String(contentsOfFile: location.file, encoding: .utf8)
        else { return location }
        let lines = source.components(separatedBy: "\n")
        guard location.line >= 1, location.line <= lines.count else { return location }
        let line = Array(lines[location.line - 1].unicodeScalars)
        guard location.column >= 1, location.column <= line.count else { return location }
        let before = Array(text.unicodeScalars.prefix(offset))
        let row = before.filter { $0 == "\n" }.count
        let column = before.count - (before.lastIndex(of: "\n").map { $0 + 1 } ?? 0)
        switch line[location.column - 1] {
        case "|", ">":
            // Content starts on the next line, at the block's indentation.
            guard location.line + row < lines.count else { return location }
            let content = lines[location.line + row]
            let indent = content.unicodeScalars.prefix { $0 == " " }.count
            return SourceLocation(file: location.file, line: location.line + 1 + row, column: indent + column + 1)
        case "\"", "'":
            guard row == 0 else { return location }
            return SourceLocation(file: location.file, line: location.line, column: location.column + 1 + column)
        default:
            guard row == 0 else { return location }
            return SourceLocation(file: location.file, line: location.line, column: location.column + column)
        }
    }
}
