import Foundation
import LiveWarehouse
import PostgresClient
import SluiceCore

public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Shared by the test targets: the servers they talk to.
///
/// A real PostgreSQL server for the whole test process: Sluice's own throwaway cluster, started once
/// from the system's binaries under /tmp and stopped when the process exits. Every test gets its own
/// database. When the server cannot start, the tests that need it fail with the reason; they never skip.
public enum TestServer {
    public static let cluster: Result<LocalCluster, Error> = {
        let root = URL(fileURLWithPath: "/tmp/sluice-tests-\(getpid())")
        let cluster = LocalCluster(root: root)
        do {
            try cluster.start()
            testClusterRoot = root.path
            atexit {
                guard let root = testClusterRoot else { return }
                try? LocalCluster(root: URL(fileURLWithPath: root)).destroy()
            }
            return .success(cluster)
        } catch {
            return .failure(error)
        }
    }()

    private static let counter = Counter()

    /// A new, empty database; returns its connection URL.
    public static func freshDatabase(_ label: String = "t") throws -> String {
        let cluster = try cluster.get()
        let name = "\(label)_\(getpid())_\(counter.next())"
        try cluster.createDatabase(name)
        return cluster.url(database: name)
    }

    /// A name unique to this test run, for cluster-wide objects such as roles.
    public static func uniqueName(_ base: String) -> String { "\(base)_\(counter.next())" }
}

nonisolated(unsafe) var testClusterRoot: String?

/// Notes (retries, events) collected from any thread.
public final class Notes: @unchecked Sendable {
    private let lock = NSLock()
    private var notes: [String] = []
    public init() {}
    public var all: [String] { lock.withLock { notes } }
    public var add: @Sendable (String) -> Void { { [self] note in lock.withLock { notes.append(note) } } }
}

public final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    public init() {}
    public func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// A new, empty folder under /tmp, named for the test; the caller removes it.
public func temporaryFolder(_ label: String) throws -> URL {
    let url = URL(fileURLWithPath: "/tmp/sluice-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs psql, as a user checking schema.sql would.
public func psql(_ url: String, file: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
