import AWSSigning
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One object of a listing.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// Without the quotes S3 puts around it.
    public var etag: String
    public var lastModified: String
}

/// What a GetObject read, checked: every byte of the listed size, and how its content was verified.
public struct ObjectRead: Sendable, Equatable {
    public var etag: String
    public var size: Int64
    public var verification: Verification
    /// Ranged GETs that continued a body cut off mid-way.
    public var resumptions = 0
}

/// The S3 API over HTTP with path-style addressing, so any S3-compatible endpoint works (MinIO,
/// moto, Ceph) as well as AWS. Every request is signed with SigV4 and retried as AWS's SDKs retry
/// (`RetryPolicy`); object reads are checked against S3's size and checksums and resume where a
/// cut-off body stopped.
public final class S3Client: Sendable {
    /// Connect short, so a dead endpoint is known in seconds; read per chunk, so a large object may
    /// take as long as it takes while a stalled one does not; the response head within `response`.
    public struct Timeouts: Sendable, Hashable {
        public var connect: Duration = .seconds(5)
        public var read: Duration = .seconds(30)
        public var response: Duration = .seconds(60)
        public init() {}
    }

    public let endpoint: URL
    public let region: String
    let signer: SigV4Signer
    let http: HTTPClient
    let retryPolicy: RetryPolicy
    let timeouts: Timeouts
    let quota = RetryQuota()
    /// Told of every retry, with the operation and the reason (so a struggling endpoint is never silent).
    let onRetry: (@Sendable (String) -> Void)?

    /// `endpoint` defaults to `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then AWS's regional endpoint.
    public init(
        endpoint: URL? = nil, region: String, credentials: AWSCredentials, retryPolicy: RetryPolicy = .standard,
        timeouts: Timeouts = Timeouts(), onRetry: (@Sendable (String) -> Void)? = nil
    ) {
        let environment = ProcessInfo.processInfo.environment
        let configured = environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        self.endpoint = endpoint ?? configured.flatMap(URL.init(string:)) ?? URL(string: "https://s3.\(region).amazonaws.com")!
        self.region = region
        signer = SigV4Signer(credentials: credentials, region: region, service: "s3")
        http = HTTPClients.client(for: timeouts)
        self.retryPolicy = retryPolicy
        self.timeouts = timeouts
        self.onRetry = onRetry
    }

    // MARK: - Operations

    /// Every object under `prefix`, following ListObjectsV2's continuation tokens.
    public func listObjects(bucket: String, prefix: String, pageSize: Int = 1000) async throws -> [S3Object] {
        var objects: [S3Object] = []
        try await forEachListingPage(bucket: bucket, prefix: prefix, pageSize: pageSize) { objects += $0 }
        return objects
    }

    /// The listing one page at a time, in key order, so memory does not grow with the object count.
    /// Each page, its body included, is retried as one request.
    public func forEachListingPage(
        bucket: String, prefix: String, pageSize: Int = 1000,
        _ body: ([S3Object]) async throws -> Void
    ) async throws {
        let operation = S3Operation(name: "ListObjectsV2", bucket: bucket, prefix: prefix, endpoint: endpoint.absoluteString)
        var token: String?
        repeat {
            var query = [(name: "list-type", value: "2"), (name: "max-keys", value: String(pageSize)), (name: "prefix", value: prefix)]
            if let token { query.append((name: "continuation-token", value: token)) }
            let page = try await retrying(operation) { [query] in
                let response = try await self.send("GET", operation, query: query)
                return try ListingParser.parse(try await self.collect(response, operation), operation: operation)
            }
            try await body(page.objects)
            token = page.truncated ? page.nextToken : nil
        } while token != nil
    }

