import Foundation
import LiveWarehouse
import PostgresClient
import SluiceCore
import TestSupport
import Testing
import WarehouseDDL

/// Changes whose steps must come in an order PostgreSQL accepts (issue 19, items 1-5): each on an
/// empty database and on one holding rows, then planned again to nothing.
extension MigrationTests {
    /// The base schema applied, with rows in it or not.
    func database(_ tables: [Table], rows: String?) throws -> Connection {
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        try migrator(warehouse(tables: tables, views: [])).apply(on: connection)
        if let rows { try connection.execute(rows) }
        return connection
    }

    static let withAndWithoutRows = [true, false]

    // 1. A key other tables reference.

    @Test(arguments: withAndWithoutRows)
    func changingAKeyThatForeignKeysDependOnMovesThemAroundIt(rows: Bool) throws {
        let connection = try database(
            [customers, orders],
            rows: rows
                ? """
                INSERT INTO analytics.customers (customer_id, country) VALUES (1, 'DE'), (2, 'FR');
                INSERT INTO analytics.orders (customer_id, amount) VALUES (1, 10), (2, 20);
                """ : nil)
        // A foreign key the spec does not know about depends on the same key.
        try connection.execute(
            """
            CREATE TABLE analytics.notes (customer_id bigint REFERENCES analytics.customers (customer_id), note text);
            \(rows ? "INSERT INTO analytics.notes VALUES (1, 'called');" : "")
            """)
        var tenanted = customers
        tenanted.columns.append(Column(name: "tenant", type: type("bigint"), notNull: true, defaultExpression: "0"))
        tenanted.primaryKey = ["tenant", "customer_id"]
        tenanted.uniques = [["customer_id"]]
        let target = warehouse(tables: [tenanted, orders], views: [])
        let plan = try migrator(target).apply(on: connection, allowDestructive: true)
        let summaries = plan.steps.map(\.summary)
        let dropOrders = try #require(
            summaries.firstIndex { $0.hasPrefix("drop constraint analytics.orders.orders_customer_id_fkey while analytics.customers.customers_pkey") }
        )
        let dropNotes = try #require(summaries.firstIndex { $0.hasPrefix("drop constraint analytics.notes.notes_customer_id_fkey while") })
        let dropKey = try #require(summaries.firstIndex { $0.hasPrefix("drop constraint analytics.customers.customers_pkey") })
        let addUnique = try #require(summaries.firstIndex { $0.hasPrefix("add constraint analytics.customers.") && $0.contains("customer_id") })
        let readdOrders = try #require(summaries.firstIndex { $0.hasPrefix("re-add constraint analytics.orders.orders_customer_id_fkey:") })
        let readdNotes = try #require(
            summaries.firstIndex {
                $0
                    == "re-add constraint analytics.notes.notes_customer_id_fkey as it was (not in the spec): FOREIGN KEY (customer_id) REFERENCES analytics.customers(customer_id)"
            })
        #expect(
            dropOrders < dropKey && dropNotes < dropKey && dropKey < addUnique && addUnique < readdOrders && addUnique < readdNotes, "\(summaries)")
        // Both foreign keys hold again.
        #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO analytics.orders (customer_id, amount) VALUES (99, 1)") }
        #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO analytics.notes VALUES (99, 'x')") }
        #expect(try connection.query("SELECT count(*) FROM analytics.orders").scalar == (rows ? "2" : "0"))
        try expectUpToDate(target, connection)
    }

    // 2. Dropping tables linked by foreign keys: a chain of three and a two-table cycle.

    var linked: [Table] {
        let id = Column(name: "id", type: type("bigint"), notNull: true)
        func table(_ name: String, referencing target: String?) -> Table {
            Table(
                schema: "analytics", name: name, columns: [id] + (target.map { [Column(name: "\($0)_id", type: type("bigint"))] } ?? []),
                primaryKey: ["id"],
                foreignKeys: target.map { [ForeignKey(columns: ["\($0)_id"], referencedTable: "analytics.\($0)", referencedColumns: ["id"])] } ?? [])
        }
        return [
            table("chain_a", referencing: nil), table("chain_b", referencing: "chain_a"), table("chain_c", referencing: "chain_b"),
            table("cycle_x", referencing: "cycle_y"), table("cycle_y", referencing: "cycle_x"),
        ]
    }

    @Test(arguments: withAndWithoutRows)
    func droppingTablesLinkedByForeignKeysWorksInOneOrder(rows: Bool) throws {
        let connection = try database(
            [customers, orders] + linked,
            rows: rows
                ? """
                INSERT INTO analytics.chain_a VALUES (1); INSERT INTO analytics.chain_b VALUES (1, 1); INSERT INTO analytics.chain_c VALUES (1, 1);
                INSERT INTO analytics.cycle_x VALUES (1, NULL); INSERT INTO analytics.cycle_y VALUES (1, 1); UPDATE analytics.cycle_x SET cycle_y_id = 1;
                """ : nil)
        let target = warehouse(tables: [customers, orders], views: [])
        let first = try migrator(target).plan(on: connection).steps.map(\.summary)
        // The same plan every time: nothing depends on a Set's order.
        for _ in 0..<5 { #expect(try migrator(target).plan(on: connection).steps.map(\.summary) == first) }
        #expect(
            first == [
                "drop constraint analytics.chain_b.chain_b_chain_a_id_fkey (both its table and analytics.chain_a are dropped)",
                "drop constraint analytics.chain_c.chain_c_chain_b_id_fkey (both its table and analytics.chain_b are dropped)",
                "drop constraint analytics.cycle_x.cycle_x_cycle_y_id_fkey (both its table and analytics.cycle_y are dropped)",
                "drop constraint analytics.cycle_y.cycle_y_cycle_x_id_fkey (both its table and analytics.cycle_x are dropped)",
                "drop table analytics.chain_a", "drop table analytics.chain_b", "drop table analytics.chain_c",
                "drop table analytics.cycle_x", "drop table analytics.cycle_y",
            ], "\(first)")
        try migrator(target).apply(on: connection, allowDestructive: true)
        #expect(try connection.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'analytics'").scalar == "2")
        try expectUpToDate(target, connection)
    }

    @Test func aTableStillReferencedFromOutsideTheSpecIsBlockedNotHalfDropped() throws {
        let connection = try database([customers, orders] + linked.prefix(1), rows: nil)
        try connection.execute("CREATE TABLE analytics.audit (a_id bigint REFERENCES analytics.chain_a (id))")
        let refusal = #expect(throws: Migrator.Refusal.self) {
            try migrator(warehouse(tables: [customers, orders], views: [])).apply(on: connection, allowDestructive: true)
        }
        #expect(
            refusal?.description.contains("analytics.audit.audit_a_id_fkey references it and is not in the spec") == true,
            "\(String(describing: refusal))")
    }

    // 3. Identity on an existing column: NOT NULL first, the default dropped, numbering after the largest value.

    @Test(arguments: withAndWithoutRows)
    func anExistingColumnBecomesAnIdentityColumn(rows: Bool) throws {
        let tickets = Table(
            schema: "analytics", name: "tickets",
            columns: [
                Column(name: "ticket_id", type: type("bigint"), defaultExpression: "0"),
                Column(name: "note", type: type("text")),
            ])
        let connection = try database([customers, orders, tickets], rows: rows ? "INSERT INTO analytics.tickets VALUES (7, 'a'), (41, 'b');" : nil)
        var numbered = tickets
        numbered.columns[0] = Column(name: "ticket_id", type: type("bigint"), notNull: true, identity: true)
        let target = warehouse(tables: [customers, orders, numbered], views: [])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.map(\.summary) == ["make analytics.tickets.ticket_id an identity column"])
        try connection.execute("INSERT INTO analytics.tickets (note) VALUES ('new')")
        #expect(try connection.query("SELECT ticket_id FROM analytics.tickets WHERE note = 'new'").scalar == (rows ? "42" : "1"))
        try expectUpToDate(target, connection)
    }

    @Test func identityOnAColumnWithNullsIsBlocked() throws {
        let tickets = Table(schema: "analytics", name: "tickets", columns: [Column(name: "ticket_id", type: type("bigint"))])
        let connection = try database([customers, orders, tickets], rows: "INSERT INTO analytics.tickets VALUES (1), (NULL);")
        var numbered = tickets
        numbered.columns[0].identity = true
        numbered.columns[0].notNull = true
        let refusal = #expect(throws: Migrator.Refusal.self) {
            try migrator(warehouse(tables: [customers, orders, numbered], views: [])).apply(on: connection)
        }
        #expect(refusal?.description.contains("1 row(s) have NULL there, and an identity column is NOT NULL") == true)
    }

    // 4. serial → bigserial: the column becomes bigint and so does its sequence.

    @Test(arguments: withAndWithoutRows)
    func serialBecomesBigserial(rows: Bool) throws {
        let events = Table(
            schema: "analytics", name: "events",
            columns: [
                Column(name: "event_id", type: type("serial"), notNull: true), Column(name: "name", type: type("text")),
            ], primaryKey: ["event_id"])
        let connection = try database([customers, orders, events], rows: rows ? "INSERT INTO analytics.events (name) VALUES ('a'), ('b');" : nil)
        var wide = events
        wide.columns[0].type = type("bigserial")
        let target = warehouse(tables: [customers, orders, wide], views: [])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.map(\.summary) == ["change type of analytics.events.event_id from integer to bigserial"])
        #expect(plan.steps.allSatisfy { $0.safety == .safe })
        #expect(
            try connection.query(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'analytics.events'::regclass AND attname = 'event_id'"
            ).scalar == "bigint")
        #expect(
            try connection.query(
                "SELECT seqtypid::regtype::text FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence('analytics.events', 'event_id')::regclass"
            ).scalar == "bigint")
        try connection.execute("SELECT setval(pg_get_serial_sequence('analytics.events', 'event_id'), 3000000000)")
        try connection.execute("INSERT INTO analytics.events (name) VALUES ('past 2^31')")
        #expect(try connection.query("SELECT max(event_id) FROM analytics.events").scalar == "3000000001")
        try expectUpToDate(target, connection)
    }

    // 5. A type and its default change together.

    @Test(arguments: withAndWithoutRows)
    func typeAndDefaultChangeTogether(rows: Bool) throws {
        let codes = Table(
            schema: "analytics", name: "codes",
            columns: [
                Column(name: "code", type: type("text"), defaultExpression: "'0'"), Column(name: "label", type: type("text")),
            ])
        let connection = try database(
            [customers, orders, codes], rows: rows ? "INSERT INTO analytics.codes VALUES ('12', 'a'), (DEFAULT, 'b');" : nil)
        var numeric = codes
        numeric.columns[0] = Column(name: "code", type: type("integer"), defaultExpression: "0")
        let target = warehouse(tables: [customers, orders, numeric], views: [])
        let plan = try migrator(target).apply(on: connection, allowDestructive: true)
        #expect(
            plan.steps.map(\.summary) == ["change type of analytics.codes.code from text to integer", "set default of analytics.codes.code to 0"])
        #expect(plan.steps[0].statements.first?.contains("DROP DEFAULT") == true, "the old default goes before the type changes")
        try connection.execute("INSERT INTO analytics.codes (label) VALUES ('c')")
        #expect(try connection.query("SELECT code FROM analytics.codes ORDER BY label").rows.map { $0[0] } == (rows ? ["12", "0", "0"] : ["0"]))
        try expectUpToDate(target, connection)
    }

    @Test func aDefaultThatStaysTheSameSurvivesATypeChange() throws {
        let counts = Table(schema: "analytics", name: "counts", columns: [Column(name: "n", type: type("integer"), defaultExpression: "0")])
        let connection = try database([customers, orders, counts], rows: nil)
        var wide = counts
        wide.columns[0].type = type("bigint")
        let target = warehouse(tables: [customers, orders, wide], views: [])
        try migrator(target).apply(on: connection)
        #expect(try connection.query("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'analytics.counts'::regclass").scalar == "0")
        try expectUpToDate(target, connection)
    }
}

