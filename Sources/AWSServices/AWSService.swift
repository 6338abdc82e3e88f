import AWSSigning
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import S3Client

/// A refusal from an AWS API: the service's error code and message, with the operation that got it.
public struct AWSServiceError: Error, CustomStringConvertible, Sendable {
    public var service: String
    public var operation: String
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "\(service) \(operation): \(code): \(message)" }
}

/// A service that could not be reached at all (after the retries).
public struct AWSTransportError: Error, CustomStringConvertible, Sendable {
    public var service: String
    public var operation: String
    public var endpoint: String
    public var detail: String

    public var description: String { "cannot reach \(service) at \(endpoint) for \(operation): \(detail)" }
}

/// One AWS API's endpoint, signer and transport: requests signed with SigV4 and retried as the SDKs'
/// standard mode retries them (throttling, 5xx, a connection that failed), with the same backoff as
/// the S3 client.
public struct AWSService: Sendable {
    /// The service's name in messages ("CloudFormation").
    public let name: String
    public let endpoint: URL
    public let region: String
    let signer: SigV4Signer
    let http: HTTPClient
    let policy: RetryPolicy

    /// `environmentKey` is the SDKs' `AWS_ENDPOINT_URL_<SERVICE>` suffix ("CLOUDFORMATION"); that
    /// variable, then `AWS_ENDPOINT_URL`, override `https://<host>`.
    public init(
        name: String, signingName: String, host: String, environmentKey: String, region: String, credentials: AWSCredentials,
        environment: [String: String] = ProcessInfo.processInfo.environment, retryPolicy: RetryPolicy = .fromEnvironment()
    ) {
        self.name = name
        let configured = environment["AWS_ENDPOINT_URL_\(environmentKey)"] ?? environment["AWS_ENDPOINT_URL"]
        endpoint = configured.flatMap(URL.init(string:)) ?? URL(string: "https://\(host)")!
        self.region = region
        signer = SigV4Signer(credentials: credentials, region: region, service: signingName)
        http = AWSHTTP.client
        policy = retryPolicy
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    }

    /// A Query-protocol call (CloudFormation, STS, EC2): the form-encoded action, its version and
    /// parameters; the answer's XML. A refusal is thrown as `AWSServiceError`.
    public func query(_ action: String, version: String, _ parameters: [(String, String)] = [], signed: Bool = true) async throws -> XMLTree {
        let form = ([("Action", action), ("Version", version)] + parameters).map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }
            .joined(separator: "&")
        let response = try await send(
            action, method: "POST", path: "/", headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(form.utf8), signed: signed)
        guard let tree = XMLTree.parse(response.body) else {
            throw AWSServiceError(
                service: name, operation: action, status: response.status, code: "MalformedResponse",
                message: "the answer is not XML: \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
        return tree
    }

    /// Sends one request, retrying what AWS's standard mode retries. Non-2xx answers become
    /// `AWSServiceError` with the code and message of the service's error body (XML or JSON).
    public func send(
        _ operation: String, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [], signed: Bool = true,
        timeout: Duration = .seconds(60)
    ) async throws -> Response {
        var attempt = 1
        let started = ContinuousClock.now
        while true {
            do {
                let response = try await once(operation, method: method, path: path, headers: headers, body: body, signed: signed, timeout: timeout)
                guard (200..<300).contains(response.status) else { throw Self.refusal(response, service: name, operation: operation) }
                return response
            } catch let error as CancellationError {
                throw error
            } catch {
                let throttled: Bool
                switch error {
                case let refusal as AWSServiceError:
                    throttled = refusal.status == 429 || RetryPolicy.throttlingCodes.contains(refusal.code)
                    guard throttled || refusal.status >= 500 else { throw refusal }
                case is AWSTransportError: throttled = false
                default: throw error
                }
                let delay = policy.delay(after: attempt, throttled: throttled)
                guard attempt < min(policy.maxAttempts, 5), ContinuousClock.now - started + delay <= policy.budget else { throw error }
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    private func once(
        _ operation: String, method: String, path: String, headers extra: [(String, String)], body: [UInt8], signed: Bool, timeout: Duration
    ) async throws -> Response {
        let host = SigV4Signer.hostHeader(endpoint)
        let basePath = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let fullPath = basePath + path
        var headers: [(name: String, value: String)] = [("host", host)] + extra.map { (name: $0.0, value: $0.1) }
        var authorization: String?
        if signed {
            let now = Date()
            headers.append(("x-amz-date", SigV4Signer.timestamps(now).amzDate))
            if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
            let request = SigningRequest(method: method, path: fullPath, headers: headers, payloadHash: SigningRequest.hash(body))
            authorization = signer.sign(request, at: now).authorization
        }
        let encodedPath = SigV4Signer.canonicalPath(fullPath)
        var request = HTTPClientRequest(url: "\(endpoint.scheme ?? "https")://\(host)\(encodedPath)")
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers where name != "host" { request.headers.add(name: name, value: value) }
        if let authorization { request.headers.add(name: "authorization", value: authorization) }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(timeout.components.seconds * 1_000_000_000))
            let collected = try await response.body.collect(upTo: 64 * 1024 * 1024)
            return Response(
                status: Int(response.status.code), headers: response.headers.map { (name: $0.name, value: $0.value) },
                body: Array(collected.readableBytesView))
        } catch {
            throw AWSTransportError(service: name, operation: operation, endpoint: endpoint.absoluteString, detail: "\(error)")
        }
    }

    /// The code and message of an error body: Query's `<ErrorResponse><Error>`, EC2's
    /// `<Response><Errors><Error>`, or a JSON protocol's `__type`/`message`.
    static func refusal(_ response: Response, service: String, operation: String) -> AWSServiceError {
        if let tree = XMLTree.parse(response.body), let code = tree.first("Code")?.text {
            return AWSServiceError(
                service: service, operation: operation, status: response.status, code: code, message: tree.first("Message")?.text ?? "")
        }
        if let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] {
            let type = (json["__type"] as? String ?? json["Type"] as? String ?? response.header("x-amzn-errortype") ?? "HTTP \(response.status)")
            let code = String(type.split(separator: "#").last.map(String.init) ?? type).split(separator: ":").first.map(String.init) ?? type
            return AWSServiceError(
                service: service, operation: operation, status: response.status, code: code,
                message: json["message"] as? String ?? json["Message"] as? String ?? "")
        }
        return AWSServiceError(
            service: service, operation: operation, status: response.status, code: "HTTP \(response.status)",
            message: String(decoding: response.body.prefix(300), as: UTF8.self))
    }

    /// `application/x-www-form-urlencoded` as the SDKs write it (botocore's `urlencode`): RFC 3986's
    /// unreserved characters kept, a space as `+`, all else percent-encoded. The signature covers the
    /// bytes, so any encoding AWS decodes would do; this one is also what moto re-encodes to check it.
    static func formEncoded(_ value: String) -> String { SigV4Signer.uriEncode(value).replacingOccurrences(of: "%20", with: "+") }
}

/// One HTTP client for every control-plane call of the process: long reads (a Lambda invocation
/// that migrates may take minutes), a short connect.
enum AWSHTTP {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(900))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