    /// Streams an object's bytes to `consume`, chunk by chunk, so memory stays bounded, and checks
    /// them before returning: the byte count against the response's `Content-Length` and, when given,
    /// the listed size; the content against S3's full-object checksum (asked for with
    /// `x-amz-checksum-mode: ENABLED`) or else the ETag where it is an MD5. With `expectedETag`, only
    /// that version is read (`If-Match`). A body cut off mid-way continues with a ranged GET pinned to
    /// the ETag, so `consume` sees every byte exactly once. A mismatch throws `S3IntegrityError`.
    @discardableResult
    public func getObject(
        bucket: String, key: String, expectedETag: String? = nil, expectedSize: Int64? = nil,
        consume: (ByteBuffer) async throws -> Void
    ) async throws -> ObjectRead {
        let operation = self.operation("GetObject", bucket: bucket, key: key)
        var state = RetryState(policy: retryPolicy, quota: quota, operation: operation, onRetry: onRetry)
        var progress = ObjectReadProgress(operation: operation, expectedETag: expectedETag, expectedSize: expectedSize)
        while true {
            do {
                let response = try await send("GET", operation, headers: progress.requestHeaders)
                var skip = try progress.begin(response)
                var bodyBytes: Int64 = 0
                var body = response.body.makeAsyncIterator()
                while true {
                    // The body's own failures are the transport's (resumable); `consume`'s are the caller's.
                    let next: ByteBuffer?
                    do { next = try await body.next() } catch let error as CancellationError { throw error } catch {
                        throw S3TransportError(error, operation: operation, timeouts: timeouts)
                    }
                    guard var chunk = next else { break }
                    bodyBytes += Int64(chunk.readableBytes)
                    if skip > 0 {
                        let drop = Int(min(skip, Int64(chunk.readableBytes)))
                        chunk.moveReaderIndex(forwardBy: drop)
                        skip -= Int64(drop)
                    }
                    guard chunk.readableBytes > 0 else { continue }
                    try progress.take(chunk)
                    try await consume(chunk)
                }
                if let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }), bodyBytes != length {
                    throw S3TransportError(S3TransportError.cutShort(read: bodyBytes, of: length), operation: operation, timeouts: timeouts)
                }
                break
            } catch let error as CancellationError {
                throw error
            } catch {
                // A failure of the transport or the service resumes from the next byte; one of
                // `consume`, or an integrity failure once bytes were handed on, is final.
                try await state.backOff(after: error)
            }
        }
        state.succeeded()
        return try progress.finish()
    }

    /// Stores `body`, with its SHA-256 as the additional checksum, so S3 refuses a body altered on
    /// the way in and a later read can verify it.
    public func putObject(bucket: String, key: String, body: [UInt8]) async throws {
        let operation = self.operation("PutObject", bucket: bucket, key: key)
        var checksum = RunningChecksum(.sha256)
        body.withUnsafeBytes { checksum.update($0) }
        let headers = [(name: "x-amz-sdk-checksum-algorithm", value: "SHA256"), (name: "x-amz-checksum-sha256", value: checksum.finalize())]
        _ = try await retrying(operation) { try await self.collect(try await self.send("PUT", operation, headers: headers, body: body), operation) }
    }

    /// DeleteObject: S3 answers 204 whether or not the key was there.
    public func deleteObject(bucket: String, key: String) async throws {
        let operation = self.operation("DeleteObject", bucket: bucket, key: key)
        _ = try await retrying(operation) { try await self.collect(try await self.send("DELETE", operation), operation) }
    }

    /// HeadObject: whether `key` is in `bucket` (404 is no; any other refusal is thrown).
    public func objectExists(bucket: String, key: String) async throws -> Bool {
        let operation = self.operation("HeadObject", bucket: bucket, key: key)
        do {
            return try await retrying(operation) {
                let response = try await self.send("HEAD", operation)
                for try await _ in response.body {}
                return true
            }
        } catch let error as S3Error where error.status == 404 {
            return false
        }
    }

    public func createBucket(_ bucket: String) async throws {
        var body: [UInt8] = []
        if region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
        }
        let operation = self.operation("CreateBucket", bucket: bucket, key: nil)
        _ = try await retrying(operation) { [body] in try await self.collect(try await self.send("PUT", operation, body: body), operation) }
    }

    // MARK: - Transport

    func operation(_ name: String, bucket: String, key: String?) -> S3Operation {
        S3Operation(name: name, bucket: bucket, key: key, endpoint: endpoint.absoluteString)
    }

    /// Runs `attempt` until it succeeds or the retry policy gives up.
    func retrying<T>(_ operation: S3Operation, _ attempt: () async throws -> T) async throws -> T {
        var state = RetryState(policy: retryPolicy, quota: quota, operation: operation, onRetry: onRetry)
        while true {
            do {
                let value = try await attempt()
                state.succeeded()
                return value
            } catch let error as CancellationError {
                throw error
            } catch {
                try await state.backOff(after: error)
            }
        }
    }

    /// Signs and sends one request, once. A non-2xx answer becomes an `S3Error`, a failure to reach
    /// the endpoint an `S3TransportError`.
    func send(
        _ method: String, _ operation: S3Operation, query: [(name: String, value: String)] = [],
        headers extra: [(name: String, value: String)] = [], body: [UInt8] = []
    ) async throws -> HTTPClientResponse {
        let basePath = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let path = basePath + "/" + operation.bucket + (operation.key.map { "/" + $0 } ?? "")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(
                try request(method, path: path, query: query, headers: extra, body: body), timeout: .nanoseconds(timeouts.response.nanoseconds))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw S3TransportError(error, operation: operation, timeouts: timeouts)
        }
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await collect(response, operation)) ?? []
            throw Self.error(response.status.code, body: body, resource: operation.description)
        }
        return response
    }

    func request(
        _ method: String, path: String, query: [(name: String, value: String)], headers extra: [(name: String, value: String)],
        body: [UInt8]
    ) throws -> HTTPClientRequest {
        let host = SigV4Signer.hostHeader(endpoint)
        // One instant for the header and the signature: two clock reads can straddle a second.
        let now = Date()
        let (amzDate, _) = SigV4Signer.timestamps(now)
        let payloadHash = SigningRequest.hash(body)
        var headers: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extra
        let signed = signer.sign(SigningRequest(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash), at: now)
        let queryString = SigV4Signer.canonicalQuery(query)
        var url = "\(endpoint.scheme ?? "https")://\(host)\(SigV4Signer.canonicalPath(path))"
        if !queryString.isEmpty { url += "?" + queryString }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "authorization", value: signed.authorization)
        if !body.isEmpty || method == "PUT" {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// A whole (small) response body; a body cut short is a transport failure, retried with the request.
    func collect(_ response: HTTPClientResponse, _ operation: S3Operation) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await chunk in response.body { bytes += chunk.readableBytesView }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw S3TransportError(error, operation: operation, timeouts: timeouts)
        }
        if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }), length != bytes.count {
            throw S3TransportError(S3TransportError.cutShort(read: Int64(bytes.count), of: Int64(length)), operation: operation, timeouts: timeouts)
        }
        return bytes
    }

    static func error(_ status: UInt, body: [UInt8], resource: String) -> S3Error {
        let fields = ListingParser.fields(body, names: ["Code", "Message"])
        let code = fields["Code"] ?? (status == 412 ? "PreconditionFailed" : "HTTP\(status)")
        var message = fields["Message"] ?? ""
        if status == 412 { message = "the object changed after it was listed" + (message.isEmpty ? "" : " (\(message))") }
        return S3Error(status: Int(status), code: code, message: message, resource: resource)
    }

    static func unquoted(_ etag: String) -> String {
        etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count >= 2 ? String(etag.dropFirst().dropLast()) : etag
    }
}

