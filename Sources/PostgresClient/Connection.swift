import CLibPQ
import Foundation

/// Rows of a query, as text (PostgreSQL's text format); nil is SQL NULL.
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    /// For INSERT/UPDATE/DELETE/COPY: the affected row count.
    public var affectedRows: Int

    public func column(_ name: String) -> [String?] {
        guard let index = columns.firstIndex(of: name) else { return [] }
        return rows.map { $0[index] }
    }

    /// The first column of the first row.
    public var scalar: String? { rows.first?.first ?? nil }
}

/// One libpq connection. Not thread-safe: use one per task, as libpq requires.
public final class Connection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Server notices (RAISE NOTICE, "relation already exists, skipping", …) in arrival order: the
    /// most recent ones, at least `noticeLimit` and fewer than twice that. A loader's connection
    /// lives for millions of objects and hears a notice for each (`DROP TABLE IF EXISTS`), so
    /// keeping them all grew without bound.
    public private(set) var notices: [String] = []
    public static let noticeLimit = 1000

    /// Connects with a `postgresql://` URL or a `key=value` string; empty means libpq's defaults and the
    /// `PG*` environment variables. Keepalives and a connect timeout are always set, so a dead server
    /// is noticed instead of waited on forever.
    public init(_ conninfo: String = "", connectTimeout: Int = 10, applicationName: String = "sluice") throws {
        var keys = ["connect_timeout", "application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"]
        var values = [String(connectTimeout), applicationName, "1", "30", "10", "3"]
        if !conninfo.isEmpty {
            keys.insert("dbname", at: 0)
            values.insert(conninfo, at: 0)
        }
        // expand_dbname = 1: a dbname that is a URL or key=value string is parsed as one; later keys add to it.
        handle = withCStrings(keys) { keyPointers in
            withCStrings(values) { valuePointers in
                var k = keyPointers + [nil], v = valuePointers + [nil]
                return PQconnectdbParams(&k, &v, 1)
            }
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(handle)
            self.handle = nil
            throw PostgresError(sqlState: "08001", message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        PQsetNoticeProcessor(
            handle,
            { context, message in
                guard let context, let message else { return }
                let connection = Unmanaged<Connection>.fromOpaque(context).takeUnretainedValue()
                connection.notices.append(String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines))
                // Dropped in halves, so trimming stays amortised O(1) per notice.
                if connection.notices.count >= 2 * Connection.noticeLimit { connection.notices.removeFirst(Connection.noticeLimit) }
            }, context)
    }

    deinit { PQfinish(handle) }

    public func close() {
        PQfinish(handle)
        handle = nil
    }

    /// The SCRAM-SHA-256 verifier of `password` for `user`, computed here (PQencryptPasswordConn), so
    /// `ALTER ROLE … PASSWORD` never carries the password itself to the server or its logs.
    public func passwordVerifier(_ password: String, user: String) throws -> String {
        guard let handle, let encrypted = PQencryptPasswordConn(handle, password, user, "scram-sha-256") else {
            throw PostgresError(sqlState: nil, message: handle.map { String(cString: PQerrorMessage($0)) } ?? "connection is closed")
        }
        defer { PQfreemem(encrypted) }
        return String(cString: encrypted)
    }

    /// The server's process ID for this session (what pg_terminate_backend takes).
    public var backendPID: Int32 { PQbackendPID(handle) }

    public var isAlive: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Runs one statement with `$1, $2, …` parameters sent separately from the SQL text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        guard let handle else { throw PostgresError(sqlState: "08003", message: "connection is closed") }
        let result: OpaquePointer? = withOptionalCStrings(parameters) { pointers in
            PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        return try read(result)
    }

    /// Parses, analyses and plans one statement without running it (a server-side prepared
    /// statement, deallocated at once): errors carry the position in `sql` they are about.
    public func prepare(_ sql: String) throws {
        guard let handle else { throw PostgresError(sqlState: "08003", message: "connection is closed") }
        let result = PQprepare(handle, "sluice_validate", sql, 0, nil)
        defer { PQclear(result) }
        _ = try read(result)
        try query("DEALLOCATE sluice_validate")
    }

    /// Runs a script of several statements (no parameters), as psql would; used for DDL.
    public func execute(_ script: String) throws {
        guard let handle else { throw PostgresError(sqlState: "08003", message: "connection is closed") }
        let result = PQexec(handle, script)
        defer { PQclear(result) }
        _ = try read(result)
    }

    /// BEGIN … COMMIT around `body`; ROLLBACK when it throws (PostgreSQL's DDL is transactional too).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            if isAlive { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    /// `COPY … FROM STDIN`: `write` is called with a sink that sends chunks of COPY text format.
    /// Returns the number of rows the server took.
    @discardableResult
    public func copyIn(_ sql: String, _ write: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Int {
        try startCopy(sql)
        do {
            try write { try sendCopyData($0) }
        } catch {
            _ = try? finishCopy(abortingWith: "aborted by client: \(error)")
            throw error
        }
        return try finishCopy()
    }

    /// The parts of `copyIn`, for callers whose data arrives asynchronously (an S3 download).
    public func startCopy(_ sql: String) throws {
        guard let handle else { throw PostgresError(sqlState: "08003", message: "connection is closed") }
        let start = PQexec(handle, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            _ = try read(start)
            throw PostgresError(message: "\(sql) did not start a COPY")
        }
        PQclear(start)
    }

    public func sendCopyData(_ chunk: UnsafeRawBufferPointer) throws {
        guard let handle else { throw PostgresError(sqlState: "08003", message: "connection is closed") }
        guard chunk.count > 0 else { return }
        if PQputCopyData(handle, chunk.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(chunk.count)) != 1 {
            throw PostgresError(sqlState: "08006", message: String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Ends the COPY (or aborts it with `reason`, which the server reports back as the error) and
    /// returns the rows it took.
    @discardableResult
    public func finishCopy(abortingWith reason: String? = nil) throws -> Int {
        guard let handle else { throw PostgresError(sqlState: "08003", message: "connection is closed") }
        if PQputCopyEnd(handle, reason) != 1 {
            throw PostgresError(sqlState: "08006", message: String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var affected = 0
        var serverError: Error?
        while let result = PQgetResult(handle) {
            do { affected = try read(result).affectedRows } catch { serverError = serverError ?? error }
            PQclear(result)
        }
        if let serverError { throw serverError }
        return affected
    }

    private func read(_ result: OpaquePointer?) throws -> QueryResult {
        guard let result else {
            throw PostgresError(sqlState: "08006", message: String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT:
            return QueryResult(columns: [], rows: [], affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
        case PGRES_TUPLES_OK:
            let columnCount = PQnfields(result), rowCount = PQntuples(result)
            let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                rows.append(
                    (0..<columnCount).map { column in
                        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                    })
            }
            return QueryResult(columns: columns, rows: rows, affectedRows: Int(rowCount))
        default:
            func field(_ code: Character) -> String? {
                PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
            }
            let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresError(
                sqlState: field("C"), message: message.isEmpty ? String(cString: PQerrorMessage(handle)) : message,
                detail: field("D"), hint: field("H"), position: field("P").flatMap { Int($0) })
        }
    }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    return body(duplicates.map { UnsafePointer($0) })
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let duplicates = strings.map { $0.map { strdup($0) } ?? nil }
    defer { duplicates.forEach { free($0) } }
    return body(duplicates.map { $0.map { UnsafePointer($0) } })
}
