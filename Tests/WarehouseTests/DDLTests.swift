import SluiceCore
import TestSupport
import Testing

@testable import LiveWarehouse
@testable import WarehouseDDL

@Suite("DDL rendering without a server")
struct DDLTests {
    @Test func identifiersAreQuotedOnlyWhenPostgreSQLNeedsIt() {
        #expect(SQL.identifier("fact_events") == "fact_events")
        #expect(SQL.identifier("order") == "\"order\"")
        #expect(SQL.identifier("user") == "\"user\"")
        #expect(SQL.identifier("name") == "name")  // unreserved
        #expect(SQL.identifier("Mixed") == "\"Mixed\"")
        #expect(SQL.identifier("9lives") == "\"9lives\"")
        #expect(SQL.identifier("a\"b") == "\"a\"\"b\"")
        #expect(SQL.qualified("analytics.order") == "analytics.\"order\"")
        #expect(SQL.literal("it's") == "'it''s'")
    }

    @Test func longNamesFitPostgreSQLsLimitStablyAndDistinctly() {
        let long = String(repeating: "very_long_table_name_", count: 4) + "customer_id_fkey"
        let fitted = SQL.fitted(long)
        #expect(fitted.utf8.count == 63)
        #expect(fitted == SQL.fitted(long))
        #expect(fitted != SQL.fitted(long + "x"))
        #expect(SQL.fitted("short_pkey") == "short_pkey")
    }

    static func column(_ name: String, _ type: PostgresType.Base = .bigint) -> Column { Column(name: name, type: PostgresType(type)) }

