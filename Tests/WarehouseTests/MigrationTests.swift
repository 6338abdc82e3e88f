import Foundation
import LiveWarehouse
import PostgresClient
import SluiceCore
import TestSupport
import Testing
import WarehouseDDL

/// Migrations on a real server: each test starts from its own database and its own role names.
@Suite("live migration")
struct MigrationTests {
    let writer = TestServer.uniqueName("writer")
    let reader = TestServer.uniqueName("reader")

    func type(_ text: String) -> PostgresType { PostgresType(parsing: text)! }

    var customers: Table {
        Table(
            schema: "analytics", name: "customers",
            columns: [
                Column(name: "customer_id", type: type("bigint"), notNull: true),
                Column(name: "email", type: type("varchar(100)")),
                Column(name: "country", type: type("char(2)")),
                Column(name: "created_at", type: type("timestamptz"), notNull: true, defaultExpression: "now()"),
            ], primaryKey: ["customer_id"], checks: [CheckConstraint(name: "country_upper", expression: "country = upper(country)")])
    }

    var orders: Table {
        Table(
            schema: "analytics", name: "orders",
            columns: [
                Column(name: "order_id", type: type("bigint"), identity: true),
                Column(name: "customer_id", type: type("bigint"), notNull: true),
                Column(name: "amount", type: type("numeric(12,2)"), notNull: true),
                Column(name: "status", type: type("text"), notNull: true, defaultExpression: "'new'"),
                Column(name: "ordered_at", type: type("timestamptz"), notNull: true, defaultExpression: "now()"),
            ], primaryKey: ["order_id"],
            foreignKeys: [ForeignKey(columns: ["customer_id"], referencedTable: "analytics.customers", referencedColumns: ["customer_id"])],
            checks: [CheckConstraint(name: "amount_positive", expression: "amount BETWEEN 0 AND 1000000")],
            indexes: [Index(name: "orders_customer_id_idx", columns: ["customer_id"])])
    }

    var totals: View {
        View(schema: "analytics", name: "customer_totals", sql: "SELECT customer_id, sum(amount) AS total FROM analytics.orders GROUP BY customer_id")
    }

    var daily: View {
        View(
            schema: "analytics", name: "daily_orders", sql: "SELECT ordered_at::date AS day, count(*) AS orders FROM analytics.orders GROUP BY 1",
            materialized: true, uniqueKey: ["day"])
    }

    func warehouse(tables: [Table]? = nil, views: [View]? = nil, roles: [DatabaseRole]? = nil) -> Warehouse {
        Warehouse(
            name: "dw", engine: .rds(instanceClass: "db.t3.micro"), subnets: [], securityGroups: [], database: "analytics",
            credentialsSecret: "dw", clients: [], schemas: ["analytics"], tables: tables ?? [customers, orders], views: views ?? [totals, daily],
            roles: roles ?? [
                DatabaseRole(
                    name: writer, grants: [Grant(privileges: ["SELECT", "INSERT", "UPDATE"], on: ["analytics.customers", "analytics.orders"])]),
                DatabaseRole(name: reader, grants: [Grant(privileges: ["SELECT"], on: ["schema:analytics"])]),
            ])
    }

    func migrator(_ warehouse: Warehouse) -> Migrator { Migrator(DesiredSchema(warehouse: warehouse, pipelines: [])) }

    /// A database at the base schema, with a customer and two orders in it.
    func seeded() throws -> Connection {
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        try migrator(warehouse()).apply(on: connection)
        try connection.execute(
            """
            INSERT INTO analytics.customers (customer_id, email, country) VALUES (1, 'a@example.com', 'DE'), (2, NULL, 'FR');
            INSERT INTO analytics.orders (customer_id, amount, ordered_at) VALUES (1, 10.50, '2026-01-01'), (1, 4.50, '2026-01-02');
            REFRESH MATERIALIZED VIEW analytics.daily_orders;
            """)
        return connection
    }

    func expectUpToDate(_ warehouse: Warehouse, _ connection: Connection, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let plan = try migrator(warehouse).plan(on: connection)
        #expect(plan.steps.map(\.summary) == [], "a second plan must be empty", sourceLocation: sourceLocation)
    }

