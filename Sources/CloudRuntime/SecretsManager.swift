import AWSServices
import AWSSigning
import Foundation

/// Secrets Manager's GetSecretValue over its JSON API, signed with SigV4 and retried as the SDKs
/// retry (a throttled read waits instead of failing the invocation): how a deployed function reads
/// the warehouse credentials (through the VPC's interface endpoint, which answers at the service's
/// regional name).
public struct SecretsManager: Sendable {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    let service: AWSService

    /// `endpoint` overrides `https://secretsmanager.REGION.amazonaws.com` (`AWS_ENDPOINT_URL_SECRETS_MANAGER`).
    public init(region: String, credentials: AWSCredentials, endpoint: String? = nil) {
        service = AWSService(
            name: "Secrets Manager", signingName: "secretsmanager", host: "secretsmanager.\(region).amazonaws.com",
            environmentKey: "SECRETS_MANAGER", region: region, credentials: credentials,
            environment: endpoint.map { ["AWS_ENDPOINT_URL_SECRETS_MANAGER": $0] } ?? [:])
    }

    /// The secret's string: for database credentials, JSON with `username` and `password`.
    public func secretString(_ id: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["SecretId": id])
        let response: AWSService.Response
        do {
            response = try await service.send(
                "GetSecretValue", method: "POST", path: "/",
                headers: [("x-amz-target", "secretsmanager.GetSecretValue"), ("content-type", "application/x-amz-json-1.1")], body: Array(body),
                timeout: .seconds(30))
        } catch let refusal as AWSServiceError {
            throw Problem(description: "Secrets Manager refused GetSecretValue for \(id): \(refusal.code): \(refusal.message)")
        } catch let transport as AWSTransportError {
            throw Problem(description: "cannot reach Secrets Manager at \(service.endpoint.absoluteString): \(transport.detail)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard let string = json?["SecretString"] as? String else {
            throw Problem(description: "secret \(id) has no SecretString (a binary secret cannot hold database credentials)")
        }
        return string
    }
}
