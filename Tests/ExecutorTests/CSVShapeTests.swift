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
    static func load(
        _ files: [String: String], maxRejected: RejectLimit? = nil, prepare: (Connection) throws -> Void = { _ in },
        fields: (inout [SluiceCore.FieldRule]) -> Void = { _ in }, change: (inout Spec) -> Void = { _ in }
    ) async throws
        -> (PipelineResult, Connection)
    {
        var spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/sme-reporting.yaml").path).spec)
        change(&spec)
        if let index = spec.pipelines.firstIndex(where: { $0.name == "daily-sales" }) { fields(&spec.pipelines[index].fields) }
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
        try prepare(try Connection(database))
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

    /// A constraint the loader cannot see (a CHECK the database has): one row breaking it is that
    /// row's problem. It is quarantined with PostgreSQL's reason and the rest of the file loads, in
    /// the same transaction.
    static func positiveQuantity(_ connection: Connection) throws {
        try connection.query("ALTER TABLE reporting.sales ADD CONSTRAINT positive_quantity CHECK (quantity > 0)")
    }

    static func sales(_ quantities: [Int]) -> String {
        "\(header)\n" + quantities.enumerated().map { "INV-\($0.offset + 1);1;2026-11-20;AB-100;\($0.element);19.90\n" }.joined()
    }

    @Test func aRowBreakingACheckIsQuarantinedAndTheRestLoads() async throws {
        let (result, connection) = try await Self.load(["day.csv": Self.sales([2, 1, 3, -1, 4, 5, 1, 2])], prepare: Self.positiveQuantity)
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(result.counts.recordsQuarantined == 1 && result.counts.recordsLoaded == 7)
        #expect(try connection.query("SELECT count(*) FROM reporting.sales").scalar == "7")
        #expect(try connection.query("SELECT string_agg(invoice_no, ',') FROM reporting.sales WHERE quantity < 0").scalar == nil)
        let rejected = try connection.query("SELECT line, field, reason FROM sluice.quarantine")
        #expect(rejected.rows.count == 1)
        #expect(rejected.rows.first?[0] == "5", "the CSV line of the row")
        #expect(rejected.rows.first?[1] == "reporting.sales")
        #expect(rejected.rows.first?[2]?.contains("violates check constraint \"positive_quantity\" (23514)") == true, "\(rejected.rows)")
        #expect(try connection.query("SELECT count(*) FROM sluice.manifest").scalar == "1")
    }

    /// `sql` columns are computed by PostgreSQL in the merge; a row the expression fails on (a
    /// division by zero) is that row's problem, quarantined with PostgreSQL's message.
    @Test func aSQLColumnIsComputedAndARowItFailsOnIsQuarantined() async throws {
        let (result, connection) = try await Self.load(
            ["day.csv": Self.sales([2, 4, 0, 5])],
            change: { spec in
                let pipeline = spec.pipelines.firstIndex { $0.name == "daily-sales" }!
                let mapping = spec.pipelines[pipeline].targets[0].mappings.firstIndex { $0.column == "unit_price" }!
                spec.pipelines[pipeline].targets[0].mappings[mapping].source = .expression("net_amount / quantity")
            })
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(result.counts.recordsQuarantined == 1 && result.counts.recordsLoaded == 3)
        let rows = try connection.query("SELECT invoice_no, unit_price::text, sold_week::text FROM reporting.sales ORDER BY invoice_no").rows
        #expect(rows == [["INV-1", "9.95", "2026-11-16"], ["INV-2", "4.98", "2026-11-16"], ["INV-4", "3.98", "2026-11-16"]])
        let rejected = try connection.query("SELECT line, reason FROM sluice.quarantine").rows
        #expect(rejected.count == 1 && rejected.first?[0] == "4", "\(rejected)")
        #expect(rejected.first?[1]?.contains("division by zero (22012)") == true, "\(rejected)")
    }

    /// A German export: dates `30.11.2026`, amounts `1.234,56`. Read as the fields say, stored as
    /// PostgreSQL's date and numeric; a value that does not follow the notation is refused, naming it.
    @Test func aGermanExportIsReadAsItsFieldsSay() async throws {
        let day =
            "\(Self.header)\n"
            + [
                "INV-1;1;30.11.2026;AB-100;2;1.234,56", "INV-2;1;1.12.2026;AB-100;1;20,65", "INV-3;1;31.02.2026;AB-100;1;5,00",
                "INV-4;1;30.11.2026;AB-100;1;20.65", "INV-5;1;30.11.2026;AB-100;1;-7",
            ].joined(separator: "\n") + "\n"
        let (result, connection) = try await Self.load(
            ["day.csv": day], maxRejected: .share(0.5),
            fields: { fields in
                for index in fields.indices {
                    if fields[index].path == "date" { fields[index].format = "d.M.yyyy" }
                    if fields[index].path == "net" { fields[index].notation = NumberNotation(decimal: ",", group: ".") }
                }
            })
        #expect(result.succeeded, "\(result.objectsFailed)")
        let rows = try connection.query("SELECT invoice_no, sold_on::text, net_amount::text FROM reporting.sales ORDER BY invoice_no").rows
        #expect(rows == [["INV-1", "2026-11-30", "1234.56"], ["INV-2", "2026-12-01", "20.65"], ["INV-5", "2026-11-30", "-7.00"]])
        let refused = try connection.query("SELECT line, reason FROM sluice.quarantine ORDER BY line").rows
        #expect(refused.map { $0[0] } == ["4", "5"])
        #expect(refused.first?[1]?.contains("field date: \"31.02.2026\" is not a date written as d.M.yyyy") == true, "\(refused)")
        #expect(
            refused.last?[1]?.contains(
                "field net: \"20.65\" is not a number written with ',' as decimal separator and '.' between groups of three digits") == true,
            "\(refused)")
    }

    /// A foreign key the spec does not declare (a products table the database keeps): a row naming an
    /// unknown SKU is quarantined with the constraint and PostgreSQL's detail; the others load.
    @Test func aRowBreakingAForeignKeyIsQuarantinedAndTheRestLoads() async throws {
        let day =
            "\(Self.header)\n"
            + ["AB-100", "AB-100", "ZZ-999", "AB-200", "AB-100"].enumerated().map {
                "INV-\($0.offset + 1);1;2026-11-20;\($0.element);1;9.90\n"
            }.joined()
        let (result, connection) = try await Self.load(["day.csv": day]) { connection in
            try connection.execute(
                """
                CREATE TABLE reporting.products (sku text PRIMARY KEY);
                INSERT INTO reporting.products VALUES ('AB-100'), ('AB-200');
                ALTER TABLE reporting.sales ADD CONSTRAINT sales_sku_fkey FOREIGN KEY (sku) REFERENCES reporting.products (sku);
                """)
        }
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(result.counts.recordsLoaded == 4 && result.counts.recordsQuarantined == 1)
        let rejected = try connection.query("SELECT line, reason FROM sluice.quarantine").rows
        #expect(rejected.count == 1)
        #expect(rejected.first?[0] == "4")
        #expect(rejected.first?[1]?.contains("violates foreign key constraint \"sales_sku_fkey\" (23503)") == true, "\(rejected)")
        #expect(rejected.first?[1]?.contains("Key (sku)=(ZZ-999) is not present in table \"products\"") == true, "\(rejected)")
        #expect(try connection.query("SELECT string_agg(DISTINCT sku, ',' ORDER BY sku) FROM reporting.sales").scalar == "AB-100,AB-200")
    }

    /// NOT NULL broken where the loader cannot see it: a trigger of the database's own clears the SKU
    /// of zero-quantity lines. Those rows are quarantined with the column named; the rest load.
    @Test func aRowBreakingNotNullInTheDatabaseIsQuarantinedAndTheRestLoads() async throws {
        let (result, connection) = try await Self.load(["day.csv": Self.sales([2, 0, 3, 4, 5, 1, 2, 0, 6, 7])]) { connection in
            try connection.execute(
                """
                CREATE FUNCTION reporting.clear_zero_lines() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.quantity = 0 THEN NEW.sku := NULL; END IF; RETURN NEW; END $$;
                CREATE TRIGGER clear_zero_lines BEFORE INSERT ON reporting.sales FOR EACH ROW EXECUTE FUNCTION reporting.clear_zero_lines();
                """)
        }
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(result.counts.recordsLoaded == 8 && result.counts.recordsQuarantined == 2)
        let reasons = try connection.query("SELECT line, reason FROM sluice.quarantine ORDER BY line").rows
        #expect(reasons.map { $0[0] } == ["3", "9"])
        #expect(reasons.allSatisfy { $0[1]?.contains("null value in column \"sku\"") == true && $0[1]?.contains("(23502)") == true }, "\(reasons)")
        #expect(try connection.query("SELECT count(*) FROM reporting.sales").scalar == "8")
    }

    @Test func rowsBreakingAConstraintCountAgainstTheRejectLimit() async throws {
        // Three of eight is over the pipeline's 25%: nothing loads, the three are kept with their reason.
        let (result, connection) = try await Self.load(["day.csv": Self.sales([2, -1, 3, -1, 4, 5, -2, 2])], prepare: Self.positiveQuantity)
        #expect(!result.succeeded)
        #expect(result.objectsFailed.first?.error.hasPrefix("3 of 8 records refused, over max_rejected 25%") == true, "\(result.objectsFailed)")
        #expect(try connection.query("SELECT count(*) FROM reporting.sales").scalar == "0")
        #expect(try connection.query("SELECT count(*) FROM sluice.quarantine WHERE reason LIKE '%positive_quantity%'").scalar == "3")
        // With a limit that allows them, the five good rows load.
        let (allowed, loaded) = try await Self.load(
            ["day.csv": Self.sales([2, -1, 3, -1, 4, 5, -2, 2])], maxRejected: .share(0.5), prepare: Self.positiveQuantity)
        #expect(allowed.succeeded)
        #expect(try loaded.query("SELECT count(*) FROM reporting.sales").scalar == "5")
    }

    /// Every row can say where it came from: `source_file: { derived: object_key }` and its line, run
    /// and load time (the sme-reporting spec's sales table does).
    @Test func rowsCarryTheirLineage() async throws {
        let (result, connection) = try await Self.load(["day.csv": Self.sales([2, 3])])
        #expect(result.succeeded)
        let rows = try connection.query(
            """
            SELECT s.source_file, s.source_line, s.load_run = r.run_id, abs(extract(epoch FROM s.loaded_at - r.started_at)) < 60
            FROM reporting.sales s JOIN sluice.load_runs r ON r.run_id = s.load_run ORDER BY s.source_line
            """
        ).rows
        #expect(rows.map { $0.map { $0 ?? "NULL" } } == [["sales/2026/11/20/day.csv", "2", "t", "t"], ["sales/2026/11/20/day.csv", "3", "t", "t"]])
    }

    /// `updated_at: { on_update: now() }`: an upsert that changes a row moves it; a row no later
    /// file touches keeps its time. Each object is its own transaction, so its own now().
    @Test func anUpsertMovesUpdatedAt() async throws {
        let (result, connection) = try await Self.load([
            "a.csv": "\(Self.header)\nINV-1;1;2026-11-20;AB-100;2;19.90\nINV-2;1;2026-11-20;AB-100;1;9.95\n",
            "b.csv": "\(Self.header)\nINV-1;1;2026-11-20;AB-100;3;29.85\n",
        ])
        #expect(result.succeeded && result.objectsLoaded == 2)
        let rows = try connection.query(
            """
            SELECT invoice_no, quantity, updated_at IS NOT NULL, source_file FROM reporting.sales ORDER BY invoice_no
            """
        ).rows
        #expect(
            rows.map { $0.map { $0 ?? "NULL" } } == [["INV-1", "3", "t", "sales/2026/11/20/b.csv"], ["INV-2", "1", "t", "sales/2026/11/20/a.csv"]])
        #expect(
            try connection.query(
                "SELECT (SELECT updated_at FROM reporting.sales WHERE invoice_no = 'INV-1') > (SELECT updated_at FROM reporting.sales WHERE invoice_no = 'INV-2')"
            ).scalar == "t", "the second file's transaction wrote INV-1 again")
    }
}
