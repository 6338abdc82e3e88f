import CloudFormation
import Foundation
import LiveWarehouse
import SpecLoader
import TestSupport
import Testing

/// The self-managed warehouse host's bootstrap script: its configuration part run against Debian's
/// PostgreSQL of the major version it installs on Amazon Linux, and the whole script through shellcheck.
@Suite struct WarehouseHostBootstrapTests {
    static let script = WarehouseHostBootstrap.script(database: "analytics", port: 5432, clientRanges: ["127.0.0.1/32", "10.0.2.0/24"])

    /// Runs bash with the script's functions defined (sourced with an argument: main does not run).
    func bash(_ body: String, in folder: URL) throws -> (status: Int32, output: String) {
        let file = folder.appendingPathComponent("bootstrap.sh")
        try Self.script.write(to: file, atomically: true, encoding: .utf8)
        // Not Foundation's Process: `pg_ctl start` leaves a server behind that would hold its pipe open.
        return try LocalCluster.run("/bin/bash", ["-c", "set -Eeuo pipefail; . '\(file.path)' --functions-only; \(body)"])
    }

    @Test func onlyCloudFormationsOwnNamesAreSubstituted() {
        // Fn::Sub replaces every ${…}: the shell's variables must never be written that way.
        var names: [String] = []
        var rest = Self.script[...]
        while let start = rest.range(of: "${") {
            let end = rest[start.upperBound...].firstIndex(of: "}")!
            names.append(String(rest[start.upperBound..<end]))
            rest = rest[end...]
        }
        #expect(Set(names) == ["AWS::Region", "AdminSecret", "WaitHandle"])
    }

    @Test func shellcheckFindsNothing() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["shellcheck", "--shell=bash", "--severity=style", "-"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(Self.script.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // 127: shellcheck is not installed; scripts/setup --test installs it. That is a failure, not a skip.
        #expect(process.terminationStatus == 0, "shellcheck:\n\(text)")
    }

    /// What postgresql-setup leaves on the host (initdb as postgres), then the script's configuration and
    /// the admin from the secret: TLS on, only the client ranges and only over TLS, scram-sha-256, and a
    /// second run (a rebooted or replaced host) changes nothing.
    @Test func theConfigurationAdmitsOnlyClientsOverTLSWithScram() throws {
        let bin = try LocalCluster.binDirectory().path
        // Debian's psql is a wrapper in /usr/bin, not in the server's bin folder.
        let psql = try #require(["/usr/bin/psql", "\(bin)/psql"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let user = geteuid() == 0 ? "postgres" : NSUserName()
        let folder = try temporaryFolder("host-bootstrap")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data").path
        let port = 20_000 + Int(getpid() % 20_000)
        let asServer = geteuid() == 0 ? "runuser -u \(user) --" : ""
        if geteuid() == 0 { _ = try bash("chown \(user) '\(folder.path)'", in: folder) }
        let setup = try bash(
            """
            PORT=\(port)
            run_psql() { \(asServer) '\(psql)' -h '\(folder.path)' -p \(port) -U postgres -d postgres "$@"; }
            \(asServer) '\(bin)/initdb' -D '\(data)' -U postgres --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
            configure_postgresql '\(data)'
            configure_postgresql '\(data)'
            \(geteuid() == 0 ? "chown -R \(user) '\(data)'" : "true")
            \(asServer) '\(bin)/pg_ctl' -D '\(data)' -l '\(folder.path)/log' -o "-k '\(folder.path)' -c unix_socket_permissions=0777" -w start >/dev/null
            set_admin_password sluice_admin "it's a secret"
            set_admin_password sluice_admin "it's a secret"
            """, in: folder)
        defer { _ = try? bash("\(asServer) '\(bin)/pg_ctl' -D '\(data)' -m immediate stop", in: folder) }
        try #require(setup.status == 0, "\(setup.output)\n\((try? String(contentsOfFile: folder.path + "/log", encoding: .utf8)) ?? "")")

        func connect(_ options: String, _ sql: String = "SELECT 1") throws -> (status: Int32, output: String) {
            try bash(
                "PGPASSWORD=\"it's a secret\" '\(psql)' -XAtq \"host=127.0.0.1 port=\(port) dbname=analytics user=sluice_admin \(options)\" -c \"\(sql)\"",
                in: folder)
        }
        let tls = try connect("sslmode=require", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        #expect(tls.status == 0 && tls.output.trimmingCharacters(in: .whitespacesAndNewlines) == "t", "\(tls.output)")
        let plain = try connect("sslmode=disable")
        #expect(plain.status != 0 && plain.output.contains("no encryption"), "\(plain.output)")
        let wrong = try bash(
            "PGPASSWORD=wrong '\(psql)' -XAtq \"host=127.0.0.1 port=\(port) dbname=analytics user=sluice_admin sslmode=require\" -c 'SELECT 1'",
            in: folder)
        #expect(wrong.status != 0 && wrong.output.contains("password authentication failed"), "\(wrong.output)")

        let superuser = "run_psql -XAtq -c"
        let facts = try bash(
            """
            run_psql() { \(asServer) '\(psql)' -h '\(folder.path)' -p \(port) -U postgres -d postgres "$@"; }
            \(superuser) "SELECT rolpassword LIKE 'SCRAM-SHA-256\\$%' AND rolcanlogin AND rolcreaterole AND NOT rolsuper FROM pg_authid WHERE rolname = 'sluice_admin'"
            \(superuser) "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'analytics'"
            \(superuser) "SELECT string_agg(type || ' ' || array_to_string(database, ',') || ' ' || array_to_string(user_name, ',') || ' ' || coalesce(address, '-') || ' ' || coalesce(netmask, '-') || ' ' || auth_method, '; ' ORDER BY line_number) FROM pg_hba_file_rules"
            \(superuser) "SHOW password_encryption"
            grep -c "^include 'sluice.conf'" '\(data)/postgresql.conf'
            """, in: folder)
        let lines = facts.output.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "t", "sluice_admin",
                "local all postgres - - peer; hostssl all all 127.0.0.1 255.255.255.255 scram-sha-256; hostssl all all 10.0.2.0 255.255.255.0 scram-sha-256",
                "scram-sha-256", "1",
            ], "\(facts.output)")
    }
}
