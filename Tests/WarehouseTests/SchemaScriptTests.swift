import Foundation
import LiveWarehouse
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

/// The reference specs' schema.sql: committed output matches the renderer, psql runs it on an empty
/// database, and the migration planner then finds nothing to do (the two paths agree exactly).
@Suite("schema.sql of the reference specs", .serialized)
struct SchemaScriptTests {
    static var specsWithWarehouse: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("specs").path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().filter { name in
            SpecLoader.load(path: packageRoot.appendingPathComponent("specs/\(name)").path).spec?.warehouse != nil
        }
    }

    static func load(_ name: String) throws -> Spec {
        try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/\(name)").path).spec)
    }

    @Test func everyReferenceSpecWithAWarehouseIsCovered() {
        #expect(Self.specsWithWarehouse.count >= 4)
    }

    @Test(arguments: specsWithWarehouse)
    func committedSchemaMatchesTheRendererByteForByte(_ name: String) throws {
        let spec = try Self.load(name)
        let rendered = try #require(SchemaScript.render(spec: spec))
        #expect(rendered == SchemaScript.render(spec: try Self.load(name)), "rendering twice must give identical bytes")
        let base = String(name.dropLast(".yaml".count))
        let committed = try String(contentsOf: packageRoot.appendingPathComponent("generated/\(base)/schema.sql"), encoding: .utf8)
        #expect(rendered == committed, "generated/\(base)/schema.sql is stale: run `sluice plan`")
    }

    @Test(arguments: specsWithWarehouse)
    func psqlRunsItOnAnEmptyDatabaseAndApplyThenHasNothingToDo(_ name: String) throws {
        let spec = try Self.load(name)
        let url = try TestServer.freshDatabase("schema")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString).sql")
        try Data(try #require(SchemaScript.render(spec: spec)).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try psql(url, file: file.path)
        #expect(result.status == 0, "psql failed: \(result.output)")
        let connection = try Connection(url)
        let plan = try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).plan(on: connection)
        #expect(plan.steps.map(\.summary) == [])
        #expect(plan.drift.map(\.name) == [])
        #expect(try connection.query("SELECT source FROM sluice.schema_version").rows == [["schema.sql"]])
    }

    /// The privileges schema.sql grants work as intended on a real server: the ETL writer loads its
    /// tables, keeps the bookkeeping and refreshes the view through Sluice's function; the dashboard
    /// role reads and nothing more.
    @Test func clickstreamRolesHaveExactlyTheirPrivileges() throws {
        let spec = try Self.load("clickstream.yaml")
        let url = try TestServer.freshDatabase("roles")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString).sql")
        try Data(try #require(SchemaScript.render(spec: spec)).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try psql(url, file: file.path).status == 0)
        let connection = try Connection(url)
        try connection.execute("SET ROLE etl_writer")
        try connection.query("INSERT INTO analytics.dim_users (user_id, first_seen_at) VALUES ($1, now())", ["u1"])
        try connection.query(
            "INSERT INTO analytics.fact_events (event_id, event_timestamp, event_date, event_hour, event_name, user_id) VALUES (gen_random_uuid(), now(), current_date, 3, 'page_view', 'u1')"
        )
        let run = try connection.query("INSERT INTO sluice.load_runs (pipeline) VALUES ('clickstream') RETURNING run_id").scalar
        try connection.query(
            "INSERT INTO sluice.manifest (pipeline, object_key, etag, size_bytes, run_id, records_read, records_loaded, records_quarantined) VALUES ('clickstream', 'k', 'e', 1, $1, 1, 1, 0)",
            [run])
        try connection.query("SELECT sluice.refresh_materialized_view('analytics.daily_event_counts')")
        try connection.query("SELECT sluice.refresh_materialized_view('analytics.daily_event_counts')")  // now concurrently
        let read = #expect(throws: PostgresError.self) { try connection.query("SELECT events FROM analytics.daily_event_counts") }
        #expect(read?.sqlState == "42501", "the writer refreshes the view but cannot read it: the spec grants it no SELECT")
        let delete = #expect(throws: PostgresError.self) { try connection.query("DELETE FROM sluice.manifest") }
        #expect(delete?.sqlState == "42501")
        let notManaged = #expect(throws: PostgresError.self) {
            try connection.query("SELECT sluice.refresh_materialized_view('pg_catalog.pg_class')")
        }
        #expect(notManaged?.message.contains("is not a materialized view") == true)
        try connection.execute("RESET ROLE; SET ROLE dashboard_reader")
        #expect(try connection.query("SELECT count(*) FROM analytics.fact_events").scalar == "1")
        #expect(try connection.query("SELECT events FROM analytics.daily_event_counts").scalar == "1")
        let write = #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO analytics.dim_users (user_id, first_seen_at) VALUES ('u2', now())")
        }
        #expect(write?.sqlState == "42501")
        let refresh = #expect(throws: PostgresError.self) {
            try connection.query("SELECT sluice.refresh_materialized_view('analytics.daily_event_counts')")
        }
        #expect(refresh?.sqlState == "42501")
    }
}
