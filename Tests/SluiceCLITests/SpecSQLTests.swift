import Foundation
import PostgresClient
import TestSupport
import Testing

/// The spec's SQL — view bodies, `sql` columns, `post_load` calls — checked by PostgreSQL before
/// anything changes, each problem at its line and column in the spec.
@Suite(.serialized) struct SpecSQLTests {
    /// The sme-reporting spec, changed by `edits`, in a fresh folder; with the line and column of each `marks` text.
    func spec(_ edits: [(String, String)], in folder: URL) throws -> (path: String, text: String) {
        var text = try String(contentsOf: packageRoot.appendingPathComponent("specs/sme-reporting.yaml"), encoding: .utf8)
        for (old, new) in edits {
            #expect(text.contains(old), "\(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("sme-reporting.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, text)
    }

    /// `line:column` of the first occurrence of `needle` (1-based, in characters).
    func position(of needle: String, in text: String) -> String {
        let lines = text.components(separatedBy: "\n")
        for (index, line) in lines.enumerated() {
            if let range = line.range(of: needle) { return "\(index + 1):\(line.distance(from: line.startIndex, to: range.lowerBound) + 1)" }
        }
        return "?"
    }

    /// A fresh folder, and an environment giving it its own throwaway cluster (the scratch server).
    static func workspace(_ label: String) throws -> (URL, [String: String]) {
        let folder = try temporaryFolder(label)
        return (folder, ["SLUICE_DB_DIR": folder.appendingPathComponent("cluster").path])
    }

    static func clean(_ folder: URL, _ environment: [String: String]) {
        _ = try? CLI.run(["db", "stop"], environment: environment)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func wrongSQLIsFoundByPlanAtItsPlaceAndApplyChangesNothing() throws {
        let (folder, environment) = try Self.workspace("spec-sql")
        defer { Self.clean(folder, environment) }
        let (path, text) = try spec(
            [
                ("min(due_on) AS oldest_due", "min(due_date) AS oldest_due"),
                ("round(net_amount / NULLIF(quantity, 0), 2)", "round(net_amount / NULLIF(quantty, 0), 2)"),
                ("sold_week: { sql: \"date_trunc('week', sold_on)::date\" }", "sold_week: { sql: \"sold_on > 3\" }"),
            ], in: folder)
        let database = try TestServer.freshDatabase("specsql")

        let planned = try CLI.run(
            ["plan", path, "--database", database, "--output", folder.appendingPathComponent("generated").path, "--quiet", "--detailed-exitcode"],
            environment: environment)
        #expect(planned.status == 1, "\(planned.stdout)\(planned.stderr)")
        let view =
            "\(path):\(position(of: "due_date", in: text)): error: materialized view reporting.open_receivables: column \"due_date\" does not exist [SL603]"
        #expect(planned.stderr.contains(view), "\(planned.stderr)")
        let column =
            "\(path):\(position(of: "quantty", in: text)): error: column unit_price of reporting.sales (pipeline daily-sales): column \"quantty\" does not exist"
        #expect(planned.stderr.contains(column), "\(planned.stderr)")
        // Typed by PostgreSQL: a date compared with an integer, at the operator.
        #expect(
            planned.stderr.contains(
                "\(path):\(position(of: "> 3", in: text)): error: column sold_week of reporting.sales (pipeline daily-sales): operator does not exist: date > integer"
            ),
            "\(planned.stderr)")
        // One finding per mistake: the merge that holds them is not reported again.
        #expect(!planned.stderr.contains("the merge into"))
        // Without a database, the scratch copy alone: the same findings, and a failed plan.
        let scratchOnly = try CLI.run(
            ["plan", path, "--validate-sql", "--output", folder.appendingPathComponent("generated").path, "--quiet"], environment: environment)
        #expect(scratchOnly.status == 1)
        #expect(scratchOnly.stderr.contains(view) && scratchOnly.stderr.contains(column), "\(scratchOnly.stderr)")

        // Scripts read the same findings, with where they are.
        let json = try CLI.run(
            ["plan", path, "--database", database, "--output", folder.appendingPathComponent("generated").path, "--format", "json"],
            environment: environment)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let findings = (report?["specs"] as? [[String: Any]])?.first?["sql"] as? [[String: Any]] ?? []
        #expect(findings.map { $0["code"] as? String } == ["SL603", "SL603", "SL603"], "\(json.stdout.suffix(2000))")
        #expect(findings.contains { $0["location"] as? String == "\(path):\(position(of: "due_date", in: text))" })

        let applied = try CLI.run(["apply", path, "--database", database, "--no-run"], environment: environment)
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("[SL603]"))
        #expect(applied.stderr.contains("error: the spec's SQL is refused by PostgreSQL (3 problem(s)); nothing was changed"), "\(applied.stderr)")
        let connection = try Connection(database)
        #expect(try connection.query("SELECT count(*) FROM pg_namespace WHERE nspname IN ('reporting', 'sluice')").scalar == "0")
    }

