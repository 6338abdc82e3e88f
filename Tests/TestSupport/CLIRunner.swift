import Foundation

/// Runs the built `sluice` executable from the package root, as a user would.
public enum CLI {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// `swift test` builds the executable next to the test bundle.
    public static var executable: URL {
        get throws {
            var directory = Bundle.main.bundleURL
            for _ in 0..<3 {
                let candidate = directory.appendingPathComponent("sluice")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory.deleteLastPathComponent()
            }
            let fallback = packageRoot.appendingPathComponent(".build/debug/sluice")
            if FileManager.default.isExecutableFile(atPath: fallback.path) { return fallback }
            throw CLIError.notBuilt
        }
    }

    public enum CLIError: Error { case notBuilt }

    public static func run(
        _ arguments: [String], in directory: URL = packageRoot, executable program: URL? = nil,
        environment: [String: String] = [:], removing removed: [String] = []
    ) throws -> Result {
        let process = Process()
        process.executableURL = try program ?? executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        for name in removed { env[name] = nil }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Never a terminal: commands that change an account must then be told --auto-approve.
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and stall the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
