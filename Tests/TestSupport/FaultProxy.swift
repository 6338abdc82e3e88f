import AsyncHTTPClient
import Foundation
import NIOCore

/// `fault_proxy.py` in front of moto: every request forwarded with its signature intact, and the
/// answers damaged as a test asks (a short body with a matching length, flipped bits, a reset or a
/// stall mid-body, throttling, error statuses). One proxy per test; `stop()` ends it.
public final class FaultProxy: @unchecked Sendable {
    public let endpoint: URL
    private let process: Process

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Starts a proxy in front of `upstream` (moto's endpoint). Waits without blocking the cooperative pool.
    public static func start(upstream: URL) async throws -> FaultProxy {
        let portFile = "/tmp/sluice-proxy-\(getpid())-\(UUID().uuidString.prefix(8))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try pythonExecutable())
        process.arguments = [packageRoot.appendingPathComponent("Tests/TestSupport/fault_proxy.py").path, String(upstream.port ?? 80), portFile]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { try? FileManager.default.removeItem(atPath: portFile) }
        for _ in 0..<200 {
            if let port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap({ Int($0) }) {
                return FaultProxy(endpoint: URL(string: "http://127.0.0.1:\(port)")!, process: process)
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        kill(process.processIdentifier, SIGKILL)
        throw Failure(description: "the fault proxy did not start (python3 \(packageRoot.path)/Tests/TestSupport/fault_proxy.py)")
    }

    private init(endpoint: URL, process: Process) {
        self.endpoint = endpoint
        self.process = process
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Replaces the rules (see fault_proxy.py); an empty list passes everything through.
    public func inject(_ rules: [[String: any Sendable]]) async throws {
        var request = HTTPClientRequest(url: endpoint.absoluteString + "/__faults__")
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: rules)))
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10)).body.collect(upTo: 1 << 16)
    }

    /// How many faults of each kind were injected so far.
    public func injected() async throws -> [String: Int] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: endpoint.absoluteString + "/__faults__"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        return (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Int]) ?? [:]
    }
}

/// A loopback port nothing listens on: connections to it are refused at once.
public func refusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    // Bound but never listening, then closed: the port stays free and refuses.
    return Int(UInt16(bigEndian: address.sin_port))
}
