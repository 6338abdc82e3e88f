import AWSSigning
import Foundation
import NIOCore
import S3Client
import TestSupport
import Testing

@Suite("S3 API against moto (signatures checked)")
struct S3ClientTests {
    func client(secret: String? = nil) throws -> S3Client {
        try MotoServer.shared.get().client(secret: secret)
    }

    func bucket() -> String { "raw-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func listsEveryPageAndStreamsObjectsBack() async throws {
        let s3 = try client(), name = bucket()
        try await s3.createBucket(name)
        // moto's own signature check disagrees with botocore too on keys with `+`, `(` or non-ASCII
        // letters (it re-encodes the path its own way); those are covered by the botocore test.
        let keys = [
            "events/2026/11/26/09/a.jsonl", "events/2026/11/26/09/b c.jsonl", "events/2026/11/26/10/c d-1.jsonl",
            "events/2026/11/26/10/d.jsonl", "other/x.jsonl",
        ]
        for (index, key) in keys.enumerated() {
            try await s3.putObject(bucket: name, key: key, body: Array("{\"n\":\(index)}\n".utf8))
        }
        // Two per page: two pages for four objects under the prefix. (moto also miscomputes the
        // signature of a query holding an encoded `/`, boto3's included, so the prefix here has none.)
        let listed = try await s3.listObjects(bucket: name, prefix: "events", pageSize: 2)
        #expect(listed.map(\.key) == keys.filter { $0.hasPrefix("events/") }.sorted())
        #expect(listed.allSatisfy { $0.size == 8 && $0.etag.count == 32 })
        var bytes: [UInt8] = []
        let read = try await s3.getObject(bucket: name, key: "events/2026/11/26/10/c d-1.jsonl") { chunk in
            bytes += chunk.readableBytesView
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"n\":2}\n")
        #expect(read.size == 8)
        #expect(read.etag == listed.first { $0.key.hasSuffix("c d-1.jsonl") }?.etag)
        // putObject stored its SHA-256 as the additional checksum; the read was checked against it.
        #expect(read.verification == .verified(.sha256))
    }

    @Test func aWrongSecretIsRefused() async throws {
        let good = try client(), name = bucket()
        try await good.createBucket(name)
        let bad = try client(secret: "not-the-secret-key-at-all")
        let error = await #expect(throws: S3Error.self) { try await bad.listObjects(bucket: name, prefix: "") }
        #expect(error?.status == 403)
        #expect(error?.code == "SignatureDoesNotMatch")
    }

    @Test func aMissingObjectIsNoSuchKey() async throws {
        let s3 = try client(), name = bucket()
        try await s3.createBucket(name)
        let error = await #expect(throws: S3Error.self) { try await s3.getObject(bucket: name, key: "nope.jsonl") { _ in } }
        #expect(error?.status == 404)
        #expect(error?.code == "NoSuchKey")
    }

    @Test func credentialsComeFromTheEnvironmentThenTheProfile() throws {
        let fromEnvironment = AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"])
        #expect(fromEnvironment == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s", sessionToken: "t"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-credentials-\(UUID().uuidString)")
        try Data(
            "[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n\n[etl]\naws_access_key_id=A2\naws_secret_access_key=S2\naws_session_token = T2\n"
                .utf8
        ).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(
            AWSCredentials.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": file.path]) == AWSCredentials(accessKeyID: "A1", secretAccessKey: "S1"))
        #expect(
            AWSCredentials.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "etl"])
                == AWSCredentials(accessKeyID: "A2", secretAccessKey: "S2", sessionToken: "T2"))
        #expect(AWSCredentials.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"]) == nil)
    }
}
