import AWSSigning
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import S3Client

/// What S3Client reads is what S3 holds, or an error: moto behind a fault-injecting proxy that cuts,
/// flips, resets, stalls and throttles its answers.
@Suite("S3 integrity and faults (moto behind a fault proxy)", .serialized)
struct IntegrityTests {
    static let payload: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }

    /// A bucket with `payload` under `key` (single part, MD5 ETag and SHA-256 checksum), and a proxy.
    func setUp(_ key: String = "events/object.bin") async throws -> (moto: MotoServer.Instance, proxy: FaultProxy, bucket: String, listed: S3Object) {
        let moto = try MotoServer.shared.get()
        let bucket = "integrity-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let direct = moto.client()
        try await direct.createBucket(bucket)
        try await direct.putObject(bucket: bucket, key: key, body: Self.payload)
        let listed = try #require(try await direct.listObjects(bucket: bucket, prefix: "events").first)
        return (moto, try await FaultProxy.start(upstream: moto.endpoint), bucket, listed)
    }

    func read(_ client: S3Client, _ bucket: String, _ object: S3Object) async throws -> (ObjectRead, [UInt8]) {
        var bytes: [UInt8] = []
        let read = try await client.getObject(bucket: bucket, key: object.key, expectedETag: object.etag, expectedSize: object.size) {
            bytes += $0.readableBytesView
        }
        return (read, bytes)
    }

    /// Short waits and few attempts; a budget wide enough that a loaded machine's slow requests do
    /// not end a retry these tests expect to happen.
    static func quick() -> RetryPolicy {
        var policy = RetryPolicy()
        policy.maxAttempts = 5
        // CI runs the suites side by side on two cores: one moto request has been seen to take minutes.
        policy.budget = .seconds(600)
        policy.transientBaseDelay = .milliseconds(10)
        policy.throttlingBaseDelay = .milliseconds(50)
        return policy
    }

    /// Timeouts no loaded machine reaches, for the tests that are not about timeouts.
    static let patient: S3Client.Timeouts = {
        var timeouts = S3Client.Timeouts()
        timeouts.connect = .seconds(60)
        timeouts.read = .seconds(300)
        timeouts.response = .seconds(600)
        return timeouts
    }()

    @Test func aShortBodyWithAMatchingLengthIsNeverTakenForTheObject() async throws {
        let (moto, proxy, bucket, object) = try await setUp()
        let client = moto.client(endpoint: proxy.endpoint, retryPolicy: Self.quick(), timeouts: Self.patient)
        // Once: the length disagrees with the listing before a byte is used, so the request is sent again.
        try await proxy.inject([["op": "get", "kind": "truncate", "times": 1]])
        let (read, bytes) = try await self.read(client, bucket, object)
        #expect(bytes == Self.payload)
        #expect(read.verification == .verified(.sha256))
        // Every time: an integrity error naming the operation, the object and the endpoint.
        try await proxy.inject([["op": "get", "kind": "truncate", "times": 1000]])
        let error = await #expect(throws: S3IntegrityError.self) { try await self.read(client, bucket, object) }
        #expect(error?.description.contains("GetObject s3://\(bucket)/events/object.bin at \(proxy.endpoint.absoluteString)") == true)
        #expect(error?.description.contains("150000 bytes long but the object was listed with 300000") == true)
        // Without a listing to compare with, the checksum still finds it.
        try await proxy.inject([["op": "get", "kind": "truncate", "times": 1000]])
        let unlisted = await #expect(throws: S3IntegrityError.self) { try await client.getObject(bucket: bucket, key: object.key) { _ in } }
        #expect(unlisted?.problem.contains("sha256") == true)
    }

    /// SHA-256 as putObject stores it, CRC32 as boto3 adds by default, and the ETag's MD5 where no
    /// additional checksum was uploaded.
    @Test(arguments: [ChecksumAlgorithm.sha256, .crc32, .md5])
    func flippedBitsAreFound(by algorithm: ChecksumAlgorithm) async throws {
        let (moto, proxy, bucket, _) = try await setUp()
        let key = "events/plain.bin"
        switch algorithm {
        case .md5: try uploadWithBoto(moto, bucket: bucket, key: key, size: 300_000, extra: "", checksums: false)
        case .crc32: try uploadWithBoto(moto, bucket: bucket, key: key, size: 300_000, extra: "")
        default: try await moto.client().putObject(bucket: bucket, key: key, body: Self.payload)
        }
        // moto miscomputes the signature of a listing prefix holding "/" (see S3ClientTests): list "events".
        let object = try #require(try await moto.client().listObjects(bucket: bucket, prefix: "events").first { $0.key == key })
        let client = moto.client(endpoint: proxy.endpoint, retryPolicy: Self.quick(), timeouts: Self.patient)
        try await proxy.inject([["op": "get", "kind": "bitflip", "bits": 5, "times": 1]])
        let error = await #expect(throws: S3IntegrityError.self) { try await self.read(client, bucket, object) }
        #expect(error?.problem.contains("its \(algorithm.rawValue) is") == true, "\(String(describing: error))")
        #expect(error?.retryableInPlace == false, "bytes were handed on: the reader must start over")
        let (read, _) = try await self.read(client, bucket, object)
        #expect(read.verification == .verified(algorithm))
    }

    @Test func aMultipartObjectIsVerifiedByItsFullObjectCRC64NVME() async throws {
        let (moto, proxy, bucket, _) = try await setUp()
        // Three parts, CRC-64/NVME over the whole object (what S3 now keeps by default); moto computes
        // it with awscrt, an implementation independent of ours.
        try uploadWithBoto(moto, bucket: bucket, key: "events/multipart.bin", size: 11 << 20, extra: ", ExtraArgs={'ChecksumAlgorithm': 'CRC64NVME'}")
        let object = try #require(try await moto.client().listObjects(bucket: bucket, prefix: "events").first { $0.key == "events/multipart.bin" })
        #expect(object.etag.hasSuffix("-3"))
        let client = moto.client(endpoint: proxy.endpoint, retryPolicy: Self.quick(), timeouts: Self.patient)
        let (read, bytes) = try await self.read(client, bucket, object)
        #expect(read.verification == .verified(.crc64nvme))
        #expect(bytes.count == 11 << 20)
        try await proxy.inject([["op": "get", "kind": "bitflip", "bits": 1, "times": 1]])
        let error = await #expect(throws: S3IntegrityError.self) { try await self.read(client, bucket, object) }
        #expect(error?.problem.contains("crc64nvme") == true)
        // Composite CRC32 of three parts: nothing covers the bytes as a whole; said, not hidden.
        try uploadWithBoto(moto, bucket: bucket, key: "events/composite.bin", size: 11 << 20, extra: "")
        let composite = try #require(try await moto.client().listObjects(bucket: bucket, prefix: "events").first { $0.key == "events/composite.bin" })
        let (unverified, _) = try await self.read(client, bucket, composite)
        #expect(unverified.verification == .unverified(reason: "uploaded in 3 parts with no full-object checksum (ETag \(composite.etag))"))
    }

    @Test(arguments: ["reset", "stall"])
    func aBodyCutMidWayResumesWithARangedGET(kind: String) async throws {
        let (moto, proxy, bucket, object) = try await setUp()
        var timeouts = S3Client.Timeouts()
        timeouts.read = .seconds(1)
        let notes = Notes()
        let client = moto.client(endpoint: proxy.endpoint, retryPolicy: Self.quick(), timeouts: timeouts, onRetry: notes.add)
        try await proxy.inject([["op": "get", "kind": kind, "after": 100_000, "seconds": 3, "times": 2]])
        let (read, bytes) = try await self.read(client, bucket, object)
        #expect(bytes == Self.payload, "every byte exactly once, in order")
        #expect(read.resumptions == 2)
        #expect(read.verification == .verified(.sha256), "the checksum covers the bytes of all three responses")
        let said = notes.all.joined(separator: "\n")
        #expect(said.contains("GetObject s3://\(bucket)/events/object.bin at \(proxy.endpoint.absoluteString)"))
        #expect(said.contains(kind == "reset" ? "connection reset" : "no bytes for 1 s"), "\(said)")
    }

    @Test func aListingCutMidBodyIsRetriedWholeAndNothingIsLost() async throws {
        let (moto, proxy, bucket, _) = try await setUp()
        let direct = moto.client()
        for index in 0..<25 { try await direct.putObject(bucket: bucket, key: String(format: "events/many/%03d.json", index), body: [123, 125]) }
        let client = moto.client(endpoint: proxy.endpoint, retryPolicy: Self.quick(), timeouts: Self.patient)
        try await proxy.inject([
            ["op": "list", "kind": "reset", "times": 1], ["op": "list", "kind": "truncate", "times": 1],
            ["op": "list", "kind": "status", "status": 500, "code": "InternalError", "times": 1],
        ])
        let listed = try await client.listObjects(bucket: bucket, prefix: "events", pageSize: 10)
        #expect(listed.count == 26)
        #expect(try await proxy.injected() == ["reset": 1, "truncate": 1, "status": 1])
    }

    @Test func aThrottleOfTenSecondsIsWaitedOut() async throws {
        let (moto, proxy, bucket, object) = try await setUp()
        let notes = Notes()
        let client = moto.client(endpoint: proxy.endpoint, onRetry: notes.add)  // the standard policy, as the CLI has it
        try await proxy.inject([["op": "any", "kind": "throttle", "seconds": 10]])
        let started = ContinuousClock.now
        let listed = try await client.listObjects(bucket: bucket, prefix: "events")
        let (_, bytes) = try await self.read(client, bucket, object)
        #expect(listed.map(\.key) == [object.key])
        #expect(bytes == Self.payload)
        #expect(ContinuousClock.now - started >= .seconds(9))
        #expect(notes.all.contains { $0.contains("SlowDown (HTTP 503)") })
    }

    @Test func aRefusedConnectionIsSaidAsOneAndFailsWithinTheBudget() async throws {
        let moto = try MotoServer.shared.get()
        let endpoint = URL(string: "http://127.0.0.1:\(refusedPort())")!
        let client = moto.client(endpoint: endpoint, retryPolicy: Self.quick(), timeouts: Self.patient)
        let started = ContinuousClock.now
        let error = await #expect(throws: S3TransportError.self) { try await client.listObjects(bucket: "raw", prefix: "events/") }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error?.kind == .refused)
        let text = error?.description ?? ""
        #expect(text.hasPrefix("ListObjectsV2 s3://raw/events/ at \(endpoint.absoluteString): connection refused"), "\(text)")
        #expect(text.contains("gave up after"), "\(text)")
    }

    @Test func anUnresolvableHostIsADNSFailureAtOnce() async throws {
        let moto = try MotoServer.shared.get()
        let client = moto.client(endpoint: URL(string: "http://no-such-host.invalid:9000")!, retryPolicy: Self.quick())
        let error = await #expect(throws: S3TransportError.self) { try await client.getObject(bucket: "raw", key: "a.json") { _ in } }
        #expect(error?.kind == .dns, "\(String(describing: error))")
        #expect(error?.description.contains("GetObject s3://raw/a.json at http://no-such-host.invalid:9000") == true)
    }

    @Test func anObjectRewrittenAfterItsListingIsNotRead() async throws {
        let (moto, proxy, bucket, object) = try await setUp()
        try await moto.client().putObject(bucket: bucket, key: object.key, body: Array("rewritten".utf8))
        let client = moto.client(endpoint: proxy.endpoint, retryPolicy: Self.quick(), timeouts: Self.patient)
        let error = await #expect(throws: S3Error.self) { try await self.read(client, bucket, object) }
        #expect(error?.status == 412)
        #expect(error?.message.contains("changed after it was listed") == true)
    }

    /// boto3 (moto's own client) uploads in 5 MiB parts above 5 MiB: another implementation of S3's upload.
    func uploadWithBoto(_ moto: MotoServer.Instance, bucket: String, key: String, size: Int, extra: String, checksums: Bool = true) throws {
        let script = """
            import boto3, io, sys
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
            s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="eu-west-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                              config=Config(request_checksum_calculation="\(checksums ? "when_supported" : "when_required")"))
            data = bytes((i * 31 + 7) % 251 for i in range(\(size)))
            config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
            s3.upload_fileobj(io.BytesIO(data), sys.argv[4], sys.argv[5], Config=config\(extra))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try pythonExecutable())
        process.arguments = ["-c", script, moto.endpoint.absoluteString, moto.credentials.accessKeyID, moto.credentials.secretAccessKey, bucket, key]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
    }
}
