import Foundation
import LiveWarehouse
import PipelineExecutor
import PlanCompiler
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

/// Real exports drift: a renamed column, a row with a field too many. The sme-reporting spec's
/// daily sales, loaded from a folder of such files.
@Suite("CSV header and row shape")
struct CSVShapeTests {
    static let header = "invoice;line;date;sku;qty;net"

    /// Loads the daily-sales pipeline from `files` (name → contents) under sales/2026/11/20/.
    static func load(_ files: [String: String], maxRejected: RejectLimit? = nil) async throws -> (PipelineResult, Connection) {
        var spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/sme-reporting.yaml").path).spec)
        if let maxRejected, let index = spec.pipelines.firstIndex(where: { $0.name == "daily-sales" }) {
            spec.pipelines[index].maxRejected = maxRejected
        }
        let plan = try #require(PlanCompiler.compile(spec))
        let pipeline = try #require(plan.pipelines.first { $0.name == "daily-sales" })
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("csv-shape-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("sales/2026/11/20")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: folder.appendingPathComponent(name)) }
        let database = try TestServer.freshDatabase("csvshape")
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
        let result = try await PipelineRunner(
            plan: plan, pipeline: pipeline, store: FolderStore(root: root),
            options: RunOptions(database: database, maskKey: Data("k".utf8))
        ).run()
        return (result, try Connection(database))
    }

    @Test func aMappedColumnMissingFromTheHeaderFailsTheObjectBeforeAnyRow() async throws {
        let (result, connection) = try await Self.load([
            "renamed.csv": "invoice;line;date;artikel;qty;net\nINV-9;1;2026-11-20;AB-100;2;19.90\n",
            "good.csv": "\(Self.header)\nINV-1;1;2026-11-20;AB-100;2;19.90\n",
        ])
        #expect(!result.succeeded, "a failed object fails the run")
        let failure = try #require(result.objectsFailed.first)
        #expect(failure.key.hasSuffix("renamed.csv"))
        #expect(failure.error.contains("the header lacks 'sku' (it has 'invoice', 'line', 'date', 'artikel', 'qty', 'net')"), "\(failure.error)")
        #expect(result.objectsLoaded == 1)
        #expect(
            try connection.query("SELECT string_agg(invoice_no, ',') FROM reporting.sales").scalar == "INV-1",
            "nothing of the renamed file, all of the good one")
        #expect(
            try connection.query("SELECT count(*) FROM sluice.manifest WHERE object_key LIKE '%renamed.csv'").scalar == "0",
            "so the next run tries it again")
    }

    @Test func aRowWithAFieldTooManyIsQuarantinedWithBothCounts() async throws {
        let (result, connection) = try await Self.load(
            [
                "wide.csv": "\(Self.header);region\nINV-1;1;2026-11-20;AB-100;2;19.90;north\nINV-2;1;2026-11-20;AB-200;1;5.00;south;extra\n",
                "also-wide.csv": "\(Self.header);region\nINV-3;1;2026-11-20;AB-100;1;9.95;west\n",
            ], maxRejected: .share(1))
        #expect(result.succeeded)
        #expect(result.counts.recordsQuarantined == 1)
        #expect(try connection.query("SELECT reason FROM sluice.quarantine").scalar == "the row has 8 fields, the header 7")
        #expect(try connection.query("SELECT count(*) FROM reporting.sales").scalar == "2")
        // The unread column is said once for every object with that header, not once per row or per object.
        #expect(result.warnings.filter { $0.contains("the header has column no field reads: 'region'") }.count == 1, "\(result.warnings)")
    }

    /// A file whose every record is refused is not "loaded with rejects": the run fails.
    static let allBad = "\(header)\nINV-1;1;30.11.2026;AB-100;2;19.90\nINV-2;1;01.12.2026;AB-200;1;5.00\n"

    @Test func anObjectOverItsRejectLimitIsNotLoadedAndFailsTheRun() async throws {
        let (result, connection) = try await Self.load([
            "all-bad.csv": Self.allBad, "good.csv": "\(Self.header)\nINV-3;1;2026-11-20;AB-100;2;19.90\n",
        ])
        #expect(!result.succeeded)
        let failure = try #require(result.objectsFailed.first)
        #expect(
            failure.key.hasSuffix("all-bad.csv")
                && failure.error.hasPrefix("2 of 2 records refused, over max_rejected 25%: nothing of it was loaded"), "\(failure.error)")
        #expect(try connection.query("SELECT status FROM sluice.load_runs").scalar == "failed")
        #expect(
            try connection.query("SELECT count(*) FROM sluice.quarantine WHERE object_key LIKE '%all-bad.csv'").scalar == "2",
            "the rejects say what is wrong")
        #expect(
            try connection.query("SELECT count(*) FROM sluice.manifest WHERE object_key LIKE '%all-bad.csv'").scalar == "0",
            "so a fixed spec can load it")
        #expect(try connection.query("SELECT string_agg(invoice_no, ',') FROM reporting.sales").scalar == "INV-3")
    }

    @Test func aLimitThatAllowsItLoadsWhatIsGood() async throws {
        let (result, connection) = try await Self.load(["all-bad.csv": Self.allBad], maxRejected: .share(1))
        #expect(result.succeeded)
        #expect(result.counts.recordsQuarantined == 2)
        #expect(try connection.query("SELECT status FROM sluice.load_runs").scalar == "succeeded")
        let (counted, _) = try await Self.load(["all-bad.csv": Self.allBad], maxRejected: .count(1))
        #expect(counted.objectsFailed.first?.error.hasPrefix("2 of 2 records refused, over max_rejected 1:") == true)
    }
}