extension S3TransportError {
    /// A body that ended before its `Content-Length`: the connection closed early.
    struct CutShort: Error, CustomStringConvertible {
        var read: Int64
        var of: Int64
        var description: String { "the body ended after \(read) of its \(of) bytes" }
    }

    static func cutShort(read: Int64, of length: Int64) -> Error { CutShort(read: read, of: length) }
}

/// One HTTP client per timeout setting, for the life of the process (as `HTTPClient.shared` is).
/// Connection attempts are not retried inside the pool: a refused connection comes back at once, to
/// the retry policy that names it and counts it.
enum HTTPClients {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var clients: [S3Client.Timeouts: HTTPClient] = [:]

    static func client(for timeouts: S3Client.Timeouts) -> HTTPClient {
        lock.lock()
        defer { lock.unlock() }
        if let client = clients[timeouts] { return client }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(timeouts.connect.nanoseconds), read: .nanoseconds(timeouts.read.nanoseconds))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        clients[timeouts] = client
        return client
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// ListObjectsV2 and error bodies, read with Foundation's XMLParser.
enum ListingParser {
    struct Page {
        var objects: [S3Object] = []
        var truncated = false
        var nextToken: String?
    }

    /// A listing that does not parse was cut or altered on the way (`MalformedListing`, retried).
    static func parse(_ body: [UInt8], operation: S3Operation) throws -> Page {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(body))
        parser.delegate = delegate
        func malformed(_ message: String) -> S3Error {
            S3Error(status: 200, code: "MalformedListing", message: message, resource: operation.description)
        }
        guard parser.parse() else { throw malformed(parser.parserError.map { "\($0)" } ?? "unreadable XML") }
        // Foundation's parser accepts a document cut off mid-way: a page counts only when it closes,
        // holds as many objects as it says, and has a token wherever it says more follow.
        guard delegate.closed else { throw malformed("the listing ends before </ListBucketResult>") }
        if let count = delegate.fields["KeyCount"].flatMap(Int.init), count != delegate.page.objects.count + delegate.commonPrefixes {
            throw malformed("the listing says KeyCount \(count) but holds \(delegate.page.objects.count) keys")
        }
        if delegate.page.truncated, delegate.page.nextToken == nil { throw malformed("a truncated listing without its NextContinuationToken") }
        return delegate.page
    }

    /// Top-level text fields by name (an error's Code and Message).
    static func fields(_ body: [UInt8], names: Set<String>) -> [String: String] {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(body))
        parser.delegate = delegate
        _ = parser.parse()
        return delegate.fields.filter { names.contains($0.key) }
    }

    final class Delegate: NSObject, XMLParserDelegate {
        var page = Page()
        var fields: [String: String] = [:]
        var closed = false
        var commonPrefixes = 0
        private var text = ""
        private var current: S3Object?

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
        ) {
            text = ""
            if name == "Contents" { current = S3Object(key: "", size: 0, etag: "", lastModified: "") }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if current != nil {
                switch name {
                case "Key": current!.key = text
                case "Size": current!.size = Int64(text) ?? 0
                case "ETag": current!.etag = S3Client.unquoted(text)
                case "LastModified": current!.lastModified = text
                case "Contents":
                    page.objects.append(current!)
                    current = nil
                default: break
                }
                return
            }
            switch name {
            case "IsTruncated": page.truncated = text == "true"
            case "NextContinuationToken": page.nextToken = text
            case "ListBucketResult": closed = true
            case "CommonPrefixes": commonPrefixes += 1
            default: fields[name] = text
            }
        }
    }
}
