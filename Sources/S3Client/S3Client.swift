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

/// A failure the S3 API reported (`NoSuchKey`, `SignatureDoesNotMatch`, …) or the transport gave.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    public var resource: String

    public var description: String { "S3 \(code) (HTTP \(status)) on \(resource): \(message)" }

    /// Worth another try: throttling, server errors, timeouts.
    var isRetryable: Bool { status == 429 || status >= 500 || code == "RequestTimeout" || code == "SlowDown" }
}

/// The S3 API over HTTP with path-style addressing, so any S3-compatible endpoint works (MinIO,
/// moto, Ceph) as well as AWS. Every request is signed with SigV4; transient failures are retried
/// with exponential backoff.
public final class S3Client: Sendable {
    public let endpoint: URL
    public let region: String
    let signer: SigV4Signer
    let http: HTTPClient
    let maxAttempts: Int

    /// `endpoint` defaults to `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then AWS's regional endpoint.
    public init(endpoint: URL? = nil, region: String, credentials: AWSCredentials, httpClient: HTTPClient = .shared, maxAttempts: Int = 5) {
        let environment = ProcessInfo.processInfo.environment
        let configured = environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        self.endpoint = endpoint ?? configured.flatMap(URL.init(string:)) ?? URL(string: "https://s3.\(region).amazonaws.com")!
        self.region = region
        signer = SigV4Signer(credentials: credentials, region: region, service: "s3")
        http = httpClient
        self.maxAttempts = maxAttempts
    }

    // MARK: - Operations

    /// Every object under `prefix`, following ListObjectsV2's continuation tokens.
    public func listObjects(bucket: String, prefix: String, pageSize: Int = 1000) async throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query = [(name: "list-type", value: "2"), (name: "max-keys", value: String(pageSize)), (name: "prefix", value: prefix)]
            if let token { query.append((name: "continuation-token", value: token)) }
            let body = try await collect(try await send("GET", bucket: bucket, key: nil, query: query))
            let page = try ListingParser.parse(body)
            objects += page.objects
            token = page.truncated ? page.nextToken : nil
        } while token != nil
        return objects
    }

    /// Streams an object's bytes to `consume`, chunk by chunk, so memory stays bounded. Returns its
    /// ETag and size as the response gave them.
    @discardableResult
    public func getObject(bucket: String, key: String, consume: (ByteBuffer) async throws -> Void) async throws -> (etag: String, size: Int64) {
        let response = try await send("GET", bucket: bucket, key: key)
        let etag = response.headers.first(name: "etag").map(Self.unquoted) ?? ""
        var size: Int64 = 0
        for try await chunk in response.body {
            size += Int64(chunk.readableBytes)
            try await consume(chunk)
        }
        return (etag, size)
    }

    public func putObject(bucket: String, key: String, body: [UInt8]) async throws {
        _ = try await collect(try await send("PUT", bucket: bucket, key: key, body: body))
    }

    public func createBucket(_ bucket: String) async throws {
        var body: [UInt8] = []
        if region != "us-east-1" {
            body = Array("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        _ = try await collect(try await send("PUT", bucket: bucket, key: nil, body: body))
    }

    // MARK: - Transport

    /// Signs and sends one request, retrying transient failures; a non-2xx answer becomes an S3Error.
    func send(_ method: String, bucket: String, key: String?, query: [(name: String, value: String)] = [], body: [UInt8] = []) async throws -> HTTPClientResponse {
        let basePath = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let path = basePath + "/" + bucket + (key.map { "/" + $0 } ?? "")
        var lastError: Error?
        for attempt in 1...maxAttempts {
            do {
                let response = try await http.execute(try request(method, path: path, query: query, body: body), timeout: .seconds(120))
                guard (200..<300).contains(response.status.code) else {
                    let error = Self.error(response.status.code, body: try await collect(response), resource: path)
                    if error.isRetryable, attempt < maxAttempts {
                        lastError = error
                        try await backoff(attempt)
                        continue
                    }
                    throw error
                }
                return response
            } catch let error as S3Error {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Connection refused or reset, a timeout: the request may be sent again.
                lastError = error
                if attempt < maxAttempts { try await backoff(attempt) }
            }
        }
        throw lastError ?? S3Error(status: 0, code: "Unknown", message: "no attempt was made", resource: path)
    }

    func request(_ method: String, path: String, query: [(name: String, value: String)], body: [UInt8]) throws -> HTTPClientRequest {
        let host = endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "")
        // One instant for the header and the signature: two clock reads can straddle a second.
        let now = Date()
        let (amzDate, _) = SigV4Signer.timestamps(now)
        let payloadHash = SigningRequest.hash(body)
        var headers: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
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

    func backoff(_ attempt: Int) async throws {
        // 100 ms, 200 ms, 400 ms, … with up to half again of jitter, so retries from many runners spread out.
        let base = 100_000_000 * UInt64(1 << min(attempt - 1, 6))
        try await Task.sleep(nanoseconds: base + UInt64.random(in: 0...(base / 2)))
    }

    func collect(_ response: HTTPClientResponse) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in response.body { bytes += chunk.readableBytesView }
        return bytes
    }

    static func error(_ status: UInt, body: [UInt8], resource: String) -> S3Error {
        let fields = ListingParser.fields(body, names: ["Code", "Message"])
        return S3Error(status: Int(status), code: fields["Code"] ?? "HTTP\(status)", message: fields["Message"] ?? "", resource: resource)
    }

    static func unquoted(_ etag: String) -> String {
        etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count >= 2 ? String(etag.dropFirst().dropLast()) : etag
    }
}

/// ListObjectsV2 and error bodies, read with Foundation's XMLParser.
enum ListingParser {
    struct Page {
        var objects: [S3Object] = []
        var truncated = false
        var nextToken: String?
    }

    static func parse(_ body: [UInt8]) throws -> Page {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(body))
        parser.delegate = delegate
        guard parser.parse() else {
            throw S3Error(status: 200, code: "MalformedListing", message: parser.parserError.map { "\($0)" } ?? "unreadable XML", resource: "ListObjectsV2")
        }
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
        private var text = ""
        private var current: S3Object?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
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
            default: fields[name] = text
            }
        }
    }
}
