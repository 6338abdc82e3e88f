import AWSSigning
import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import S3Client

/// Retries, against a small HTTP server that fails on purpose (moto cannot be told to).
@Suite("S3 retries", .serialized)
struct RetryTests {
    /// Answers `GET /flaky/object` with 503 SlowDown twice, then 200; `/missing/object` with 404
    /// NoSuchKey; and counts requests per path at `/count/<path>`.
    static let script = """
        import http.server, sys, collections, hashlib
        counts = collections.Counter()
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def reply(self, status, body, content_type="application/xml"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", '"%s"' % hashlib.md5(data).hexdigest())
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self):
                if self.path.startswith("/count/"):
                    return self.reply(200, str(counts[self.path[len("/count"):]]), "text/plain")
                counts[self.path] += 1
                if self.path == "/slow/object":
                    return self.reply(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
                if self.path == "/flaky/object":
                    if counts[self.path] <= 2:
                        return self.reply(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
                    return self.reply(200, "payload", "application/octet-stream")
                return self.reply(404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Starts the stub; it writes its port to a file, which is polled without blocking a thread of
    /// the cooperative pool (the HTTP client's continuations need them).
    static func withServer(_ body: (URL) async throws -> Void) async throws {
        let portFile = "/tmp/sluice-stub-\(getpid())-\(UUID().uuidString.prefix(8))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try pythonExecutable())
        process.arguments = [
            "-c",
            script.replacingOccurrences(
                of: "print(server.server_address[1], flush=True)",
                with: "open(sys.argv[1], 'w').write(str(server.server_address[1]))"), portFile,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(atPath: portFile)
        }
        var port: Int?
        for _ in 0..<100 where port == nil {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await body(URL(string: "http://127.0.0.1:\(try #require(port, "the stub server did not start"))")!)
    }

    /// `attempts`, and a budget no loaded CI machine reaches: these tests count attempts, and one
    /// answer has been seen to take minutes while the other suites ran beside them.
    static func policy(attempts: Int) -> RetryPolicy {
        var policy = RetryPolicy()
        policy.maxAttempts = attempts
        policy.budget = .seconds(600)
        return policy
    }

    /// How many times the stub was asked for `path`.
    static func count(_ endpoint: URL, _ path: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: endpoint.absoluteString + "/count" + path), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1024)
        return Int(String(buffer: body)) ?? -1
    }

    @Test func throttlingIsRetriedWithBackoffThenSucceeds() async throws {
        try await Self.withServer { (endpoint: URL) async throws in
            let s3 = S3Client(
                endpoint: endpoint, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S"),
                retryPolicy: Self.policy(attempts: 4))
            var bytes: [UInt8] = []
            let read = try await s3.getObject(bucket: "flaky", key: "object") { bytes += $0.readableBytesView }
            #expect(String(decoding: bytes, as: UTF8.self) == "payload")
            #expect(read.etag == "321c3cf486ed509164edec1e1981fec8")
            #expect(read.verification == .verified(.md5))
            #expect(try await Self.count(endpoint, "/flaky/object") == 3)
        }
    }

    @Test func aClientErrorIsNotRetried() async throws {
        try await Self.withServer { (endpoint: URL) async throws in
            let s3 = S3Client(
                endpoint: endpoint, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S"),
                retryPolicy: Self.policy(attempts: 4))
            let error = await #expect(throws: S3Error.self) { try await s3.getObject(bucket: "missing", key: "object") { _ in } }
            #expect(error?.code == "NoSuchKey")
            #expect(try await Self.count(endpoint, "/missing/object") == 1)
        }
    }

    @Test func givingUpReportsTheLastError() async throws {
        try await Self.withServer { (endpoint: URL) async throws in
            let s3 = S3Client(
                endpoint: endpoint, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S"),
                retryPolicy: Self.policy(attempts: 2))
            let error = await #expect(throws: S3Error.self) { try await s3.getObject(bucket: "flaky", key: "object") { _ in } }
            #expect(error?.code == "SlowDown")
            #expect(error?.status == 503)
        }
    }

    @Test func backoffIsFullJitterUnderTheStandardCeilings() {
        let policy = RetryPolicy.standard
        for attempt in 1...12 {
            for _ in 0..<200 {
                let transient = policy.delay(after: attempt, throttled: false)
                let throttled = policy.delay(after: attempt, throttled: true)
                #expect(transient >= .zero && transient <= min(.milliseconds(50) * (1 << (attempt - 1)), .seconds(20)))
                #expect(throttled >= .zero && throttled <= min(.seconds(1) * (1 << (attempt - 1)), .seconds(20)))
            }
        }
        // Full jitter: the waits spread over the whole range, not bunched at its top.
        let waits = (0..<1000).map { _ in policy.delay(after: 3, throttled: true).seconds }
        #expect(waits.min()! < 0.5 && waits.max()! > 3.5)
    }

    @Test func theRetryQuotaRunsOutAndSuccessesRefillIt() {
        let quota = RetryQuota()
        var retries = 0
        while quota.take(RetryQuota.transientCost) { retries += 1 }
        #expect(retries == RetryQuota.capacity / RetryQuota.transientCost)
        #expect(!quota.take(RetryQuota.throttlingCost) || RetryQuota.capacity % RetryQuota.transientCost >= RetryQuota.throttlingCost)
        quota.giveBack(RetryQuota.transientCost)
        #expect(quota.take(RetryQuota.transientCost))
    }

    @Test func aThrottleLongerThanTheBudgetFailsWithinIt() async throws {
        try await Self.withServer { (endpoint: URL) async throws in
            var policy = RetryPolicy()
            policy.budget = .seconds(2)
            policy.throttlingBaseDelay = .milliseconds(400)
            let notes = Notes()
            let s3 = S3Client(
                endpoint: endpoint, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S"),
                retryPolicy: policy, onRetry: notes.add)
            let started = ContinuousClock.now
            // /slow/object throttles for ever.
            let error = await #expect(throws: S3Error.self) { try await s3.getObject(bucket: "slow", key: "object") { _ in } }
            #expect(error?.code == "SlowDown")
            // The waits it chose fit the budget, and the budget (not the attempt limit) ended it. The
            // wall clock is only checked for a hang: a loaded machine makes each request slow.
            let waits = notes.all.compactMap { note in note.split(separator: " ").suffix(2).first.flatMap { Double($0) } }
            // (On an idle machine it waits several times; on a loaded one a single slow answer can use the budget up.)
            #expect(waits.count == notes.all.count)
            #expect(waits.reduce(0, +) <= 2.0 + 0.05 * Double(waits.count), "\(notes.all)")
            #expect(waits.count + 1 < policy.maxAttempts)
            // A hang would be minutes (the request timeout); 21 s was seen on two busy cores.
            #expect(ContinuousClock.now - started < .seconds(60))
            #expect(try await Self.count(endpoint, "/slow/object") == waits.count + 1)
        }
    }
}
