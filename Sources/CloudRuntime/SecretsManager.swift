import AWSSigning
import AsyncHTTPClient
import Foundation
import NIOCore

/// Secrets Manager's GetSecretValue over its JSON API, signed with SigV4: how a deployed function
/// reads the warehouse credentials (through the VPC's interface endpoint, which answers at the
/// service's regional name).
public struct SecretsManager: Sendable {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    let endpoint: URL
    let signer: SigV4Signer
    let http: HTTPClient

    /// `endpoint` overrides `https://secretsmanager.REGION.amazonaws.com` (`AWS_ENDPOINT_URL_SECRETS_MANAGER`).
    public init(region: String, credentials: AWSCredentials, endpoint: String? = nil) {
        self.endpoint = URL(string: endpoint ?? "https://secretsmanager.\(region).amazonaws.com")!
        signer = SigV4Signer(credentials: credentials, region: region, service: "secretsmanager")
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(20))
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// The secret's string: for database credentials, JSON with `username` and `password`.
    public func secretString(_ id: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["SecretId": id])
        let host = endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "")
        let now = Date()
        let payloadHash = SigningRequest.hash(body)
        var headers: [(name: String, value: String)] = [
            ("host", host), ("x-amz-date", SigV4Signer.timestamps(now).amzDate), ("x-amz-target", "secretsmanager.GetSecretValue"),
            ("content-type", "application/x-amz-json-1.1"),
        ]
        if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        let signed = signer.sign(SigningRequest(method: "POST", path: "/", headers: headers, payloadHash: payloadHash), at: now)
        var request = HTTPClientRequest(url: "\(endpoint.scheme ?? "https")://\(host)/")
        request.method = .POST
        for (name, value) in headers where name != "host" { request.headers.add(name: name, value: value) }
        request.headers.add(name: "authorization", value: signed.authorization)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: .seconds(30)) } catch {
            throw Problem(description: "cannot reach Secrets Manager at \(endpoint.absoluteString): \(error)")
        }
        let answer = try await response.body.collect(upTo: 1024 * 1024)
        let json = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any]
        guard response.status.code == 200 else {
            let type = (json?["__type"] as? String).map { $0.split(separator: "#").last.map(String.init) ?? $0 } ?? "HTTP \(response.status.code)"
            let message = json?["message"] as? String ?? json?["Message"] as? String ?? String(buffer: answer)
            throw Problem(description: "Secrets Manager refused GetSecretValue for \(id): \(type): \(message)")
        }
        guard let string = json?["SecretString"] as? String else {
            throw Problem(description: "secret \(id) has no SecretString (a binary secret cannot hold database credentials)")
        }
        return string
    }
}