    @Test func firstApplyCreatesEverythingAndASecondIsANoOp() throws {
        let connection = try Connection(try TestServer.freshDatabase("migrate"))
        let first = try migrator(warehouse()).apply(on: connection)
        #expect(first.steps.contains { $0.summary == "create table analytics.orders" })
        #expect(first.steps.allSatisfy { $0.safety == .safe })
        let second = try migrator(warehouse()).apply(on: connection)
        #expect(second.isEmpty)
        #expect(try connection.query("SELECT count(*) FROM sluice.schema_version").scalar == "1")
        let managed = try connection.query("SELECT count(*) FROM sluice.managed_objects").scalar
        #expect(managed == String(DesiredSchema(warehouse: warehouse(), pipelines: []).managedObjects.count))
    }

    @Test func addColumnKeepsTheRows() throws {
        let connection = try seeded()
        var changed = customers
        changed.columns.append(Column(name: "segment", type: type("text")))
        changed.columns.append(Column(name: "active", type: type("boolean"), notNull: true, defaultExpression: "true"))
        let target = warehouse(tables: [changed, orders])
        let plan = try migrator(target).apply(on: connection)
        #expect(
            plan.steps.map(\.summary).prefix(2) == ["add column analytics.customers.segment text", "add column analytics.customers.active boolean"])
        #expect(
            try connection.query("SELECT customer_id, active, segment FROM analytics.customers ORDER BY 1").rows == [
                ["1", "t", nil], ["2", "t", nil],
            ])
        // The reader's SELECT covers the new column: it is a table privilege.
        try expectUpToDate(target, connection)
    }

    @Test func addingANotNullColumnWithoutDefaultToATableWithRowsIsBlocked() throws {
        let connection = try seeded()
        var changed = customers
        changed.columns.append(Column(name: "tier", type: type("text"), notNull: true))
        let refusal = #expect(throws: Migrator.Refusal.self) {
            try migrator(warehouse(tables: [changed, orders])).apply(on: connection, allowDestructive: true)
        }
        #expect(refusal?.description.contains("without a default") == true)
    }

    @Test func addIndexWithAPredicateThenNothingToDo() throws {
        let connection = try seeded()
        var changed = orders
        changed.indexes.append(Index(name: "orders_open_idx", columns: ["ordered_at"], whereClause: "status <> 'cancelled'"))
        changed.indexes.append(Index(name: "orders_ordered_at_brin", columns: ["ordered_at"], method: "brin"))
        let target = warehouse(tables: [customers, changed])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.map(\.summary) == ["create index analytics.orders_open_idx", "create index analytics.orders_ordered_at_brin"])
        let definition = try connection.query("SELECT pg_get_indexdef('analytics.orders_open_idx'::regclass)").scalar
        #expect(definition?.contains("WHERE (status <> 'cancelled'::text)") == true)
        try expectUpToDate(target, connection)
        // And removing it from the spec drops it: Sluice made it.
        let dropped = try migrator(warehouse()).apply(on: connection)
        #expect(
            dropped.steps.map(\.summary).sorted() == [
                "drop index analytics.orders_open_idx (no longer in the spec)",
                "drop index analytics.orders_ordered_at_brin (no longer in the spec)",
            ])
    }

    @Test func changeViewRebuildsItAndRestoresItsGrants() throws {
        let connection = try seeded()
        var changed = totals
        changed.sql = "SELECT customer_id, sum(amount) AS total, count(*) AS orders FROM analytics.orders GROUP BY customer_id"
        let target = warehouse(views: [changed, daily])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.map(\.summary).contains("rebuild view analytics.customer_totals"))
        #expect(try connection.query("SELECT total, orders FROM analytics.customer_totals").rows == [["15.00", "2"]])
        #expect(try connection.query("SELECT has_table_privilege($1, 'analytics.customer_totals', 'SELECT')", [reader]).scalar == "t")
        try expectUpToDate(target, connection)
    }

    @Test func changeMaterializedViewRebuildsItWithDataAndItsKey() throws {
        let connection = try seeded()
        var changed = daily
        changed.sql = "SELECT ordered_at::date AS day, count(*) AS orders, sum(amount) AS revenue FROM analytics.orders GROUP BY 1"
        let target = warehouse(views: [totals, changed])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.map(\.summary).contains("rebuild materialized view analytics.daily_orders"))
        #expect(
            try connection.query("SELECT day, orders, revenue FROM analytics.daily_orders ORDER BY 1").rows
                == [["2026-01-01", "1", "10.50"], ["2026-01-02", "1", "4.50"]])
        #expect(try connection.query("SELECT indisunique FROM pg_index WHERE indexrelid = 'analytics.daily_orders_key'::regclass").scalar == "t")
        try connection.query("REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.daily_orders")
        try expectUpToDate(target, connection)
    }

    @Test func destructiveChangesAreRefusedUntilAllowed() throws {
        let connection = try seeded()
        var changed = customers
        changed.columns.removeAll { $0.name == "email" }
        changed.columns[changed.columns.firstIndex { $0.name == "country" }!].type = type("char(1)")
        let target = warehouse(tables: [changed, orders])
        let refusal = #expect(throws: Migrator.Refusal.self) { try migrator(target).apply(on: connection) }
        #expect(refusal?.description.contains("drop column analytics.customers.email") == true)
        #expect(refusal?.description.contains("--allow-destructive") == true)
        #expect(refusal?.plan.destructive.count == 2)
        // Nothing changed, not even the safe steps.
        #expect(try connection.query("SELECT email FROM analytics.customers WHERE customer_id = 1").scalar == "a@example.com")
        #expect(try connection.query("SELECT count(*) FROM sluice.schema_version").scalar == "1")
        // Narrowing char(2) to char(1) really does lose data; here the check makes it fail loudly instead.
        var onlyDrop = customers
        onlyDrop.columns.removeAll { $0.name == "email" }
        let onlyDropTarget = warehouse(tables: [onlyDrop, orders])
        let applied = try migrator(onlyDropTarget).apply(on: connection, allowDestructive: true)
        #expect(applied.steps.map(\.summary) == ["drop column analytics.customers.email"])
        #expect(
            try connection.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'email'").scalar
                == "0")
        try expectUpToDate(onlyDropTarget, connection)
    }

    @Test func droppingATableIsDestructive() throws {
        let connection = try seeded()
        let target = warehouse(tables: [customers], views: [])
        let plan = try migrator(target).plan(on: connection)
        let drop = try #require(plan.steps.first { $0.summary == "drop table analytics.orders" })
        #expect(drop.safety == .destructive)
        #expect(drop.reason == "its 2 row(s) would be lost")
        // Its index goes with it: no separate step, and no drift.
        #expect(!plan.steps.contains { $0.summary.contains("orders_customer_id_idx") })
        #expect(plan.drift.isEmpty)
    }

    @Test func notNullOnAColumnWithNullsIsBlockedOrBackfilledFromTheDefault() throws {
        let connection = try seeded()
        var strict = customers
        strict.columns[1].notNull = true
        let blocked = #expect(throws: Migrator.Refusal.self) {
            try migrator(warehouse(tables: [strict, orders])).apply(on: connection, allowDestructive: true)
        }
        #expect(blocked?.description.contains("1 row(s) have NULL") == true)
        strict.columns[1].defaultExpression = "'unknown@example.com'"
        let withDefault = warehouse(tables: [strict, orders])
        #expect(throws: Migrator.Refusal.self) { try migrator(withDefault).apply(on: connection) }
        try migrator(withDefault).apply(on: connection, allowDestructive: true)
        #expect(try connection.query("SELECT email FROM analytics.customers WHERE customer_id = 2").scalar == "unknown@example.com")
        try expectUpToDate(withDefault, connection)
    }

    @Test func wideningATypeRebuildsTheViewsThatReadIt() throws {
        let connection = try seeded()
        var changed = orders
        changed.columns[2].type = type("numeric(14,2)")
        var wider = customers
        wider.columns[1].type = type("varchar(200)")
        let target = warehouse(tables: [wider, changed])
        let plan = try migrator(target).apply(on: connection)
        #expect(plan.steps.allSatisfy { $0.safety == .safe })
        #expect(plan.steps.map(\.summary).contains("change type of analytics.orders.amount from numeric(12,2) to numeric(14,2)"))
        // Both views read analytics.orders, so both go before the ALTER and come back after it.
        #expect(plan.steps.map(\.summary).contains("rebuild materialized view analytics.daily_orders"))
        #expect(plan.steps.map(\.summary).contains("rebuild view analytics.customer_totals"))
        #expect(try connection.query("SELECT total FROM analytics.customer_totals").scalar == "15.00")
        try expectUpToDate(target, connection)
    }

    @Test func defaultsAndChecksChange() throws {
        let connection = try seeded()
        var changed = orders
        changed.columns[3].defaultExpression = "'pending'"
        changed.checks = [CheckConstraint(name: "amount_positive", expression: "amount >= 0")]
        let target = warehouse(tables: [customers, changed])
        let plan = try migrator(target).apply(on: connection)
        #expect(
            plan.steps.map(\.summary) == [
                "drop constraint analytics.orders.amount_positive (definition changed)",
                "set default of analytics.orders.status to 'pending'",
                "re-add constraint analytics.orders.amount_positive: CHECK (amount >= 0)",
            ])
        try expectUpToDate(target, connection)
    }

    @Test func driftIsReportedAndLeftAlone() throws {
        let connection = try seeded()
        let outsider = TestServer.uniqueName("outsider")
        try connection.execute(
            """
            CREATE TABLE analytics.adhoc_export (id int);
            CREATE INDEX orders_by_hand ON analytics.orders (amount);
            ALTER TABLE analytics.customers ADD COLUMN notes text;
            CREATE ROLE \(outsider);
            GRANT SELECT ON analytics.customers TO \(outsider);
            """)
        let plan = try migrator(warehouse()).apply(on: connection)
        #expect(plan.isEmpty)
        #expect(
            plan.drift.map { "\($0.kind) \($0.name)" } == [
                "column analytics.customers.notes",
                "index analytics.orders_by_hand",
                "privilege SELECT on analytics.customers",
                "table analytics.adhoc_export",
            ])
        #expect(
            try connection.query("SELECT to_regclass('analytics.adhoc_export') IS NOT NULL, to_regclass('analytics.orders_by_hand') IS NOT NULL").rows
                == [["t", "t"]])
    }

    @Test func objectsThatMatchTheSpecAreAdoptedThenManaged() throws {
        let connection = try seeded()
        try connection.execute("DELETE FROM sluice.managed_objects WHERE name = 'analytics.orders_customer_id_idx'")
        let adopted = try migrator(warehouse()).apply(on: connection)
        #expect(
            adopted.steps.map(\.summary) == [
                "adopt 1 object(s) that match the spec but Sluice did not create: index analytics.orders_customer_id_idx"
            ])
        try expectUpToDate(warehouse(), connection)
        var withoutIndex = orders
        withoutIndex.indexes = []
        let dropped = try migrator(warehouse(tables: [customers, withoutIndex])).plan(on: connection)
        #expect(dropped.steps.map(\.summary) == ["drop index analytics.orders_customer_id_idx (no longer in the spec)"])
    }

    @Test func privilegesFollowTheSpecBothWays() throws {
        let connection = try seeded()
        let target = warehouse(roles: [
            DatabaseRole(name: writer, grants: [Grant(privileges: ["SELECT", "INSERT"], on: ["analytics.orders"])]),
            DatabaseRole(name: reader, grants: [Grant(privileges: ["SELECT"], on: ["schema:analytics"])]),
        ])
        let plan = try migrator(target).apply(on: connection)
        #expect(
            plan.steps.map(\.summary) == [
                "revoke SELECT, INSERT, UPDATE on analytics.customers from \(writer)",
                "revoke UPDATE on analytics.orders from \(writer)",
            ])
        #expect(try connection.query("SELECT has_table_privilege($1, 'analytics.customers', 'SELECT')", [writer]).scalar == "f")
        try expectUpToDate(target, connection)
    }

    @Test func concurrentAppliesWaitForEachOtherAndBothSucceed() throws {
        let url = try TestServer.freshDatabase("concurrent")
        let holder = try Connection(url)
        try holder.query("BEGIN")
        try holder.query("SELECT pg_advisory_xact_lock($1)", [String(Migrator.lockKey)])
        let target = warehouse()
        let migrator = migrator(target)
        // Plain threads, not tasks: the applies block in libpq, and blocked tasks would starve the
        // cooperative pool this test itself runs on.
        let results = Results()
        let group = DispatchGroup()
        for slot in 0..<2 {
            DispatchQueue.global().async(group: group) {
                results.set(slot, Result { try migrator.apply(on: Connection(url)).steps.count })
            }
        }
        // Both wait on the lock while it is held.
        var waiting = 0
        for _ in 0..<400 {
            waiting = Int(try holder.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").scalar ?? "0") ?? 0
            if waiting == 2 { break }
            usleep(25_000)
        }
        #expect(waiting == 2)
        try holder.query("COMMIT")
        #expect(group.wait(timeout: .now() + 60) == .success)
        let counts = try results.all().map { try $0.get() }.sorted()
        #expect(counts.first == 0, "the second apply found nothing left to do")
        #expect((counts.last ?? 0) > 0)
        #expect(try holder.query("SELECT count(*) FROM sluice.schema_version").scalar == "1")
        try expectUpToDate(target, holder)
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Result<Int, Error>] = [:]
    func set(_ slot: Int, _ value: Result<Int, Error>) {
        lock.lock()
        values[slot] = value
        lock.unlock()
    }
    func all() -> [Result<Int, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return values.keys.sorted().map { values[$0]! }
    }
}
