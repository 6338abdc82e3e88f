import Foundation
import LiveWarehouse
import PipelineExecutor
import PlanCompiler
import PlanFormat
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

/// The clickstream spec's plan and a fresh database migrated to its schema.
struct Clickstream {
    let plan: ETLPlan
    let database: String

    static let maskKey = Data("test-mask-key".utf8)

    init() throws {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        plan = try #require(PlanCompiler.compile(spec))
        database = try TestServer.freshDatabase("etl")
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
    }

    var pipeline: PipelinePlan { plan.pipelines[0] }

    func options() -> RunOptions {
        var options = RunOptions(database: database, maskKey: Self.maskKey)
        options.retryDelay = .milliseconds(20)
        return options
    }

    func run(_ store: ObjectStore, options: RunOptions? = nil, pipeline: PipelinePlan? = nil) async throws -> PipelineResult {
        try await PipelineRunner(plan: plan, pipeline: pipeline ?? self.pipeline, store: store, options: options ?? self.options()).run()
    }

    func count(_ sql: String) throws -> Int {
        Int(try Connection(database).query(sql).scalar ?? "") ?? -1
    }

    /// Rows per target table.
    func rows() throws -> [String: Int] {
        var rows: [String: Int] = [:]
        for table in ["analytics.fact_events", "analytics.dim_users", "analytics.dim_products", "analytics.fact_sessions"] {
            rows[table] = try count("SELECT count(*) FROM \(table)")
        }
        return rows
    }
}

/// samples/clickstream/expected.json, computed by the sample's generator, not by Sluice.
struct Expected: Decodable {
    var objects: Int
    var records_read: Int
    var records_loaded: Int
    var records_duplicate: Int
    var records_filtered: [String: Int]
    var records_quarantined: Int
    var quarantine_reasons: [String]
    var rows: [String: Int]
    var events_per_name: [String: Int]

    static func load() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: packageRoot.appendingPathComponent("samples/clickstream/expected.json")))
    }
}

/// The sample folder as the bucket `raw` is laid out.
let sampleBucket = packageRoot.appendingPathComponent("samples/clickstream/raw")

/// Asserts the warehouse holds exactly the sample's expected result.
func expectSampleLoaded(_ clickstream: Clickstream, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let expected = try Expected.load()
    #expect(try clickstream.rows() == expected.rows, sourceLocation: sourceLocation)
    #expect(try clickstream.count("SELECT count(*) FROM sluice.quarantine") == expected.records_quarantined, sourceLocation: sourceLocation)
    #expect(
        try clickstream.count("SELECT count(*) FROM (SELECT object_key FROM sluice.manifest GROUP BY object_key HAVING count(*) = 1) once")
            == expected.objects,
        "each object in the manifest exactly once", sourceLocation: sourceLocation)
    let names = try Connection(clickstream.database).query("SELECT event_name, count(*) FROM analytics.fact_events GROUP BY 1 ORDER BY 1").rows
    #expect(Dictionary(uniqueKeysWithValues: names.map { ($0[0]!, Int($0[1]!)!) }) == expected.events_per_name, sourceLocation: sourceLocation)
}

/// load_runs says what the manifest says, run by run, whatever happened during the runs.
func expectRunsAgreeWithTheManifest(_ clickstream: Clickstream, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let disagreeing = try clickstream.count(
        """
        SELECT count(*) FROM sluice.load_runs r LEFT JOIN (
            SELECT run_id, count(*) AS objects, sum(records_read) AS read, sum(records_loaded) AS loaded, sum(records_quarantined) AS quarantined
            FROM sluice.manifest GROUP BY run_id) m USING (run_id)
        WHERE (r.objects_loaded, r.records_read, r.records_loaded, r.records_quarantined)
           IS DISTINCT FROM (coalesce(m.objects, 0), coalesce(m.read, 0), coalesce(m.loaded, 0), coalesce(m.quarantined, 0))
        """)
    #expect(disagreeing == 0, "every run's counts equal the sums of its manifest rows", sourceLocation: sourceLocation)
}
