import AsyncHTTPClient
import Foundation
import NIOCore

/// A web API served by `api_server.py` on loopback for one test: pages of records by cursor, link
/// or page number, a bearer token, and the faults it is told to answer first.
public final class APIStandIn: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public init() throws {
        (process, port) = try startScriptServer("api_server.py", name: "the API stand-in")
    }

    /// The transactions endpoint.
    public var url: String { "http://127.0.0.1:\(port)/v1/transactions" }

    /// Replaces what the API holds and how it answers (see api_server.py).
    public func setup(_ settings: [String: Any]) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/_admin/setup")
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: settings))))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    /// One request the API answered.
    public struct Request: Decodable, Sendable {
        public var path: String
        public var authorization: String?
        public var status: Int?
        public var at: Double
    }

    /// Every request to the API so far, in order.
    public func requests() async throws -> [Request] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/_admin/requests"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONDecoder().decode([Request].self, from: Data(body.readableBytesView))
    }

    /// SIGKILL: a child of the test process may inherit SIGTERM ignored.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
