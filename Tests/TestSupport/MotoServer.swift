import AWSSigning
import Foundation
import S3Client

/// A real S3 API endpoint for the whole test process: moto_server on loopback, started with
/// INITIAL_NO_AUTH_ACTION_COUNT so that after creating a user, its key and its policy, moto checks
/// every request's signature and the caller's permissions. When it cannot start, the tests that need
/// it fail with the reason; they never skip.
public enum MotoServer {
    public struct Instance: Sendable {
        public var endpoint: URL
        public var credentials: AWSCredentials
    }

    public static let shared: Result<Instance, Error> = Result { try start(checkingSignatures: true) }

    /// A second moto that checks no signatures. moto's SigV4 check refuses a query value with a `/`
    /// (botocore's `list_objects_v2(Prefix="events/")` is refused the same way), which every listing
    /// of a pipeline's prefix has; S3ClientTests hold the signing to the checking instance.
    public static let unchecked: Result<Instance, Error> = Result { try start(checkingSignatures: false) }

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    static func start(checkingSignatures: Bool) throws -> Instance {
        let port = 41_000 + Int(getpid() % 9_000) + (checkingSignatures ? 0 : 9_000)
        // The interpreter itself, not a wrapper (pyenv's shims fork): the PID we hold is moto's, so
        // it can be stopped when the tests end.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try pythonExecutable())
        // moto_server through a launcher that corrects two CloudFormation gaps (moto_launcher.py says which).
        server.arguments = [packageRoot.appendingPathComponent("Tests/TestSupport/moto_launcher.py").path, "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        // create-user, create-access-key and put-user-policy go through unauthenticated; nothing after.
        if checkingSignatures { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" }
        environment["PATH"] = (environment["PATH"] ?? "") + ":" + NSHomeDirectory() + "/.local/bin"
        server.environment = environment
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        do { try server.run() } catch { throw Failure(description: "moto cannot start: \(error); bash scripts/setup --test installs it") }
        motoPIDs.append(server.processIdentifier)
        atexit { for pid in motoPIDs { kill(pid, SIGKILL) } }
        let endpoint = URL(string: "http://127.0.0.1:\(port)")!
        // Wait until it listens (a TCP connect, which moto does not count as an action).
        var ready = false
        for _ in 0..<150 {
            if listening(port) { ready = true; break }
            usleep(100_000)
        }
        guard ready else { throw Failure(description: "moto_server did not answer on \(endpoint)") }
        guard checkingSignatures else {
            return Instance(endpoint: endpoint, credentials: AWSCredentials(accessKeyID: "unchecked", secretAccessKey: "unchecked"))
        }
        let script = """
            import boto3, json, sys
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
            iam.create_user(UserName="sluice-etl")
            key = iam.create_access_key(UserName="sluice-etl")["AccessKey"]
            iam.put_user_policy(UserName="sluice-etl", PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:*", "secretsmanager:*", "cloudformation:*", "ec2:Describe*", "sts:GetCallerIdentity",
                    "lambda:InvokeFunction", "logs:DescribeLogGroups"], "Resource": "*"}]}))
            print(key["AccessKeyId"], key["SecretAccessKey"])
            """
        let bootstrap = Process()
        bootstrap.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        bootstrap.arguments = ["python3", "-c", script, endpoint.absoluteString]
        let output = Pipe()
        bootstrap.standardOutput = output
        try bootstrap.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        bootstrap.waitUntilExit()
        let parts = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard bootstrap.terminationStatus == 0, parts.count == 2 else { throw Failure(description: "could not create moto's IAM user: \(text)") }
        return Instance(endpoint: endpoint, credentials: AWSCredentials(accessKeyID: parts[0], secretAccessKey: parts[1]))
    }
}

nonisolated(unsafe) var motoPIDs: [Int32] = []

/// `sys.executable` of the `python3` on PATH.
public func pythonExecutable() throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let path = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    process.waitUntilExit()
    guard process.terminationStatus == 0, !path.isEmpty else { throw MotoServer.Failure(description: "python3 is not on PATH") }
    return path
}

public func listening(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

extension MotoServer.Instance {
    /// A client of this moto; `secret` replaces the real secret key, to prove signatures are checked.
    /// `endpoint` replaces moto's own (a fault-injecting proxy in front of it).
    public func client(
        secret: String? = nil, endpoint: URL? = nil, retryPolicy: RetryPolicy = .standard,
        timeouts: S3Client.Timeouts = S3Client.Timeouts(), onRetry: (@Sendable (String) -> Void)? = nil
    ) -> S3Client {
        var credentials = self.credentials
        if let secret { credentials.secretAccessKey = secret }
        return S3Client(
            endpoint: endpoint ?? self.endpoint, region: "eu-west-1", credentials: credentials, retryPolicy: retryPolicy,
            timeouts: timeouts, onRetry: onRetry)
    }

    /// A bucket in moto's S3 (an artifact bucket a test names instead of bootstrapping).
    public func createBucket(_ name: String) async throws { try await client().createBucket(name) }

    public func objectExists(bucket: String, key: String) async throws -> Bool { try await client().objectExists(bucket: bucket, key: key) }
}
