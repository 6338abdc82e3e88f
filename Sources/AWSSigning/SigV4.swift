import Crypto
import Foundation

/// AWS credentials: from the environment, a profile, or given.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Temporary credentials (STS, a Lambda's role) come with one; it is signed as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// A request to sign: method, path (not percent-encoded), query parameters and headers as sent.
public struct SigningRequest: Sendable {
    public var method: String
    /// The raw path, `/bucket/key with spaces`; the signer encodes it.
    public var path: String
    /// Raw names and values; a name may repeat.
    public var query: [(name: String, value: String)]
    /// Header names in any case; a name may repeat (values are joined with commas, as HTTP does).
    public var headers: [(name: String, value: String)]
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` (S3 over TLS, streaming bodies).
    public var payloadHash: String

    public init(
        method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)],
        payloadHash: String
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    public static func hash(_ body: some DataProtocol) -> String { hex(SHA256.hash(data: body)) }
    public static let emptyPayloadHash = hash(Data())
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
}

/// Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
/// checked against AWS's published test suite and against botocore.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    public struct Signed: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        /// The value of the `Authorization` header.
        public var authorization: String
    }

    /// Signs at `date`. The request must already carry `host` and `x-amz-date` (and, with a session
    /// token, `x-amz-security-token`): what is signed is exactly what is sent.
    public func sign(_ request: SigningRequest, at date: Date) -> Signed {
        let (amzDate, day) = Self.timestamps(date)
        var headers: [String: [String]] = [:]
        for (name, value) in request.headers {
            headers[name.lowercased(), default: []].append(Self.normalizedHeaderValue(value))
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            request.method.uppercased(),
            Self.canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signed(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, authorization: authorization)
    }

    /// Query-string signing (a presigned URL): the X-Amz-* parameters, the session token among them,
    /// are part of what is signed, over the `host` header alone and an empty body. Returns the query,
    /// canonically ordered, with `X-Amz-Signature` last.
    public func presign(
        method: String, host: String, path: String = "/", query: [(name: String, value: String)], expires: Int, at date: Date
    ) -> [(name: String, value: String)] {
        let (amzDate, day) = Self.timestamps(date)
        var parameters =
            query + [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKeyID)/\(day)/\(region)/\(service)/aws4_request"),
                ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
            ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        parameters.sort { ($0.name, $0.value) < ($1.name, $1.value) }
        let signed = sign(
            SigningRequest(method: method, path: path, query: parameters, headers: [("host", host)], payloadHash: SigningRequest.emptyPayloadHash),
            at: date)
        return parameters + [("X-Amz-Signature", signed.signature)]
    }

    /// An RDS IAM authentication token: the presigned `connect` request for `user` at `host:port`,
    /// without its scheme, valid for 15 minutes; the password of a login as that user.
    public func databaseToken(host: String, port: Int, user: String, at date: Date = Date()) -> String {
        let endpoint = "\(host):\(port)"
        let query = presign(
            method: "GET", host: endpoint, query: [("Action", "connect"), ("DBUser", user)], expires: 900, at: date)
        return endpoint + "/?" + Self.canonicalQuery(query.filter { $0.name != "X-Amz-Signature" }) + "&X-Amz-Signature="
            + (query.last?.value ?? "")
    }

    func signingKey(day: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
        }
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] { key = hmac(key, part) }
        return key
    }

    /// `20150830T123600Z` and `20150830`, in UTC.
    public static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// The `host` header for an endpoint: its host, with the port when the URL names one.
    public static func hostHeader(_ endpoint: URL) -> String {
        endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "")
    }

    /// Each segment percent-encoded once (S3's rule; the path is not normalised), slashes kept.
    public static func canonicalPath(_ path: String) -> String {
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
        return encoded.isEmpty ? "/" : encoded
    }

    /// Sorted by encoded name, then encoded value; `name=` for an empty value.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (uriEncode($0.name), uriEncode($0.value)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Trimmed, with runs of spaces inside collapsed to one.
    static func normalizedHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }

    /// RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` as `%XX` of its UTF-8 bytes, upper-case hex.
    public static func uriEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                result.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    private static let unreserved: Set<UInt8> = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)
}

/// Lower-case hex of a digest, built in bytes: Foundation's formatter per byte dominated the
/// executor's profile, where every masked column is hashed.
public func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
