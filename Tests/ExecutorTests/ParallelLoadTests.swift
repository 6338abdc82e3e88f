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

/// What loads beside each other append ahead of their turn, and what they give back.
@Suite("appending ahead of the turn", .serialized)
struct AppendAheadTests {
    static func event(_ id: String, user: String, hour: Int, page: String, country: String = "DE") -> String {
        #"{"event_id": "\#(id)", "event_timestamp": "2026-11-21T\#(String(format: "%02d", hour)):00:00.000Z", "event_name": "page_view", "user": {"id": "\#(user)", "country": "\#(country)"}, "session": {"id": "s-\#(user)"}, "context": {"page_url": "\#(page)"}, "product": {"id": "p1", "name": "Product 1"}}"#
    }

    static func id(_ object: Int, _ line: Int) -> String { String(format: "%08x-0000-4000-8000-%012x", object, line) }

    /// Object 0 is long and introduces its users; its last event, `shared`, has a new user, so it is
    /// held for object 0's turn. Object 1 is short and has `shared` too, with a user already
    /// committed: it appends it ahead, while object 0 merges. Object 0's append of `shared` then waits
    /// for object 1, which waits for object 0's turn to end. Object 1 must give its row back.
    /// It also references users object 0 introduces (held until object 0 commits) and a new one.
    static func objects(in root: URL) throws {
        let shared = "ffffffff-0000-4000-8000-000000000000"
        var first = (0..<20_000).map { event(id(0, $0), user: "a\($0 % 5000)", hour: 0, page: "https://shop.example.com/0") }
        first.append(event(shared, user: "late-user", hour: 0, page: "https://shop.example.com/from-0"))
        let second = [
            event(shared, user: "known", hour: 1, page: "https://shop.example.com/from-1"),
            event(id(1, 1), user: "a7", hour: 1, page: "https://shop.example.com/1"),
            event(id(1, 2), user: "b1", hour: 1, page: "https://shop.example.com/1"),
        ]
        let third = [
            event(id(2, 1), user: "known", hour: 2, page: "https://shop.example.com/2"),
            event(id(2, 2), user: "b1", hour: 2, page: "https://shop.example.com/2"),
        ]
        for (index, lines) in [first, second, third].enumerated() {
            let folder = root.appendingPathComponent(String(format: "raw/events/2026/11/21/%02d", index))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(
                to: folder.appendingPathComponent("part-0000.jsonl"), atomically: true, encoding: .utf8)
        }
    }

