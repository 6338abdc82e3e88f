import AsyncHTTPClient
import NIOCore

/// One object's read across the responses it may take (the first, then ranged GETs after a cut):
/// what it must be checked against, learnt from the first response, and how much was handed on.
struct ObjectReadProgress {
    let operation: String
    let expectedSize: Int64?
    private(set) var etag: String?
    private(set) var received: Int64 = 0
    private var total: Int64?
    private var checksum: (algorithm: ChecksumAlgorithm, expected: String, running: RunningChecksum)?
    private var unverifiedReason = ""
    private var resumptions = 0

    init(operation: S3Operation, expectedETag: String?, expectedSize: Int64?) {
        self.operation = operation.description
        etag = expectedETag
        self.expectedSize = expectedSize
    }

    /// The listed version only, with its checksums, from the next byte on.
    var requestHeaders: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("x-amz-checksum-mode", "ENABLED")]
        if let etag { headers.append(("if-match", "\"\(etag)\"")) }
        if received > 0 { headers.append(("range", "bytes=\(received)-")) }
        return headers
    }

    /// Takes a response's head; returns how many bytes at the start of its body were handed on
    /// already (an endpoint that ignored the range sends them again).
    mutating func begin(_ response: HTTPClientResponse) throws -> Int64 {
        let length = response.headers.first(name: "content-length").flatMap { Int64($0) }
        if received > 0, response.status.code == 206 {
            let range = response.headers.first(name: "content-range") ?? ""
            guard range.hasPrefix("bytes \(received)-"), let length, received + length == total else {
                throw failure("the resumed response covers '\(range)', not bytes \(received)- of \(total ?? 0)")
            }
            resumptions += 1
            return 0
        }
        guard let length else { throw failure("the response has no Content-Length", inPlace: received == 0) }
        if let expectedSize, length != expectedSize {
            throw failure("the response is \(length) bytes long but the object was listed with \(expectedSize)", inPlace: received == 0)
        }
        guard received == 0 else { return received }
        let headers = response.headers.map { (name: $0.name, value: $0.value) }
        let responseETag = response.headers.first(name: "etag").map(S3Client.unquoted) ?? ""
        total = length
        etag = etag ?? responseETag
        if let plan = Verification.plan(headers: headers, etag: responseETag) {
            checksum = (plan.algorithm, plan.expected, RunningChecksum(plan.algorithm))
        } else {
            unverifiedReason = Verification.reason(headers: headers, etag: responseETag)
        }
        return 0
    }

    /// Counts and checksums a chunk about to be handed on.
    mutating func take(_ chunk: ByteBuffer) throws {
        guard received + Int64(chunk.readableBytes) <= total ?? .max else { throw failure("the body is longer than its \(total ?? 0) bytes") }
        chunk.withUnsafeReadableBytes { checksum?.running.update($0) }
        received += Int64(chunk.readableBytes)
    }

    /// Every byte of the object, and the checksum S3 holds, or an integrity failure.
    func finish() throws -> ObjectRead {
        let size = total ?? received
        guard received == size else { throw failure("read \(received) bytes of \(size)") }
        guard let checksum else {
            return ObjectRead(etag: etag ?? "", size: size, verification: .unverified(reason: unverifiedReason), resumptions: resumptions)
        }
        let actual = checksum.running.finalize()
        guard actual == checksum.expected else {
            throw failure("its \(checksum.algorithm.rawValue) is \(actual) but S3 has \(checksum.expected) for it: the bytes were altered on the way")
        }
        return ObjectRead(etag: etag ?? "", size: size, verification: .verified(checksum.algorithm), resumptions: resumptions)
    }

    /// `inPlace`: nothing was handed on yet, so the same request may simply be sent again.
    private func failure(_ problem: String, inPlace: Bool = false) -> S3IntegrityError {
        S3IntegrityError(operation: operation, problem: problem, retryableInPlace: inPlace)
    }
}