/// Issue 19, item 8: a schema removed from the spec is dropped with what Sluice made in it, or reported.
extension MigrationTests {
    func withStaging(_ tables: [Table]) -> Warehouse {
        var staged = warehouse(tables: tables, views: [])
        staged.schemas = ["analytics", "staging"]
        return staged
    }

    var landing: Table {
        Table(schema: "staging", name: "landing", columns: [Column(name: "id", type: type("bigint"), notNull: true)], primaryKey: ["id"])
    }

    @Test func aRemovedSchemaIsDroppedWithItsTablesAndTheirRowCounts() throws {
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        try migrator(withStaging([customers, orders, landing])).apply(on: connection)
        try connection.execute("INSERT INTO staging.landing SELECT generate_series(1, 1234)")
        let target = warehouse(tables: [customers, orders], views: [])
        let refusal = #expect(throws: Migrator.Refusal.self) { try migrator(target).apply(on: connection) }
        #expect(refusal?.description.contains("its 1,234 row(s) would be lost") == true, "\(String(describing: refusal))")
        let plan = try migrator(target).apply(on: connection, allowDestructive: true)
        #expect(plan.steps.map(\.summary) == ["drop table staging.landing", "drop schema staging (no longer in the spec)"])
        #expect(try connection.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'staging'").scalar == "0")
        try expectUpToDate(target, connection)
    }

