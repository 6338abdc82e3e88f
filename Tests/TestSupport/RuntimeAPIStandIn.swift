import AsyncHTTPClient
import Foundation
import NIOCore

/// Lambda's Runtime API, served by `runtime_api.py` on loopback for one test: bootstraps poll it for
/// invocations; the test enqueues events and waits for each one's answer.
public final class RuntimeAPIStandIn: @unchecked Sendable {
    public struct Outcome: Decodable, Sendable {
        /// `response`, `error`, or `init_error`.
        public var kind: String
        public var body: String
        public var errorType: String?

        /// The answer's JSON, when it is a JSON object.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    }

    public let port: Int
    private let process: Process

    public init() throws {
        (process, port) = try startScriptServer("runtime_api.py", name: "the Runtime API stand-in")
    }

    /// `AWS_LAMBDA_RUNTIME_API` for a bootstrap.
    public var endpoint: String { "127.0.0.1:\(port)" }

    /// Enqueues one invocation with `deadline` seconds to run, and waits up to `wait` seconds for a
    /// bootstrap's answer (`timeout` when none came: the environment died with it).
    public func invoke(_ event: String, deadline: Double = 300, wait: Double = 120) async throws -> Outcome {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/test/invoke?deadline_s=\(deadline)&wait_s=\(wait)")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: event))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONDecoder().decode(Outcome.self, from: Data(body.readableBytesView))
    }

    /// SIGKILL: a child of the test process may inherit SIGTERM ignored.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// Starts one of TestSupport's Python servers, which print the port they listen on as their first
/// line; the process and that port.
func startScriptServer(_ script: String, arguments: [String] = [], name: String) throws -> (Process, Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try pythonExecutable())
    process.arguments = [packageRoot.appendingPathComponent("Tests/TestSupport/\(script)").path] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.standardError
    try process.run()
    var line = Data()
    while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) { line += byte }
    guard let port = Int(String(decoding: line, as: UTF8.self)) else {
        kill(process.processIdentifier, SIGKILL)
        throw MotoServer.Failure(description: "\(name) did not start")
    }
    return (process, port)
}
