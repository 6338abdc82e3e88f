import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One invocation handed out by the Lambda Runtime API.
public struct Invocation: Sendable {
    public var requestID: String
    /// When Lambda stops the invocation (`Lambda-Runtime-Deadline-Ms`).
    public var deadline: Date
    public var functionARN: String?
    public var traceID: String?
    public var event: Data
}

/// Lambda's Runtime API (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), the protocol a
/// custom runtime's `bootstrap` speaks: take the next invocation, answer it or report its error, or
/// report that initialisation failed.
public struct RuntimeAPI: Sendable {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    let base: String
    let http: HTTPClient

    /// `endpoint` is `AWS_LAMBDA_RUNTIME_API` (`host:port`).
    public init(endpoint: String) {
        base = "http://\(endpoint)/2018-06-01/runtime"
        // The long poll for the next invocation waits as long as the function is idle: no read timeout.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: nil)
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func next() async throws -> Invocation {
        let response = try await http.execute(HTTPClientRequest(url: "\(base)/invocation/next"), timeout: .hours(24 * 365))
        let body = try await response.body.collect(upTo: 6 * 1024 * 1024 + 1024)
        guard response.status == .ok else {
            throw Problem(description: "invocation/next answered \(response.status.code): \(String(buffer: body))")
        }
        guard let requestID = response.headers.first(name: "Lambda-Runtime-Aws-Request-Id") else {
            throw Problem(description: "invocation/next gave no Lambda-Runtime-Aws-Request-Id")
        }
        let deadline = response.headers.first(name: "Lambda-Runtime-Deadline-Ms").flatMap(Double.init).map {
            Date(timeIntervalSince1970: $0 / 1000)
        }
        return Invocation(
            requestID: requestID, deadline: deadline ?? .distantFuture,
            functionARN: response.headers.first(name: "Lambda-Runtime-Invoked-Function-Arn"),
            traceID: response.headers.first(name: "Lambda-Runtime-Trace-Id"), event: Data(body.readableBytesView))
    }

    public func respond(_ invocation: Invocation, with body: Data) async throws {
        try await post("\(base)/invocation/\(invocation.requestID)/response", body: body)
    }

    /// The invocation failed: its caller sees `errorType` and `message` (and an asynchronous
    /// invocation is retried by Lambda, then sent to the dead-letter queue).
    public func fail(_ invocation: Invocation, type: String, message: String) async throws {
        try await post(
            "\(base)/invocation/\(invocation.requestID)/error", body: Self.errorBody(type: type, message: message),
            headers: [("Lambda-Runtime-Function-Error-Type", type)])
    }

    /// The runtime cannot serve at all (no plan, no configuration): Lambda reports it and stops the environment.
    public func initializationFailed(type: String, message: String) async throws {
        try await post(
            "\(base)/init/error", body: Self.errorBody(type: type, message: message), headers: [("Lambda-Runtime-Function-Error-Type", type)])
    }

    static func errorBody(type: String, message: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["errorType": type, "errorMessage": message], options: [.sortedKeys])) ?? Data()
    }

    private func post(_ url: String, body: Data, headers: [(String, String)] = []) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        guard (200..<300).contains(response.status.code) else {
            let text = try await response.body.collect(upTo: 64 * 1024)
            throw Problem(description: "\(url) answered \(response.status.code): \(String(buffer: text))")
        }
    }
}
