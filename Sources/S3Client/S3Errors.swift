import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request as messages name it: `GetObject s3://raw/events/a.json at https://s3.eu-west-1.amazonaws.com`.
public struct S3Operation: Sendable, CustomStringConvertible {
    public var name: String
    public var bucket: String
    /// The object's key; nil for a bucket's operations.
    public var key: String?
    /// A listing's prefix.
    public var prefix: String?
    public var endpoint: String

    public init(name: String, bucket: String, key: String? = nil, prefix: String? = nil, endpoint: String) {
        self.name = name
        self.bucket = bucket
        self.key = key
        self.prefix = prefix
        self.endpoint = endpoint
    }

    public var description: String { "\(name) s3://\(bucket)/\(key ?? prefix ?? "") at \(endpoint)" }
}

/// A failure the S3 API reported (`NoSuchKey`, `SignatureDoesNotMatch`, …).
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    /// The operation, bucket, key and endpoint.
    public var resource: String

    public var description: String { "S3 \(code) (HTTP \(status)) on \(resource)\(message.isEmpty ? "" : ": \(message)")" }
}

/// The endpoint could not be reached or stopped answering: said as what it was.
public struct S3TransportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case refused = "connection refused"
        case connectTimedOut = "connect timed out"
        case readTimedOut = "read timed out"
        case responseTimedOut = "timed out waiting for the response"
        case reset = "connection reset"
        case closed = "connection closed by the endpoint"
        case dns = "DNS lookup failed"
        case unreachable = "network unreachable"
        case other = "transport error"
    }

    public var operation: String
    public var kind: Kind
    /// The kind with what the system said.
    public var detail: String
    public var attempts = 1
    public var seconds = 0.0

    public var description: String {
        let tries = attempts > 1 ? String(format: " (gave up after %d attempts over %.1f s)", attempts, seconds) : ""
        return "\(operation): \(detail)\(tries)"
    }

    /// Names what NIO and the HTTP client raise; anything else keeps its own words.
    init(_ error: Error, operation: S3Operation, timeouts: S3Client.Timeouts) {
        self.operation = operation.description
        (kind, detail) = Self.classify(error, host: operation.endpoint, timeouts: timeouts)
    }

    static func classify(_ error: Error, host: String, timeouts: S3Client.Timeouts) -> (Kind, String) {
        switch error {
        case let error as CutShort:
            return (.closed, "the endpoint closed the connection early: \(error)")
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return classify(failure.error, host: host, timeouts: timeouts) }
            let lookup = error.dnsAError ?? error.dnsAAAAError
            return (.dns, "DNS lookup of \(error.host) failed\(lookup.map { ": \($0)" } ?? "")")
        case let error as IOError:
            return errno(error.errnoCode, "\(error)")
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: return (.connectTimedOut, "could not connect within \(Int(timeouts.connect.seconds)) s")
            case .readTimeout: return (.readTimedOut, "no bytes for \(Int(timeouts.read.seconds)) s")
            case .deadlineExceeded: return (.responseTimedOut, "no response within \(Int(timeouts.response.seconds)) s")
            case .remoteConnectionClosed: return (.closed, "the endpoint closed the connection before the response ended")
            default: return (.other, "\(error)")
            }
        case let error as ChannelError:
            if case .connectTimeout = error { return (.connectTimedOut, "could not connect within \(Int(timeouts.connect.seconds)) s") }
            if case .eof = error { return (.closed, "the endpoint closed the connection before the response ended") }
            return (.other, "\(error)")
        case let error as HTTPParserError:
            if case .invalidEOFState = error { return (.closed, "the endpoint closed the connection before the body's Content-Length was sent") }
            return (.other, "unreadable HTTP response: \(error)")
        case let error as SocketAddressError:
            return (.dns, "DNS lookup failed: \(error)")
        default:
            return (.other, "\(error)")
        }
    }

    private static func errno(_ code: Int32, _ text: String) -> (Kind, String) {
        switch code {
        case ECONNREFUSED: return (.refused, "connection refused (\(text))")
        case ECONNRESET, EPIPE: return (.reset, "connection reset (\(text))")
        case ETIMEDOUT: return (.connectTimedOut, "timed out (\(text))")
        case ENETUNREACH, EHOSTUNREACH: return (.unreachable, "unreachable (\(text))")
        default: return (.other, text)
        }
    }
}

/// What was read is not what S3 holds: too few or too many bytes, or a checksum that does not match.
/// The object's load is rolled back and read again; it never reaches the manifest.
public struct S3IntegrityError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var problem: String
    /// True while nothing of the response was handed on, so the same request may simply be sent
    /// again; false once bytes were consumed (the reader must start the object over).
    var retryableInPlace: Bool

    public var description: String { "\(operation): \(problem); nothing of it was loaded" }
}
