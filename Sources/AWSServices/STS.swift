import AWSSigning
import Foundation

/// AWS Security Token Service: who the credentials are (the account a bootstrap names its bucket
/// after), and the web-identity exchange a CI job's OIDC token makes.
public struct STS: Sendable {
    let service: AWSService
    static let version = "2011-06-15"

    public init(region: String, credentials: AWSCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) {
        // The regional endpoint, as the SDKs use by default since 2022 (a CI runner in a region keeps its calls there).
        service = AWSService(
            name: "STS", signingName: "sts", host: "sts.\(region).amazonaws.com", environmentKey: "STS", region: region,
            credentials: credentials, environment: environment)
    }

    public struct Identity: Sendable, Equatable {
        public var account: String
        public var arn: String
    }

    public func callerIdentity() async throws -> Identity {
        let answer = try await service.query("GetCallerIdentity", version: Self.version)
        let result = answer.child("GetCallerIdentityResult")
        guard let account = result?["Account"], let arn = result?["Arn"] else {
            throw AWSServiceError(service: "STS", operation: "GetCallerIdentity", status: 200, code: "MalformedResponse", message: "no Account")
        }
        return Identity(account: account, arn: arn)
    }

    /// AssumeRoleWithWebIdentity: an unsigned call (the token is the proof), answered with temporary credentials.
    public func assumeRole(withWebIdentity token: String, role: String, session: String, seconds: Int? = nil) async throws -> AWSCredentials {
        var parameters = [("RoleArn", role), ("RoleSessionName", session), ("WebIdentityToken", token)]
        if let seconds { parameters.append(("DurationSeconds", String(seconds))) }
        let answer = try await service.query("AssumeRoleWithWebIdentity", version: Self.version, parameters, signed: false)
        guard let credentials = answer.descend(["AssumeRoleWithWebIdentityResult", "Credentials"]),
            let key = credentials["AccessKeyId"], let secret = credentials["SecretAccessKey"]
        else {
            throw AWSServiceError(
                service: "STS", operation: "AssumeRoleWithWebIdentity", status: 200, code: "MalformedResponse", message: "no Credentials")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: credentials["SessionToken"])
    }
}

/// Where a deploy's credentials come from, in the SDKs' order: the environment's keys; web identity
/// (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`, how a GitHub Actions job with OIDC gets its
/// role); then the `AWS_PROFILE` (or `default`) profile: keys in the shared credentials file, or a
/// `role_arn` + `web_identity_token_file` in the shared config file.
public enum CredentialChain {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    public static func resolve(region: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> AWSCredentials {
        if let keys = AWSCredentials.fromKeys(environment) { return keys }
        if let role = environment["AWS_ROLE_ARN"], let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !role.isEmpty, !tokenFile.isEmpty {
            return try await webIdentity(
                role: role, tokenFile: tokenFile, session: environment["AWS_ROLE_SESSION_NAME"], region: region, environment: environment)
        }
        let profileName = environment["AWS_PROFILE"] ?? "default"
        if let credentials = AWSCredentials.fromSharedCredentials(environment) { return credentials }
        let configFile = environment["AWS_CONFIG_FILE"] ?? (NSHomeDirectory() + "/.aws/config")
        if let text = try? String(contentsOfFile: configFile, encoding: .utf8) {
            let section = AWSCredentials.profile(profileName == "default" ? "default" : "profile \(profileName)", in: text)
            if let role = section["role_arn"], let tokenFile = section["web_identity_token_file"] {
                return try await webIdentity(
                    role: role, tokenFile: tokenFile, session: section["role_session_name"], region: region, environment: environment)
            }
        }
        throw Missing(
            description: "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE "
                + "(GitHub Actions: aws-actions/configure-aws-credentials, or the job's OIDC token), or a profile '\(profileName)' in ~/.aws")
    }

    static func webIdentity(
        role: String, tokenFile: String, session: String?, region: String, environment: [String: String]
    ) async throws
        -> AWSCredentials
    {
        let token: String
        do { token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw Missing(description: "cannot read the web identity token \(tokenFile) (AWS_WEB_IDENTITY_TOKEN_FILE): \(error.localizedDescription)")
        }
        // STS takes no credentials for this call; the signer is never used.
        let sts = STS(region: region, credentials: AWSCredentials(accessKeyID: "", secretAccessKey: ""), environment: environment)
        return try await sts.assumeRole(withWebIdentity: token, role: role, session: session ?? "sluice-\(Int(Date().timeIntervalSince1970))")
    }
}
