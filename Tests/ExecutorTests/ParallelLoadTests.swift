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

@testable import PipelineExecutor

/// Several objects at once, each on its own connection: the same rows as one after another (upserts
/// whose last value wins included), every object exactly once, and a bad object failing alone.
@Suite("loading side by side", .serialized)
struct ParallelLoadTests {
    /// `count` hourly objects of clickstream events whose users change country from object to object,
    /// so the last object's value must win in dim_users, as it does loading one after another.
    static func objects(_ count: Int, in root: URL, broken: Int? = nil) throws {
        var random = SplitMix64(state: 7)
        for index in 0..<count {
            let folder = root.appendingPathComponent(String(format: "raw/events/2026/11/20/%02d", index))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var lines: [String] = []
            // The third from last is long: loaded side by side, the two after it would commit first.
            for line in 0..<(index == count - 3 ? 8000 : 200) {
                let user = Int(random.next() % 30)
                let country = ["DE", "FR", "IE", "NL"][(index + user) % 4]
                let product = Int(random.next() % 12)
                let id = String(format: "%08x-0000-4000-8000-%012x", index, line)
                lines.append(
                    #"{"event_id": "\#(id)", "event_timestamp": "2026-11-20T\#(String(format: "%02d", index)):\#(String(format: "%02d", line % 60)):00.000Z", "event_name": "purchase", "user": {"id": "u\#(user)", "email": "user\#(user)@example.com", "country": "\#(country)"}, "session": {"id": "s\#(user)-\#(index)"}, "context": {"client_id": "c1", "page_url": "https://shop.example.com/p/p\#(product)", "traffic_source": "ads"}, "product": {"id": "p\#(product)", "name": "Product \#(product) v\#(index)", "category": "c\#(product % 3)", "price": \#(product).5}}"#
                )
            }
            if index == broken { lines.insert("{\"event_id\": ", at: 0) }
            try (lines.joined(separator: "\n") + "\n").write(
                to: folder.appendingPathComponent(String(format: "part-%04d.jsonl", index)), atomically: true, encoding: .utf8)
        }
    }

    static func load(_ root: URL, connections: Int, database: String? = nil) async throws -> (PipelineResult, String) {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        let plan = try #require(PlanCompiler.compile(spec))
        let database = try database ?? TestServer.freshDatabase("parallel")
        if try Connection(database).query("SELECT to_regclass('sluice.manifest')").scalar == nil {
            try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
        }
        var options = RunOptions(database: database, maskKey: Data("k".utf8))
        options.connections = connections
        let result = try await PipelineRunner(
            plan: plan, pipeline: plan.pipelines[0], store: FolderStore(root: root.appendingPathComponent("raw")), options: options
        ).run()
        return (result, database)
    }

    /// Every target table's rows as text, in key order, without the columns a run stamps.
    static func contents(_ database: String) throws -> [String: [[String?]]] {
        let connection = try Connection(database)
        return [
            "dim_users": try connection.query("SELECT user_id, email_hash, country, first_seen_at::text FROM analytics.dim_users ORDER BY 1").rows,
            "dim_products": try connection.query("SELECT product_id, name, category FROM analytics.dim_products ORDER BY 1").rows,
            "fact_sessions": try connection.query(
                "SELECT session_id, user_id, client_id, started_at::text, traffic_source FROM analytics.fact_sessions ORDER BY 1"
            ).rows,
            "fact_events": try connection.query("SELECT event_id, event_name, user_id, product_id FROM analytics.fact_events ORDER BY 1").rows,
        ]
    }

    @Test func sideBySideLoadsWhatOneAfterAnotherLoads() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("parallel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.objects(12, in: root)
        let (alone, first) = try await Self.load(root, connections: 1)
        let (together, second) = try await Self.load(root, connections: 3)
        #expect(alone.succeeded && together.succeeded)
        #expect(together.objectsLoaded == 12 && together.counts == alone.counts, "\(together.counts)")
        let expected = try Self.contents(first)
        #expect(expected["dim_users"]?.count == 30 && expected["fact_events"]?.count == 11 * 200 + 8000)
        #expect(try Self.contents(second) == expected)
        // The last object's country and product names won, as they do one after another.
        #expect(try Connection(second).query("SELECT name FROM analytics.dim_products WHERE product_id = 'p1'").scalar == "Product 1 v11")
        // Exactly once: a second run finds every object in the manifest.
        let (again, _) = try await Self.load(root, connections: 3, database: second)
        #expect(again.objectsLoaded == 0 && again.objectsSkipped == 12)
        #expect(try Connection(second).query("SELECT count(*), count(DISTINCT object_key) FROM sluice.manifest").rows == [["12", "12"]])
    }

    @Test func aBadObjectFailsAloneWhileTheOthersLoad() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("parallel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.objects(6, in: root)
        // Over max_rejected: every record of object 3 refused by a schema the table does not take.
        let folder = root.appendingPathComponent("raw/events/2026/11/20/03")
        try String(repeating: "{\"event_id\": \"not-a-uuid\"}\n", count: 50).write(
            to: folder.appendingPathComponent("part-0003.jsonl"), atomically: true, encoding: .utf8)
        let (result, database) = try await Self.load(root, connections: 2)
        #expect(result.objectsLoaded == 5)
        #expect(result.objectsFailed.map(\.key) == ["events/2026/11/20/03/part-0003.jsonl"])
        #expect(try Connection(database).query("SELECT count(*) FROM sluice.manifest").scalar == "5")
        #expect(try Connection(database).query("SELECT status FROM sluice.load_runs").scalar == "failed")
    }
}