    @Test func aRemovedSchemaHoldingOthersObjectsIsReportedAndKept() throws {
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        try migrator(withStaging([customers, orders, landing])).apply(on: connection)
        try connection.execute("CREATE TABLE staging.scratch (note text)")
        let target = warehouse(tables: [customers, orders], views: [])
        let plan = try migrator(target).apply(on: connection, allowDestructive: true)
        #expect(plan.steps.map(\.summary) == ["drop table staging.landing"])
        #expect(
            plan.drift.contains { $0.kind == "schema" && $0.name == "staging" && $0.detail.contains("holds scratch that Sluice did not create") },
            "\(plan.drift)")
        #expect(plan.drift.contains { $0.kind == "table" && $0.name == "staging.scratch" }, "what is left in it is drift, not silence")
        #expect(try connection.query("SELECT count(*) FROM staging.scratch").scalar == "0")
        // And on every later plan: the schema stays Sluice's to report until it is gone.
        let later = try migrator(target).plan(on: connection)
        #expect(later.steps.isEmpty)
        #expect(later.drift.contains { $0.kind == "schema" && $0.name == "staging" })
        try connection.execute("DROP TABLE staging.scratch")
        let emptied = try migrator(target).apply(on: connection)
        #expect(emptied.steps.map(\.summary) == ["drop schema staging (no longer in the spec)"])
        try expectUpToDate(target, connection)
    }
}

