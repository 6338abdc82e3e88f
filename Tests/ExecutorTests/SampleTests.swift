import Foundation
import LiveWarehouse
import PipelineExecutor
import PlanCompiler
import PostgresClient
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

/// Every reference spec with pipelines loads its shipped sample (CSV, JSON arrays, gzip, versioned
/// upserts, filters) with the rows and refusals its expected.json states.
@Suite("reference samples")
struct SampleTests {
    struct Expected: Decodable {
        var rows: [String: Int]
        var quarantined: [String: Int]
        var filtered: [String: Int]?
    }

    @Test(arguments: ["data-platform", "serverless-canonical", "sme-reporting"])
    func theSampleLoadsAsExpected(spec name: String) async throws {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/\(name).yaml").path).spec)
        let plan = try #require(PlanCompiler.compile(spec))
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: packageRoot.appendingPathComponent("samples/\(name)/expected.json")))
        let database = try TestServer.freshDatabase("sample")
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
        for pipeline in plan.pipelines {
            let store = FolderStore(root: packageRoot.appendingPathComponent("samples/\(name)/\(pipeline.source.bucket ?? "")"))
            let result = try await PipelineRunner(
                plan: plan, pipeline: pipeline, store: store,
                options: RunOptions(database: database, maskKey: Data("k".utf8))
            ).run()
            #expect(result.succeeded, "\(pipeline.name): \(result.objectsFailed)")
            #expect(result.counts.recordsQuarantined == expected.quarantined[pipeline.name], "\(pipeline.name)")
            #expect(result.counts.filteredTotal == expected.filtered?[pipeline.name] ?? 0, "\(pipeline.name)")
            #expect(result.objectsLoaded > 0, "\(pipeline.name) found no objects")
        }
        let connection = try Connection(database)
        for (table, rows) in expected.rows {
            #expect(try connection.query("SELECT count(*) FROM \(table)").scalar == String(rows), "\(table)")
        }
        if name == "serverless-canonical" {
            // The newest revision wins, whatever the order; the whole record is kept as jsonb.
            let ada = try connection.query("SELECT display_name, version, attributes->>'email' FROM canonical.customers WHERE customer_id = 'c1'")
                .rows
            #expect(ada == [["Ada King", "2", "ada@example.com"]])
            #expect(try connection.query("SELECT status FROM canonical.orders WHERE order_id = 'o1'").scalar == "paid")
        }
        if name == "sme-reporting" {
            #expect(try connection.query("SELECT string_agg(sku, ',' ORDER BY sku) FROM reporting.sales").scalar == "AB-100,AB-200,AB;300")
            #expect(try connection.query("SELECT customer FROM reporting.invoices WHERE invoice_no = 'R-1'").scalar == "Müller GmbH")
            // `sql` columns, computed by PostgreSQL in the merge from the row's other columns.
            #expect(
                try connection.query("SELECT unit_price::text, sold_week::text FROM reporting.sales WHERE invoice_no = 'INV-1' AND line_no = 1").rows
                    == [["9.95", "2026-11-16"]])
            // A German export: `1.234,56` and `03.11.2026`, a byte-order mark and CRLF; 31.11. is no date.
            #expect(
                try connection.query("SELECT document_no, booked_on::text, amount::text, description FROM reporting.expenses ORDER BY 1").rows
                    == [
                        ["RE-2026-101", "2026-11-03", "1234.56", "Büromaterial"], ["RE-2026-102", "2026-11-15", "850.00", "Miete; November"],
                        ["RE-2026-104", "2026-11-28", "-12.30", "Bewirtung"],
                    ])
            #expect(
                try connection.query("SELECT line, reason FROM sluice.quarantine WHERE pipeline = 'monthly-expenses'").rows.first?[0] == "4")
        }
    }
}