    @Test func tablesComeAfterWhatTheyReferenceAndCyclesAreClosedLater() {
        let a = Table(
            schema: "s", name: "a", columns: [Self.column("id"), Self.column("b_id")], primaryKey: ["id"],
            foreignKeys: [ForeignKey(columns: ["b_id"], referencedTable: "s.b", referencedColumns: ["id"])])
        let b = Table(
            schema: "s", name: "b", columns: [Self.column("id"), Self.column("a_id")], primaryKey: ["id"],
            foreignKeys: [ForeignKey(columns: ["a_id"], referencedTable: "s.a", referencedColumns: ["id"])])
        let c = Table(schema: "s", name: "c", columns: [Self.column("id")], primaryKey: ["id"])
        let d = Table(
            schema: "s", name: "d", columns: [Self.column("c_id")],
            foreignKeys: [ForeignKey(columns: ["c_id"], referencedTable: "s.c", referencedColumns: ["id"])])
        let ordered = DesiredSchema.inForeignKeyOrder([d, c])
        #expect(ordered.map(\.name) == ["c", "d"])
        let warehouse = Warehouse(
            name: "w", engine: .rds(instanceClass: "db.t3.micro"), subnets: [], securityGroups: [], database: "db",
            credentialsSecret: "x", clients: [], schemas: ["s"], tables: [a, b])
        let schema = DesiredSchema(warehouse: warehouse, pipelines: [])
        #expect(schema.deferredForeignKeys.map { "\($0.table.name)->\($0.foreignKey.referencedTable)" } == ["a->s.b"])
        let sections = Dictionary(uniqueKeysWithValues: schema.creationSections.map { ($0.heading, $0.statements) })
        let createA = sections.first { $0.key.hasPrefix("Tables") }!.value.first { $0.contains("CREATE TABLE s.a") }!
        #expect(!createA.contains("REFERENCES"))
        #expect(
            sections.first { $0.key.hasPrefix("Foreign keys") }?.value == [
                "ALTER TABLE s.a ADD CONSTRAINT a_b_id_fkey FOREIGN KEY (b_id) REFERENCES s.b (id);"
            ])
    }

    @Test func viewsComeAfterTheViewsTheyRead() {
        let top = View(schema: "s", name: "top_customers", sql: "SELECT * FROM s.customer_totals ORDER BY total DESC LIMIT 10")
        let totals = View(schema: "s", name: "customer_totals", sql: "SELECT customer_id, sum(x) AS total FROM s.orders GROUP BY 1")
        let unrelated = View(schema: "s", name: "totals", sql: "SELECT 1 AS customer_totals_count")
        #expect(DesiredSchema.inDependencyOrder([top, unrelated, totals]).map(\.name) == ["totals", "customer_totals", "top_customers"])
        #expect(RelationReferences.in("SELECT other.customer_totals FROM x") == ["x"])
        #expect(RelationReferences.in("SELECT * FROM s.customer_totals\n") == ["s.customer_totals"])
        // A view's name used only as a column alias is no reference (issue 19, item 6): the real reader comes second.
        let summary = View(schema: "s", name: "a_summary", sql: "SELECT * FROM s.b_detail")
        let detail = View(schema: "s", name: "b_detail", sql: "SELECT count(*) AS a_summary, 'a_summary' AS label FROM s.orders -- a_summary")
        #expect(DesiredSchema.inDependencyOrder([summary, detail]).map(\.name) == ["b_detail", "a_summary"])
    }

    @Test func relationsAreFoundWhereSQLPutsThem() {
        func references(_ sql: String) -> [String] { RelationReferences.in(sql).sorted() }
        #expect(
            references("SELECT a.x, b.y FROM s.a AS a JOIN s.b b ON a.id = b.id LEFT JOIN c USING (id), d WHERE x IN (SELECT y FROM e)")
                == ["c", "d", "e", "s.a", "s.b"])
        #expect(references("SELECT * FROM generate_series(1, 3) g, LATERAL (SELECT 1 FROM \"Odd Name\") q") == ["Odd Name"])
        #expect(references("WITH recent AS (SELECT * FROM s.orders) SELECT * FROM recent") == ["s.orders"])
        #expect(references("SELECT 'FROM fake' AS t, $$FROM fake2$$ /* FROM fake3 */ FROM real") == ["real"])
        #expect(
            references("SELECT ordered_at::date AS day, count(*) FROM ONLY s.orders GROUP BY 1 UNION SELECT 1, 2 FROM s.more") == [
                "s.more", "s.orders",
            ])
        #expect(RelationReferences.selectsStar("SELECT * FROM t"))
        #expect(RelationReferences.selectsStar("SELECT DISTINCT o.*, 1 FROM t o"))
        #expect(RelationReferences.selectsStar("SELECT id, * FROM t"))
        #expect(!RelationReferences.selectsStar("SELECT count(*), a * b, 2*3 FROM t -- SELECT *"))
        #expect(!RelationReferences.selectsStar("SELECT '*' AS star FROM t"))
    }

    @Test func schemaGrantsExpandToEachRelationAndGiveUsage() {
        let t = Table(schema: "s", name: "t", columns: [Self.column("id")])
        let u = Table(schema: "other", name: "u", columns: [Self.column("id")])
        let v = View(schema: "s", name: "v", sql: "SELECT 1")
        let role = DatabaseRole(name: "reader", grants: [Grant(privileges: ["SELECT"], on: ["schema:s"])])
        let warehouse = Warehouse(
            name: "w", engine: .rds(instanceClass: "db.t3.micro"), subnets: [], securityGroups: [], database: "db",
            credentialsSecret: "x", clients: [], schemas: ["s", "other"], tables: [t, u], views: [v], roles: [role])
        let privileges = DesiredSchema(warehouse: warehouse, pipelines: []).privileges
        #expect(privileges.map { "\($0.privilege) \($0.kind.rawValue) \($0.object)" } == ["USAGE schema s", "SELECT table s.t", "SELECT table s.v"])
        #expect(
            DDL.grants(privileges) == [
                "GRANT USAGE ON SCHEMA s TO reader;", "GRANT SELECT ON TABLE s.t TO reader;", "GRANT SELECT ON TABLE s.v TO reader;",
            ])
    }

    @Test func typeChangesAreWideningOnlyWhenNoValueCanChange() {
        func widens(_ from: String, _ to: String) -> Bool {
            TypeChange.classify(from: from, to: PostgresType(parsing: to)!) == .widening
        }
        #expect(widens("character varying(10)", "varchar(20)"))
        #expect(widens("character varying(10)", "text"))
        #expect(widens("integer", "bigint"))
        #expect(widens("smallint", "numeric(6,0)"))
        #expect(widens("numeric(10,2)", "numeric(12,2)"))
        #expect(widens("numeric(10,2)", "numeric"))
        #expect(widens("timestamp(3) with time zone", "timestamptz"))
        #expect(widens("real", "double precision"))
        #expect(!widens("character varying(20)", "varchar(10)"))
        #expect(!widens("bigint", "integer"))
        #expect(!widens("numeric(12,2)", "numeric(12,3)"))  // one fewer integer digit
        #expect(!widens("text", "integer"))
        #expect(!widens("text[]", "text"))
        #expect(!widens("money", "numeric"))
        // Lossless though the type's kind changes (issue 19, item 9).
        #expect(widens("integer", "text"))
        #expect(widens("bigint", "varchar(20)"))
        #expect(!widens("bigint", "varchar(19)"), "-9223372036854775808 has 20 characters")
        #expect(widens("uuid", "text"))
        #expect(widens("integer", "double precision"))
        #expect(!widens("bigint", "double precision"), "a double holds 53 bits")
        #expect(!widens("integer", "real"), "a real holds 24 bits")
        #expect(widens("date", "timestamptz"))
        #expect(widens("character(2)", "char(3)"))
        #expect(!widens("character(3)", "char(2)"))
    }

    @Test func catalogArraysParse() {
        #expect(LiveCatalog.parseArray("{a,b}") == ["a", "b"])
        #expect(LiveCatalog.parseArray("{\"order\",\"a,b\",\"q\\\"x\"}") == ["order", "a,b", "q\"x"])
        #expect(LiveCatalog.parseArray("{}") == [])
    }
}