    @Test func aPostLoadCallNeedsAProcedureOfTheDatabase() throws {
        let (folder, environment) = try Self.workspace("spec-sql-call")
        defer { Self.clean(folder, environment) }
        let (path, text) = try spec(
            [("      - refresh: open_receivables\n", "      - refresh: open_receivables\n      - call: close_month\n")], in: folder)
        let database = try TestServer.freshDatabase("specsqlcall")
        let arguments = ["plan", path, "--database", database, "--output", folder.appendingPathComponent("generated").path, "--quiet"]

        let missing = try CLI.run(arguments, environment: environment)
        #expect(
            missing.stderr.contains(
                "\(path):\(position(of: "close_month", in: text)): error: post_load of pipeline monthly-invoices calls reporting.close_month(), which is not a procedure of the database (none taking no arguments) [SL603]"
            ), "\(missing.stderr)")

        let connection = try Connection(database)
        try connection.execute("CREATE SCHEMA reporting; CREATE FUNCTION reporting.close_month() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$")
        let function = try CLI.run(arguments, environment: environment)
        #expect(function.stderr.contains("which is a function, not a procedure: CALL runs procedures"), "\(function.stderr)")

        try connection.execute("DROP FUNCTION reporting.close_month(); CREATE PROCEDURE reporting.close_month() LANGUAGE sql AS $$ SELECT 1 $$")
        let present = try CLI.run(arguments, environment: environment)
        #expect(!present.stderr.contains("SL603"), "\(present.stderr)")
    }
}

/// Routines declared in the spec: created by the migration with EXECUTE for the writers that call
/// them only, checked by PostgreSQL in the scratch database, replaced and dropped as the spec changes.
@Suite(.serialized) struct RoutineTests {
    let sql = SpecSQLTests()

    @Test func aRoutineIsCreatedCalledReplacedAndDropped() throws {
        let (folder, environment) = try SpecSQLTests.workspace("routines")
        defer { SpecSQLTests.clean(folder, environment) }
        let (path, _) = try sql.spec([], in: folder)
        let database = try TestServer.freshDatabase("routines")
        let applied = try CLI.run(["apply", path, "--database", database, "--no-run"], environment: environment)
        #expect(applied.status == 0, "\(applied.stderr)")
        let connection = try Connection(database)
        #expect(
            try connection.query("SELECT prokind, prosecdef FROM pg_proc WHERE oid = to_regprocedure('reporting.mark_paid_invoices()')").rows == [
                ["p", "f"]
            ])
        // Only the writer that calls it may run it.
        #expect(try connection.query("SELECT has_function_privilege('loader_writer', 'reporting.mark_paid_invoices()', 'EXECUTE')").scalar == "t")
        #expect(try connection.query("SELECT has_function_privilege('bi_reader', 'reporting.mark_paid_invoices()', 'EXECUTE')").scalar == "f")
        // It does what it says, as the writer: a reconciled payment marks its invoice paid.
        try connection.execute(
            """
            INSERT INTO reporting.invoices (invoice_no, customer, issued_on, total) VALUES ('R-9', 'Ada', '2026-11-01', 10), ('R-10', 'Bob', '2026-11-01', 5);
            INSERT INTO reporting.payments (payment_ref, invoice_no, paid_on, amount, reconciled) VALUES ('P-9', 'R-9', '2026-11-20', 10, true);
            SET ROLE loader_writer; CALL reporting.mark_paid_invoices(); RESET ROLE;
            """)
        #expect(try connection.query("SELECT invoice_no, paid FROM reporting.invoices ORDER BY 1").rows == [["R-10", "f"], ["R-9", "t"]])

