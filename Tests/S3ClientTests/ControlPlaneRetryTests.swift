import AWSServices
import CloudRuntime
import Foundation
import TestSupport
import Testing

/// The control-plane transport (`AWSService`) retries what AWS's standard mode retries and nothing
/// else, here through Secrets Manager's JSON API on moto behind the fault proxy.
@Suite struct ControlPlaneRetryTests {
    func secret(_ moto: MotoServer.Instance, _ name: String, _ value: String) throws {
        let script = """
            import boto3, sys
            boto3.client("secretsmanager", endpoint_url=sys.argv[1], region_name="eu-west-1", aws_access_key_id=sys.argv[2],
                         aws_secret_access_key=sys.argv[3]).create_secret(Name=sys.argv[4], SecretString=sys.argv[5])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try pythonExecutable())
        process.arguments = ["-c", script, moto.endpoint.absoluteString, moto.credentials.accessKeyID, moto.credentials.secretAccessKey, name, value]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func aThrottledOrFailingReadIsRetriedAndARefusalIsNot() async throws {
        let moto = try MotoServer.shared.get()
        let name = "retry-\(getpid())-\(UUID().uuidString.prefix(6))"
        try secret(moto, name, #"{"username": "sluice", "password": "p"}"#)
        let proxy = try await FaultProxy.start(upstream: moto.endpoint)
        defer { proxy.stop() }
        let secrets = SecretsManager(region: "eu-west-1", credentials: moto.credentials, endpoint: proxy.endpoint.absoluteString)

        try await proxy.inject([
            ["op": "any", "kind": "status", "status": 503, "code": "ServiceUnavailable", "times": 2]
        ])
        #expect(try await secrets.secretString(name).contains("sluice"), "two 503s, then the answer")
        try await proxy.inject([["op": "any", "kind": "status", "status": 400, "code": "ThrottlingException", "times": 1]])
        #expect(try await secrets.secretString(name).contains("sluice"), "a throttle is retried")
        let injected = try await proxy.injected()
        #expect(injected["status"] == 3)

        await #expect(throws: SecretsManager.Problem.self) { try await secrets.secretString("no-such-\(name)") }
        do {
            _ = try await secrets.secretString("no-such-\(name)")
        } catch {
            #expect("\(error)".contains("Secrets Manager refused GetSecretValue for no-such-\(name): ResourceNotFoundException"), "\(error)")
        }
        try await proxy.inject([["op": "any", "kind": "status", "status": 400, "code": "AccessDeniedException", "times": 1]])
        await #expect(throws: SecretsManager.Problem.self, "a refusal is final: not retried") { try await secrets.secretString(name) }
        #expect(try await proxy.injected()["status"] == 4)
    }
}
