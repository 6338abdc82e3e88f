import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("libpq client against a real server")
struct PostgresClientTests {
    @Test func parametersTravelSeparatelyFromTheSQL() throws {
        let connection = try Connection(try TestServer.freshDatabase())
        let hostile = "O'Brien\"; DROP TABLE x; --"
        let result = try connection.query("SELECT $1::text AS value, $2::text IS NULL AS missing, $3::int + 1 AS next", [hostile, nil, "41"])
        #expect(result.columns == ["value", "missing", "next"])
        #expect(result.rows == [[hostile, "t", "42"]])
    }

    @Test func serverErrorsCarrySQLStateAndPosition() throws {
        let connection = try Connection(try TestServer.freshDatabase())
        try connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
        try connection.query("INSERT INTO t VALUES ($1)", ["1"])
        let duplicate = #expect(throws: PostgresError.self) { try connection.query("INSERT INTO t VALUES ($1)", ["1"]) }
        #expect(duplicate?.sqlState == "23505")
        #expect(duplicate?.detail?.contains("(id)=(1)") == true)
        let syntax = #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(syntax?.sqlState == "42601")
        #expect(syntax?.position == 1)
        #expect(syntax?.isConnectionFailure == false)
    }

    @Test func noticesAreCollected() throws {
        let connection = try Connection(try TestServer.freshDatabase())
        try connection.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
        #expect(connection.notices.contains { $0.contains("hello 42") })
    }

    /// A loader's connection hears a notice per object (`DROP TABLE IF EXISTS`) for millions of
    /// objects: only the most recent are kept (this grew the 1M-object load by hundreds of MB).
    @Test func noticesAreBoundedToTheMostRecent() throws {
        let connection = try Connection(try TestServer.freshDatabase())
        try connection.execute("DO $$ BEGIN FOR i IN 1..2500 LOOP RAISE NOTICE 'n %', i; END LOOP; END $$")
        #expect(connection.notices.count == 1500)
        #expect(connection.notices.first?.hasSuffix("n 1001") == true)
        #expect(connection.notices.last?.hasSuffix("n 2500") == true)
    }

    @Test func transactionRollsBackWhenTheBodyThrows() throws {
        let connection = try Connection(try TestServer.freshDatabase())
        try connection.execute("CREATE TABLE t (id int)")
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try connection.transaction {
                try connection.query("INSERT INTO t VALUES (1)")
                throw Abort()
            }
        }
        #expect(try connection.query("SELECT count(*) FROM t").scalar == "0")
        try connection.transaction { try connection.query("INSERT INTO t VALUES (2)") }
        #expect(try connection.query("SELECT count(*) FROM t").scalar == "1")
    }

    @Test func copyLoadsRowsAndReportsBadData() throws {
        let connection = try Connection(try TestServer.freshDatabase())
        try connection.execute("CREATE TABLE t (id int, name text)")
        let rows = try connection.copyIn("COPY t (id, name) FROM STDIN") { send in
            for chunk in ["1\tone\n2\t", "two\n3\t\\N\n"] {
                try Array(chunk.utf8).withUnsafeBytes { try send($0) }
            }
        }
        #expect(rows == 3)
        #expect(try connection.query("SELECT count(*), count(name) FROM t").rows == [["3", "2"]])
        let bad = #expect(throws: PostgresError.self) {
            try connection.copyIn("COPY t (id, name) FROM STDIN") { send in
                try Array("4\tfour\nnot-a-number\tfive\n".utf8).withUnsafeBytes { try send($0) }
            }
        }
        #expect(bad?.sqlState == "22P02")
        // The failed COPY loaded nothing and the connection is usable.
        #expect(try connection.query("SELECT count(*) FROM t").scalar == "3")
    }

    @Test func unreachableServerIsAClearConnectionError() throws {
        let error = #expect(throws: PostgresError.self) {
            try Connection("postgresql:///nowhere?host=/tmp/sluice-no-such-socket-dir", connectTimeout: 2)
        }
        #expect(error?.sqlState == "08001")
        #expect(error?.isConnectionFailure == true)
        #expect(error?.message.contains("sluice-no-such-socket-dir") == true)
    }
}
