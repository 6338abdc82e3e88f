import AWSSigning
import Foundation

/// Lambda's Invoke: how a deploy migrates the warehouse from inside the VPC, by handing the
/// pipeline function its migrate event and waiting for the answer.
public struct LambdaAPI: Sendable {
    let service: AWSService

    public init(region: String, credentials: AWSCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) {
        service = AWSService(
            name: "Lambda", signingName: "lambda", host: "lambda.\(region).amazonaws.com", environmentKey: "LAMBDA", region: region,
            credentials: credentials, environment: environment)
    }

    public struct Invocation: Sendable {
        /// The function's answer (its JSON).
        public var payload: [UInt8]
        /// `Unhandled` or `Handled` when the function failed (the payload is then its error document).
        public var functionError: String?
        /// The last 4 KB of the invocation's log (`X-Amz-Log-Result`), decoded.
        public var logTail: String?
    }

    /// A synchronous invocation (RequestResponse), waited for up to `timeout` (Lambda's own limit is 15 minutes).
    public func invoke(function: String, payload: [UInt8], timeout: Duration = .seconds(910)) async throws -> Invocation {
        let response = try await service.send(
            "Invoke", method: "POST", path: "/2015-03-31/functions/\(function)/invocations",
            headers: [("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse"), ("x-amz-log-type", "Tail")],
            body: payload, timeout: timeout)
        let tail = response.header("x-amz-log-result").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        return Invocation(payload: response.body, functionError: response.header("x-amz-function-error"), logTail: tail)
    }
}