/// Issue 19, item 9: destructive means "can lose or reject data", decided with the data in hand.
extension MigrationTests {
    @Test func narrowingIsSafeWhenEveryValueFitsAndCountedWhenNot() throws {
        let connection = try seeded()  // emails: 'a@example.com' and NULL
        var narrow = customers
        narrow.columns[1].type = type("varchar(20)")
        let fits = warehouse(tables: [narrow, orders])
        let plan = try migrator(fits).apply(on: connection)  // no --allow-destructive needed
        #expect(plan.steps.map(\.summary).contains("change type of analytics.customers.email from character varying(100) to varchar(20)"))
        #expect(plan.steps.allSatisfy { $0.safety == .safe })
        try expectUpToDate(fits, connection)

        try connection.execute("UPDATE analytics.customers SET email = 'longer@example.com' WHERE customer_id = 2")
        narrow.columns[1].type = type("varchar(10)")
        let cut = warehouse(tables: [narrow, orders])
        let refusal = #expect(throws: Migrator.Refusal.self) { try migrator(cut).apply(on: connection) }
        #expect(refusal?.description.contains("2 row(s) hold a value the new type would change or cut") == true, "\(String(describing: refusal))")
        #expect(try connection.query("SELECT max(length(email)) FROM analytics.customers").scalar == "18", "refused: nothing changed")
    }

    @Test func aValueTheNewTypeCannotTakeBlocksTheChange() throws {
        let codes = Table(schema: "analytics", name: "codes", columns: [Column(name: "code", type: type("text"))])
        let connection = try database([customers, orders, codes], rows: "INSERT INTO analytics.codes VALUES ('12'), ('x7');")
        var numeric = codes
        numeric.columns[0].type = type("integer")
        let refusal = #expect(throws: Migrator.Refusal.self) {
            try migrator(warehouse(tables: [customers, orders, numeric], views: [])).apply(on: connection, allowDestructive: true)
        }
        #expect(
            refusal?.description.contains("some rows hold a value integer cannot take (invalid input syntax for type integer: \"x7\")") == true,
            "\(String(describing: refusal))")
        // Fixed in the data, the same change is safe: every value converts unchanged.
        try connection.execute("UPDATE analytics.codes SET code = '7' WHERE code = 'x7'")
        let plan = try migrator(warehouse(tables: [customers, orders, numeric], views: [])).apply(on: connection)
        #expect(plan.steps.allSatisfy { $0.safety == .safe })
        #expect(try connection.query("SELECT sum(code) FROM analytics.codes").scalar == "19")
    }

    @Test(arguments: withAndWithoutRows)
    func losslessConversionsAreSafe(rows: Bool) throws {
        let mixed = Table(
            schema: "analytics", name: "mixed",
            columns: [
                Column(name: "n", type: type("integer")), Column(name: "u", type: type("uuid")), Column(name: "d", type: type("date")),
                Column(name: "c", type: type("char(2)")), Column(name: "big", type: type("bigint")),
            ])
        let connection = try database(
            [customers, orders, mixed],
            rows: rows
                ? "INSERT INTO analytics.mixed VALUES (-2147483648, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-03-29', 'DE', 42);" : nil)
        var converted = mixed
        converted.columns = [
            Column(name: "n", type: type("text")), Column(name: "u", type: type("text")), Column(name: "d", type: type("timestamptz")),
            Column(name: "c", type: type("char(3)")), Column(name: "big", type: type("integer")),
        ]
        let target = warehouse(tables: [customers, orders, converted], views: [])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.count == 5)
        #expect(plan.steps.allSatisfy { $0.safety == .safe }, "bigint to integer is safe too while every value fits")
        if rows {
            #expect(
                try connection.query("SELECT n, u, c, big FROM analytics.mixed").rows == [
                    ["-2147483648", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "DE ", "42"]
                ])
        }
        try expectUpToDate(target, connection)
    }
}