        // A changed body replaces it; the plan says so.
        let (changed, _) = try sql.spec([("SET paid = true", "SET paid = true, total = total")], in: folder)
        let planned = try CLI.run(
            ["plan", changed, "--database", database, "--output", folder.appendingPathComponent("generated").path], environment: environment)
        #expect(planned.stdout.contains("replace function reporting.mark_paid_invoices()"), "\(planned.stdout)")
        #expect(try CLI.run(["apply", changed, "--database", database, "--no-run"], environment: environment).status == 0)
        #expect(try connection.query("SELECT prosrc LIKE '%total = total%' FROM pg_proc WHERE proname = 'mark_paid_invoices'").scalar == "t")

        // Gone from the spec (and from the post-load step): dropped.
        let (removed, _) = try sql.spec(
            [
                ("      - call: mark_paid_invoices\n", ""),
                (
                    """
                      routines:
                        - name: mark_paid_invoices
                          body: |
                            BEGIN
                              UPDATE reporting.invoices i SET paid = true
                              WHERE NOT i.paid
                                AND EXISTS (SELECT FROM reporting.payments p WHERE p.invoice_no = i.invoice_no AND p.reconciled);
                            END

                    """, ""
                ),
            ], in: folder)
        let dropped = try CLI.run(["apply", removed, "--database", database, "--no-run"], environment: environment)
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try connection.query("SELECT count(*) FROM pg_proc WHERE proname = 'mark_paid_invoices'").scalar == "0")
    }

    @Test func aWrongBodyIsFoundAtItsLine() throws {
        let (folder, environment) = try SpecSQLTests.workspace("routine-body")
        defer { SpecSQLTests.clean(folder, environment) }
        let (path, text) = try sql.spec([("UPDATE reporting.invoices i SET", "UPDATE reporting.invoices i SETT")], in: folder)
        let database = try TestServer.freshDatabase("routinebody")
        let planned = try CLI.run(
            ["plan", path, "--database", database, "--output", folder.appendingPathComponent("generated").path, "--quiet"],
            environment: environment)
        #expect(planned.status == 1)
        let line = sql.position(of: "SETT", in: text).split(separator: ":")[0]
        #expect(planned.stderr.contains("\(path):\(line):"), "\(planned.stderr)")
        #expect(planned.stderr.contains("procedure reporting.mark_paid_invoices: syntax error"), "\(planned.stderr)")
    }

    @Test func aPostLoadStepCallsAProcedureOfTheSpecWithoutArguments() throws {
        let folder = try temporaryFolder("routine-call")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (function, _) = try sql.spec(
            [("    - name: mark_paid_invoices\n", "    - name: mark_paid_invoices\n      kind: function\n      returns: void\n")], in: folder)
        let refused = try CLI.run(["check", function])
        #expect(refused.status == 1)
        #expect((refused.stdout + refused.stderr).contains("'reporting.mark_paid_invoices' is a function: CALL runs procedures"), "\(refused.stdout)")
        let (arguments, _) = try sql.spec(
            [("    - name: mark_paid_invoices\n", "    - name: mark_paid_invoices\n      arguments: [{ name: since, type: date }]\n")], in: folder)
        let refusedToo = try CLI.run(["check", arguments])
        #expect(refusedToo.status == 1)
        #expect((refusedToo.stdout + refusedToo.stderr).contains("procedure 'reporting.mark_paid_invoices' takes arguments"), "\(refusedToo.stdout)")
    }
}
