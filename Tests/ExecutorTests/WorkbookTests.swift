import Foundation
import LiveWarehouse
import PlanCompiler
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

@testable import PipelineExecutor

/// Excel sources: workbooks written by openpyxl (a real spreadsheet writer, with the strings moved to
/// the shared-string table as Excel writes them), loaded through the sme-reporting spec's
/// weekly-payments pipeline: the "Payments" sheet, its header in row 2.
@Suite("Excel sources", .serialized)
struct WorkbookTests {
    static let header: [String] = ["Reference", "Invoice", "Date", "Amount", "Method", "Reconciled"]

    /// Writes a workbook from a description (see make_workbook.py) into `folder`.
    static func workbook(_ description: [String: Any], at file: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try pythonExecutable())
        process.arguments = [packageRoot.appendingPathComponent("Tests/TestSupport/make_workbook.py").path, file.path]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: description))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else { throw Failure(description: "make_workbook.py failed (pip install openpyxl): \(message)") }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Loads `files` (name → workbook description, or raw bytes) under payments/ with the weekly-payments pipeline.
    static func load(_ files: [String: Any], change: (inout Spec) -> Void = { _ in }) async throws -> (PipelineResult, Connection) {
        var spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/sme-reporting.yaml").path).spec)
        change(&spec)
        let plan = try #require(PlanCompiler.compile(spec))
        let pipeline = try #require(plan.pipelines.first { $0.name == "weekly-payments" })
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("workbook-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("payments")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, content) in files {
            if let bytes = content as? Data {
                try bytes.write(to: folder.appendingPathComponent(name))
            } else {
                try workbook(content as! [String: Any], at: folder.appendingPathComponent(name))
            }
        }
        let database = try TestServer.freshDatabase("workbook")
        try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
        let result = try await PipelineRunner(
            plan: plan, pipeline: pipeline, store: FolderStore(root: root), options: RunOptions(database: database, maskKey: Data("k".utf8))
        ).run()
        return (result, try Connection(database))
    }

    static func payments(_ rows: [Any], sheet: String = "Payments", date1904: Bool = false) -> [String: Any] {
        [
            "sheets": [
                ["title": "Summary", "rows": [["see the Payments sheet"]]],
                ["title": sheet, "rows": [["Payments export, November 2026"], header] + rows],
            ],
            "date1904": date1904,
        ]
    }

    @Test func aSheetIsReadAsItsCellsSay() async throws {
        let (result, connection) = try await Self.load([
            "week.xlsx": Self.payments([
                ["P-1", " inv-1 ", ["date": "2026-11-21"], 19.9, "Card", ["bool": true]],
                ["P-2", "INV-2", ["date": "2026-02-28"], 5, ["inline": "Transfer, \"SEPA\""], ["bool": false]],
                ["P-3", "INV-3", ["date": "2026-11-23"], ["error": "#DIV/0!"], "Card", ["bool": false]],
                [] as [Any],
                ["P-4", "INV-4", ["date": "2026-11-24"], 1234.56, NSNull(), ["bool": true]],
            ])
        ])
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(result.counts.recordsLoaded == 3 && result.counts.recordsQuarantined == 1)
        let rows = try connection.query(
            "SELECT payment_ref, invoice_no, paid_on::text, amount::text, method, reconciled::text, source_row::text FROM reporting.payments ORDER BY 1"
        ).rows
        #expect(
            rows == [
                ["P-1", "INV-1", "2026-11-21", "19.90", "card", "true", "3"],
                ["P-2", "INV-2", "2026-02-28", "5.00", "transfer, \"sepa\"", "false", "4"],
                ["P-4", "INV-4", "2026-11-24", "1234.56", nil, "true", "7"],
            ], "\(rows)")
        // The error is the row's problem, named by its cell; the row number is the sheet's.
        let rejected = try connection.query("SELECT line, field, reason, record FROM sluice.quarantine").rows
        #expect(rejected == [["5", "Amount", "cell D5 holds the error #DIV/0!", "P-3,INV-3,2026-11-23,#DIV/0!,Card,false"]], "\(rejected)")
    }

    /// Dates are counted from 1904 in a workbook that says so (as Excel for Mac once wrote them).
    @Test func theWorkbooksDateSystemIsUsed() async throws {
        let (result, connection) = try await Self.load([
            "mac.xlsx": Self.payments([["P-1", "INV-1", ["date": "2026-11-21"], 1, "Card", ["bool": true]]], date1904: true)
        ])
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(try connection.query("SELECT paid_on::text FROM reporting.payments").scalar == "2026-11-21")
    }

    @Test func aWorkbookThatIsNotWhatTheSpecSaysFailsThatObjectOnly() async throws {
        let good = Self.payments([["P-1", "INV-1", ["date": "2026-11-21"], 1, "Card", ["bool": true]]])
        let (result, connection) = try await Self.load([
            "a-renamed-sheet.xlsx": Self.payments([["P-9", "INV-9", ["date": "2026-11-21"], 1, "Card", ["bool": true]]], sheet: "Zahlungen"),
            "b-no-amount.xlsx": [
                "sheets": [["title": "Payments", "rows": [["title"], ["Reference", "Invoice", "Date", "Betrag", "Method", "Reconciled"]]]]
            ],
            "c-not-a-workbook.xlsx": Data("Reference,Invoice\nP-1,INV-1\n".utf8),
            "e-header-moved.xlsx": [
                "sheets": [
                    [
                        "title": "Payments",
                        "rows": [["title"], [] as [Any], Self.header, ["P-8", "INV-8", ["date": "2026-11-21"], 1, "Card", ["bool": true]]],
                    ]
                ]
            ],
            "d-good.xlsx": good,
        ])
        #expect(!result.succeeded)
        let failures = Dictionary(uniqueKeysWithValues: result.objectsFailed.map { (String($0.key.split(separator: "/").last!), $0.error) })
        #expect(
            failures["a-renamed-sheet.xlsx"]?.contains("the workbook has no sheet 'Payments' (it has 'Summary', 'Zahlungen')") == true, "\(failures)")
        #expect(failures["b-no-amount.xlsx"]?.contains("the header lacks 'Amount'") == true, "\(failures)")
        #expect(failures["c-not-a-workbook.xlsx"]?.contains("not an xlsx workbook") == true, "\(failures)")
        #expect(
            failures["e-header-moved.xlsx"]?.contains(
                "the sheet's row 2 is empty: it should name the columns (header_row); the first row after it with cells is row 3") == true,
            "\(failures)")
        #expect(result.objectsLoaded == 1)
        #expect(try connection.query("SELECT string_agg(payment_ref, ',') FROM reporting.payments").scalar == "P-1")
        // Nothing of the workbooks is left on disk, read to the end or failed.
        let left = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter {
            ["sluice-workbook-", "sluice-sheet-", "sluice-strings-"].contains(where: $0.hasPrefix)
        }
        #expect(left == [])
    }

    /// A long sheet streams through: every row loads (its memory is measured in bench/xlsx).
    @Test func aSheetOfOverAHundredThousandRowsLoads() async throws {
        let (result, connection) = try await Self.load([
            "year.xlsx": Self.payments([["repeat": 100_500, "row": ["P-", "INV-1", ["date": "2026-11-21"], 12.5, "Card", ["bool": true]]]])
        ])
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(
            try connection.query("SELECT count(*), sum(amount)::text, max(source_row) FROM reporting.payments").rows == [
                ["100500", "1256250.00", "100502"]
            ])
    }

    /// Serial numbers as Excel counts them: 1900-based with its fictitious 29 February, or 1904-based;
    /// the fraction is the time of day.
    @Test func serialNumbersAreExcelsDates() {
        #expect(Workbook.dateText(serial: 46347, date1904: false, time: false, date: true) == "2026-11-21")
        #expect(Workbook.dateText(serial: 46348.4375, date1904: false, time: true, date: true) == "2026-11-22 10:30:00")
        #expect(Workbook.dateText(serial: 61, date1904: false, time: false, date: true) == "1900-03-01")
        #expect(Workbook.dateText(serial: 59, date1904: false, time: false, date: true) == "1900-02-28")
        #expect(Workbook.dateText(serial: 0, date1904: true, time: false, date: true) == "1904-01-01")
        #expect(Workbook.dateText(serial: 0.5, date1904: false, time: true, date: false) == "12:00:00")
        #expect(Workbook.dateKind(id: 14, code: nil)! == (true, false))
        #expect(Workbook.dateKind(id: 164, code: "dd.mm.yyyy hh:mm")! == (true, true))
        #expect(Workbook.dateKind(id: 165, code: "#,##0.00 \"days\"") == nil)
        #expect(Workbook.dateKind(id: 166, code: "[Red]0.00;[Blue]-0.00") == nil)
        #expect(Workbook.dateKind(id: 167, code: "[h]:mm")! == (false, true))
        #expect(Workbook.column(of: "AB12") == 27 && Workbook.letters(of: 27) == "AB")
    }
}
