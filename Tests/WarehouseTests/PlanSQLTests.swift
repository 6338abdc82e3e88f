import Foundation
import LiveWarehouse
import PlanCompiler
import PlanFormat
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

/// The SQL plan.json gives the executor, run on a real server against the spec's own schema.
@Suite("plan.json batch SQL")
struct PlanSQLTests {
    func prepared(_ name: String) throws -> (ETLPlan, Connection) {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/\(name)").path).spec)
        let plan = try #require(PlanCompiler.compile(spec))
        let connection = try Connection(try TestServer.freshDatabase("plan"))
        // Roles are the cluster's: other tests create the same ones at the same time, and the
        // race-safe CREATE ROLE copes.
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: connection)
        return (plan, connection)
    }

    /// Runs one batch for a target: staging, COPY of `rows` (the ordinal, then the target's columns,
    /// tab-separated, `\N` for NULL; the other targets' staging columns NULL), the target's merge.
    @discardableResult
    func batch(_ target: PipelinePlan.Target, of pipeline: PipelinePlan, _ rows: [String], on connection: Connection) throws -> Int {
        try connection.transaction {
            try stage(rows, for: target, of: pipeline, on: connection)
            return try connection.query(target.merge).affectedRows
        }
    }

    /// The staging table of `pipeline` with `rows` for `target` copied in (see `batch`).
    func stage(_ rows: [String], for target: PipelinePlan.Target, of pipeline: PipelinePlan, on connection: Connection) throws {
        let staged = rows.map { row -> String in
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            var line = [fields[0], "\\N", "\\N", "\\N", "\\N"]
            for other in pipeline.targets {
                line += other.table == target.table ? Array(fields.dropFirst()) : Array(repeating: "\\N", count: other.columns.count)
            }
            return line.joined(separator: "\t") + "\n"
        }
        try connection.execute(pipeline.staging.drop)
        try connection.execute(pipeline.staging.create)
        try connection.copyIn(pipeline.staging.copy) { send in
            try Array(staged.joined().utf8).withUnsafeBytes { try send($0) }
        }
    }

    @Test func upsertKeepsOneRowPerKeyLastWinsAndMissingValuesDoNotErase() throws {
        let (plan, connection) = try prepared("clickstream.yaml")
        let users = try #require(plan.pipelines[0].targets.first { $0.table == "analytics.dim_users" })
        #expect(users.columns.map(\.column) == ["user_id", "email_hash", "country", "first_seen_at"])
        let written = try batch(
            users, of: plan.pipelines[0],
            [
                "1\tu1\th1\tDE\t2026-01-01 10:00:00+00",
                "2\tu1\t\\N\tFR\t2026-01-01 11:00:00+00",
                "3\t\\N\th9\tIT\t2026-01-01 12:00:00+00",
            ], on: connection)
        #expect(written == 1, "one row for u1; the keyless record is not a user")
        #expect(try connection.query("SELECT email_hash, country FROM analytics.dim_users").rows == [["h1", "FR"]])
        try batch(users, of: plan.pipelines[0], ["1\tu1\t\\N\t\\N\t2026-01-02 09:00:00+00"], on: connection)
        #expect(try connection.query("SELECT email_hash, country FROM analytics.dim_users").rows == [["h1", "FR"]])
    }

    @Test func appendSkipsRowsAlreadyLoaded() throws {
        let (plan, connection) = try prepared("clickstream.yaml")
        let targets = plan.pipelines[0].targets
        let facts = try #require(targets.first { $0.table == "analytics.fact_events" })
        let event = "\t2026-01-01 10:00:00+00\t2026-01-01\t10\tpage_view\t\\N\ts1\tc1\t\\N\t/home\tads\tevents/part-0000.jsonl"
        let id1 = "7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a01", id2 = "7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a02"
        #expect(try batch(facts, of: plan.pipelines[0], ["1\t\(id1)\(event)", "2\t\(id2)\(event)"], on: connection) == 2)
        #expect(
            try batch(facts, of: plan.pipelines[0], ["1\t\(id2)\(event)"], on: connection) == 0, "a re-sent event is a duplicate, not a second row")
        #expect(try connection.query("SELECT count(*) FROM analytics.fact_events").scalar == "2")
    }

    /// Loads beside each other append ahead of their turn the rows whose references are committed;
    /// `heldRows` lists the others (a user no committed row has), written in turn. Together: `merge`.
    @Test func anAppendSplitAroundTheTurnHoldsRowsThatReferenceUncommittedKeys() throws {
        let (plan, connection) = try prepared("clickstream.yaml")
        let pipeline = plan.pipelines[0]
        let facts = try #require(pipeline.targets.first { $0.table == "analytics.fact_events" })
        let (ahead, inTurn, held) = try (#require(facts.appendAhead), #require(facts.appendInTurn), #require(pipeline.staging.heldRows))
        try connection.query("INSERT INTO analytics.dim_users (user_id, first_seen_at) VALUES ('known', now())")
        let event = "\t2026-01-01 10:00:00+00\t2026-01-01\t10\tpage_view\t%@\ts1\tc1\t\\N\t/home\tads\tevents/part-0000.jsonl"
        let rows = [("1", "known"), ("2", "new"), ("3", "\\N")].map { ordinal, user in
            "\(ordinal)\t7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a0\(ordinal)" + event.replacingOccurrences(of: "%@", with: user)
        }
        let written = try connection.transaction { () -> [Int] in
            try stage(rows, for: facts, of: pipeline, on: connection)
            try connection.execute(held)
            #expect(try connection.query("SELECT sluice_ordinal FROM pg_temp.sluice_held").rows == [["2"]])
            let first = try connection.query(ahead).affectedRows
            try connection.query("INSERT INTO analytics.dim_users (user_id, first_seen_at) VALUES ('new', now())")
            return [first, try connection.query(inTurn).affectedRows]
        }
        #expect(written == [2, 1])
        let users = try connection.query("SELECT coalesce(user_id, '-') FROM analytics.fact_events ORDER BY event_id").rows.map { $0[0] }
        #expect(users == ["known", "new", "-"])
    }

    @Test func versionedUpsertIgnoresOlderVersions() throws {
        let (plan, connection) = try prepared("serverless-canonical.yaml")
        let pipeline = try #require(plan.pipelines.first { $0.targets.contains { $0.table.hasSuffix(".customers") } })
        let customers = try #require(pipeline.targets.first { $0.table.hasSuffix(".customers") })
        #expect(customers.mode == .versionedUpsert)
        let columns = customers.columns.map(\.column)
        func row(_ ordinal: Int, name: String, version: Int) -> String {
            let values: [String: String] = [
                "customer_id": "c1", "source_system": "crm", "display_name": name, "email_hash": "\\N",
                "country": "DE", "attributes": "{}", "version": String(version),
            ]
            return ([String(ordinal)] + columns.map { values[$0] ?? "\\N" }).joined(separator: "\t")
        }
        try batch(customers, of: pipeline, [row(1, name: "v2", version: 2), row(2, name: "v1", version: 1)], on: connection)
        #expect(
            try connection.query("SELECT display_name FROM \(SQL.qualified(customers.table))").scalar == "v2",
            "the newest version wins inside a batch")
        #expect(try batch(customers, of: pipeline, [row(1, name: "old", version: 1)], on: connection) == 0)
        try batch(customers, of: pipeline, [row(1, name: "v3", version: 3)], on: connection)
        #expect(try connection.query("SELECT display_name, version FROM \(SQL.qualified(customers.table))").rows == [["v3", "3"]])
    }

    @Test func postLoadRefreshRunsThroughSluicesFunction() throws {
        let (plan, connection) = try prepared("clickstream.yaml")
        let steps = plan.pipelines[0].postLoad
        #expect(steps.map(\.sql) == ["SELECT sluice.refresh_materialized_view('analytics.daily_event_counts'::regclass);"])
        for step in steps { try connection.execute(step.sql) }
    }

    @Test func thePlanDecodesAsTheExecutorReadsIt() throws {
        for name in ["clickstream", "serverless-canonical", "sme-reporting", "data-platform"] {
            let data = try Data(contentsOf: packageRoot.appendingPathComponent("generated/\(name)/plan.json"))
            let plan = try JSONDecoder().decode(ETLPlan.self, from: data)
            #expect(plan.version == ETLPlan.currentVersion)
            #expect(Set(plan.pipelines.map(\.lockKey)).count == plan.pipelines.count)
        }
    }
}