/// Issue 19, item 6: views are ordered by what they read, not by where their names appear.
extension MigrationTests {
    @Test func aViewNamedOnlyAsAnotherViewsColumnAliasDoesNotReorderThem() throws {
        let summary = View(schema: "analytics", name: "a_summary", sql: "SELECT * FROM analytics.b_detail")
        let detail = View(schema: "analytics", name: "b_detail", sql: "SELECT count(*) AS a_summary FROM analytics.orders")
        let target = warehouse(views: [summary, detail])
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        let plan = try migrator(target).apply(on: connection)
        let creates = plan.steps.map(\.summary).filter { $0.hasPrefix("create view") }
        #expect(creates == ["create view analytics.b_detail", "create view analytics.a_summary"])
        try expectUpToDate(target, connection)
        // schema.sql's statements, in the same order.
        let text = DesiredSchema(warehouse: target, pipelines: []).creationSections.flatMap(\.statements).joined(separator: "\n")
        let first = try #require(text.range(of: "CREATE VIEW analytics.b_detail")),
            second = try #require(text.range(of: "CREATE VIEW analytics.a_summary"))
        #expect(first.lowerBound < second.lowerBound)
    }
}

/// Issue 19, items 7 and 9: views that expand `*` see new columns; a view becomes a table in one migration.
extension MigrationTests {
    @Test(arguments: withAndWithoutRows)
    func aSelectStarViewIsRebuiltWhenItsTableGainsAColumn(rows: Bool) throws {
        let everything = View(schema: "analytics", name: "all_customers", sql: "SELECT c.* FROM analytics.customers c")
        let named = View(schema: "analytics", name: "customer_ids", sql: "SELECT customer_id, count(*) AS n FROM analytics.customers GROUP BY 1")
        let base = warehouse(views: [everything, named])
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        try migrator(base).apply(on: connection)
        if rows { try connection.execute("INSERT INTO analytics.customers (customer_id, country) VALUES (1, 'DE')") }
        var grown = customers
        grown.columns.append(Column(name: "segment", type: type("text"), defaultExpression: "'retail'"))
        let target = warehouse(tables: [grown, orders], views: [everything, named])
        let plan = try migrator(target).apply(on: connection)
        let summaries = plan.steps.map(\.summary)
        #expect(
            summaries.contains("drop view analytics.all_customers to rebuild it: it selects * from analytics.customers, which gains columns"),
            "\(summaries)")
        #expect(!summaries.contains { $0.contains("customer_ids") }, "a view naming its columns is left alone")
        #expect(
            try connection.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'all_customers' AND column_name = 'segment'")
                .scalar == "1")
        if rows { #expect(try connection.query("SELECT segment FROM analytics.all_customers").scalar == "retail") }
        try expectUpToDate(target, connection)
    }

    @Test func aManagedViewBecomesATableInOneMigration() throws {
        let connection = try seeded()
        let table = Table(
            schema: "analytics", name: "customer_totals",
            columns: [
                Column(name: "customer_id", type: type("bigint"), notNull: true), Column(name: "total", type: type("numeric(14,2)")),
            ], primaryKey: ["customer_id"])
        let target = warehouse(tables: [customers, orders, table], views: [daily])
        let plan = try migrator(target).apply(on: connection)
        #expect(
            plan.steps.map(\.summary).prefix(2) == [
                "drop view analytics.customer_totals (no longer in the spec)", "create table analytics.customer_totals",
            ],
            "\(plan.steps.map(\.summary))")
        #expect(try connection.query("SELECT relkind::text FROM pg_class WHERE oid = 'analytics.customer_totals'::regclass").scalar == "r")
        try expectUpToDate(target, connection)
    }
}