    /// A database where `known` is a user and `p1` a product already, and where a lock waited for longer than 30 s fails
    /// the statement: a circle of waits through the turn would fail the test, not hang it.
    static func database() throws -> String {
        let url = try TestServer.freshDatabase("ahead")
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(url))
        let connection = try Connection(url)
        let name = try #require(try connection.query("SELECT current_database()").scalar)
        try connection.query("ALTER DATABASE \"\(name)\" SET lock_timeout = '30s'")
        try connection.query("INSERT INTO analytics.dim_users (user_id, country, first_seen_at) VALUES ('known', 'FR', '2026-11-01T00:00:00Z')")
        try connection.query("INSERT INTO analytics.dim_products (product_id, name) VALUES ('p1', 'Product 1')")
        return url
    }

    @Test func rowsAppendedAheadAreGivenBackToTheLoadWhoseTurnItIs() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ahead-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.objects(in: root)
        let (alone, first) = try await ParallelLoadTests.load(root, connections: 1, database: try Self.database())
        let (together, second) = try await ParallelLoadTests.load(root, connections: 2, database: try Self.database())
        #expect(alone.succeeded && together.succeeded, "\(together.objectsFailed)")
        #expect(together.objectsLoaded == 3 && together.counts == alone.counts, "\(together.counts)")
        #expect(try ParallelLoadTests.contents(second) == ParallelLoadTests.contents(first))
        // The shared event is object 0's, as one after another: the first append of a key wins.
        let shared = "SELECT user_id, page_url FROM analytics.fact_events WHERE event_id = 'ffffffff-0000-4000-8000-000000000000'"
        #expect(try Connection(second).query(shared).rows == [["late-user", "https://shop.example.com/from-0"]])
        #expect(together.counts.recordsDuplicate == 1)
        // Events of users another object introduced, or introduced themselves, are in.
        #expect(
            try Connection(second).query(
                "SELECT user_id FROM analytics.fact_events WHERE event_id::text LIKE '0000000_-%' AND event_id::text NOT LIKE '00000000-%' ORDER BY 1"
            ).column("user_id")
                == ["a7", "b1", "b1", "known"])
    }

    /// Rows breaking a constraint, found beside other loads: in an append made ahead of the turn, in
    /// one held for it, and in an upsert made in turn (which takes back what was appended ahead, so
    /// the refused record is in no table). The same rows and the same refusals as one after another.
    @Test func aBadRowFoundBesideOtherLoadsIsRefusedAsItIsAlone() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ahead-bad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for index in 0..<4 {
            let lines = (0..<300).map { line -> String in
                // Known's last value in each object is a country dim_users refuses.
                let user = line % 3 == 0 || line == 299 ? "known" : "u\(index)-\(line % 40)"
                let page = line % 97 == 5 ? "https://shop.example.com/bad" : "https://shop.example.com/\(index)"
                return Self.event(Self.id(index, line), user: user, hour: index, page: page, country: line == 299 ? "XX" : "DE")
            }
            let folder = root.appendingPathComponent(String(format: "raw/events/2026/11/21/%02d", index))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("part-0000.jsonl"), atomically: true, encoding: .utf8)
        }
        func database() throws -> String {
            let url = try Self.database()
            try Connection(url).execute(
                """
                ALTER TABLE analytics.fact_events ADD CONSTRAINT no_bad_pages CHECK (page_url NOT LIKE '%/bad');
                ALTER TABLE analytics.dim_users ADD CONSTRAINT no_xx CHECK (country <> 'XX');
                """)
            return url
        }
        let (alone, first) = try await ParallelLoadTests.load(root, connections: 1, database: try database())
        let (together, second) = try await ParallelLoadTests.load(root, connections: 3, database: try database())
        #expect(alone.succeeded && together.succeeded, "\(together.objectsFailed)")
        #expect(together.counts == alone.counts, "\(together.counts)")
        #expect(alone.counts.recordsQuarantined == 4 * 5, "\(alone.counts)")
        #expect(try ParallelLoadTests.contents(second) == ParallelLoadTests.contents(first))
        // The same records refused, for the same constraint (the detail shows the row, with the time it was written).
        let refusals = "SELECT object_key, line, field, split_part(reason, ' (', 1) FROM sluice.quarantine ORDER BY 1, 2"
        #expect(try Connection(second).query(refusals).rows == Connection(first).query(refusals).rows)
        #expect(try Connection(second).query("SELECT count(*) FROM sluice.quarantine WHERE reason LIKE '%\"no_xx\"%'").scalar == "4")
        // A record refused by dim_users (its event appended ahead, then taken back) is in none of the tables.
        let refused = (0..<4).map { "'\(Self.id($0, 299))'" }.joined(separator: ", ")
        #expect(try Connection(second).query("SELECT count(*) FROM analytics.fact_events WHERE event_id IN (\(refused))").scalar == "0")
    }

    /// Re-sent events in another order, appended side by side (fact_events alone, so no load waits
    /// for a turn). Rows go in key order: in the file's order, each load inserted keys the other then
    /// waited for, a deadlock PostgreSQL broke after a second by failing one load, which was loaded again.
    @Test func reSentRowsInAnotherOrderAppendSideBySideWithoutADeadlock() async throws {
        var spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        spec.pipelines[0].targets.removeAll { $0.table != "analytics.fact_events" }
        let events = try #require(spec.warehouse?.tables.firstIndex { $0.name == "fact_events" })
        spec.warehouse!.tables[events].foreignKeys = []
        let plan = try #require(PlanCompiler.compile(spec))
        #expect(plan.pipelines[0].targets[0].merge.contains("ORDER BY t1_event_id, sluice_ordinal\n"))
        // Where another unique constraint decides which of two rows is kept, the file's order decides.
        var unique = spec
        unique.warehouse!.tables[events].uniques = [["page_url", "event_timestamp"]]
        #expect(try #require(PlanCompiler.compile(unique)).pipelines[0].targets[0].merge.contains("ORDER BY sluice_ordinal\n"))
        let database = try TestServer.freshDatabase("resent")
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
        // Every row takes a millisecond to write, so the two appends overlap for certain.
        try Connection(database).execute(
            """
            CREATE FUNCTION public.slowly() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$;
            CREATE TRIGGER slowly BEFORE INSERT ON analytics.fact_events FOR EACH ROW EXECUTE FUNCTION public.slowly();
            """)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("resent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let ids = (0..<1500).map { Self.id(9, $0) }
        for (index, order) in [ids, ids.reversed()].enumerated() {
            let folder = root.appendingPathComponent(String(format: "raw/events/2026/11/21/%02d", index))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let lines = order.map { Self.event($0, user: "u1", hour: index, page: "https://shop.example.com/\(index)") }
            try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("part-0000.jsonl"), atomically: true, encoding: .utf8)
        }
        let retries = Notes()
        var options = RunOptions(database: database, maskKey: Data("k".utf8))
        options.connections = 2
        let result = try await PipelineRunner(
            plan: plan, pipeline: plan.pipelines[0], store: FolderStore(root: root.appendingPathComponent("raw")), options: options
        ) { event in
            if case .retrying(_, _, let reason) = event { retries.add(reason) }
        }.run()
        #expect(result.succeeded && result.objectsLoaded == 2, "\(result.objectsFailed)")
        #expect(retries.all.isEmpty, "\(retries.all)")
        #expect(result.counts.recordsLoaded == 1500 && result.counts.recordsDuplicate == 1500, "\(result.counts)")
        #expect(try Connection(database).query("SELECT count(*) FROM analytics.fact_events").scalar == "1500")
    }

    @Test func thePlanSplitsOnlyAppendsThatReferenceWhatThePipelineWrites() throws {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        let pipeline = try #require(PlanCompiler.compile(spec)?.pipelines.first)
        let held = try #require(pipeline.staging.heldRows)
        #expect(held.contains("NOT EXISTS (SELECT FROM analytics.dim_users AS referenced WHERE referenced.user_id = sluice_stage.t4_user_id)"))
        #expect(
            held.contains("NOT EXISTS (SELECT FROM analytics.dim_products AS referenced WHERE referenced.product_id = sluice_stage.t4_product_id)"))
        let events = try #require(pipeline.targets.first { $0.table == "analytics.fact_events" })
        #expect(events.appendAhead?.contains("sluice_ordinal NOT IN (SELECT sluice_ordinal FROM pg_temp.sluice_held)") == true)
        #expect(events.appendInTurn?.contains("sluice_ordinal IN (SELECT sluice_ordinal FROM pg_temp.sluice_held)") == true)
        #expect(pipeline.targets.filter { $0.mode != .append }.allSatisfy { $0.appendAhead == nil && $0.appendInTurn == nil })
    }
}
