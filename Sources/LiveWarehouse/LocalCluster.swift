import Foundation
import PostgresClient
import SluiceCore
import WarehouseDDL

/// A throwaway PostgreSQL cluster under a folder (by default `.sluice/` of the working directory),
/// built from the system's PostgreSQL binaries. It listens only on a Unix socket in that folder.
/// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (Debian's
/// package creates it) or `nobody`.
public struct LocalCluster: Sendable {
    public let root: URL
    public var dataDirectory: URL { root.appendingPathComponent("pg") }
    public var socketDirectory: URL { root.appendingPathComponent("run") }
    public var logFile: URL { root.appendingPathComponent("pg.log") }
    /// The cluster's superuser.
    public static let superuser = "sluice"

    public init(root: URL) { self.root = root.standardizedFileURL }

    /// `.sluice/` under the working directory, or `$SLUICE_DB_DIR`. As root, when the server's user
    /// cannot enter the working directory (a checkout under /root, say), a folder under /tmp named
    /// after the working directory instead, so each checkout still has its own cluster.
    public static func `default`() -> LocalCluster {
        if let dir = ProcessInfo.processInfo.environment["SLUICE_DB_DIR"], !dir.isEmpty {
            return LocalCluster(root: URL(fileURLWithPath: dir))
        }
        let workingDirectory = FileManager.default.currentDirectoryPath
        if let user = serverUser, (try? execute("/usr/sbin/runuser", ["-u", user, "--", "test", "-x", workingDirectory])) == nil {
            return LocalCluster(root: URL(fileURLWithPath: "/tmp/sluice-\(FNV1a(workingDirectory).hex.prefix(12))"))
        }
        return LocalCluster(root: URL(fileURLWithPath: workingDirectory).appendingPathComponent(".sluice"))
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The user the server runs as: ourselves, or an unprivileged account when we are root.
    static var serverUser: String? {
        guard geteuid() == 0 else { return nil }
        return getpwnam("postgres") != nil ? "postgres" : "nobody"
    }

    /// initdb, pg_ctl and postgres: from PATH, else the newest /usr/lib/postgresql/*/bin.
    public static func binDirectory() throws -> URL {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let url = URL(fileURLWithPath: String(directory))
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("pg_ctl").path) { return url }
        }
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() {
            let url = URL(fileURLWithPath: "\(base)/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("pg_ctl").path) { return url }
        }
        throw Failure(description: "no PostgreSQL server binaries (initdb, pg_ctl) found; install them, e.g. apt-get install postgresql")
    }

    public var isInitialized: Bool { FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) }

    public var isRunning: Bool {
        (try? run("pg_ctl", ["status", "-D", dataDirectory.path])) != nil
    }

    /// Connection URL for a database of this cluster.
    public func url(database: String = "postgres") -> String {
        var components = URLComponents()
        components.scheme = "postgresql"
        components.host = ""
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "host", value: socketDirectory.path), URLQueryItem(name: "user", value: Self.superuser)]
        return components.string ?? "postgresql:///\(database)?host=\(socketDirectory.path)&user=\(Self.superuser)"
    }

    /// Initialises (once) and starts the cluster; a running cluster is left as it is.
    public func start() throws {
        let socket = socketDirectory.appendingPathComponent(".s.PGSQL.5432").path
        guard socket.utf8.count < 104 else {
            throw Failure(description: "the socket path \(socket) is too long for a Unix socket; set SLUICE_DB_DIR to a shorter folder")
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        if !isInitialized {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
            try handOver([dataDirectory, socketDirectory, logFile])
            try run(
                "initdb",
                [
                    "-D", dataDirectory.path, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8", "--no-locale",
                    "--no-instructions",
                ])
        }
        if isRunning { return }
        try handOver([socketDirectory, logFile])
        // Only a Unix socket: nothing on this machine's network, and no port to collide with.
        try run(
            "pg_ctl",
            [
                "start", "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60",
                "-o", "-k \(socketDirectory.path) -c listen_addresses='' -c port=5432",
            ])
    }

    public func stop() throws {
        guard isInitialized, isRunning else { return }
        try run("pg_ctl", ["stop", "-D", dataDirectory.path, "-m", "fast", "-w"])
    }

    /// Stops the cluster and deletes its folder, data included.
    public func destroy() throws {
        try stop()
        _ = try Self.execute("/bin/rm", ["-rf", root.path])
    }

    /// Creates the database if it does not exist (names are checked identifiers).
    public func createDatabase(_ name: String) throws {
        let connection = try Connection(url(database: "postgres"))
        if try connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rows.isEmpty {
            try connection.query("CREATE DATABASE \(SQL.identifier(name))")
        }
    }

    /// As root the server's files belong to the unprivileged server user, and the folders above
    /// them must let that user through.
    private func handOver(_ paths: [URL]) throws {
        guard let user = Self.serverUser else { return }
        if !FileManager.default.fileExists(atPath: logFile.path) { _ = FileManager.default.createFile(atPath: logFile.path, contents: nil) }
        _ = try Self.execute("/bin/chown", ["-R", user] + paths.map(\.path))
        do {
            _ = try Self.execute("/usr/sbin/runuser", ["-u", user, "--", "test", "-w", dataDirectory.path])
        } catch {
            throw Failure(
                description:
                    "user '\(user)' cannot reach \(dataDirectory.path): a folder above it is closed to other users; set SLUICE_DB_DIR to a folder under /tmp"
            )
        }
    }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        let executable = try Self.binDirectory().appendingPathComponent(tool).path
        if let user = Self.serverUser {
            return try Self.execute("/usr/sbin/runuser", ["-u", user, "--", executable] + arguments)
        }
        return try Self.execute(executable, arguments)
    }

    /// Runs a tool and waits for it with posix_spawn and waitpid. Output goes through a temporary file,
    /// not a pipe: `pg_ctl start` leaves a server behind that inherits the descriptors, and a pipe would
    /// never reach end-of-file. (Foundation's Process also missed the exit of `runuser` here and hung.)
    static func execute(_ executable: String, _ arguments: [String]) throws -> String {
        let (exited, exitCode, status, text) = try spawn(executable, arguments)
        guard exited, exitCode == 0 else {
            let how = exited ? "exit \(exitCode)" : "signal \(status & 0x7f)"
            throw Failure(
                description:
                    "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.first ?? "") failed (\(how)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return text
    }

    /// A tool's exit status (-1 for a signal) and output (stdout and stderr), run as `execute` runs it:
    /// safe for commands that leave a server running.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let (exited, exitCode, _, text) = try spawn(executable, arguments)
        return (exited ? exitCode : -1, text)
    }

    private static func spawn(_ executable: String, _ arguments: [String]) throws -> (exited: Bool, exitCode: Int32, status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours reaches the tool, or the server it leaves running: an inherited pipe
        // (our caller's stdout, say) would stay open for the server's whole life.
        for descriptor in openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(executable): \(String(cString: strerror(errno)))") }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
        return (status & 0x7f == 0, (status >> 8) & 0xff, status, text)
    }

    /// This process's open file descriptors, from /proc/self/fd (Linux).
    private static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        // The listing's own descriptor is closed again by the time we spawn: keep only those still open.
        return names.compactMap { Int32($0) }.filter { fcntl($0, F_GETFD) != -1 }
    }
}
