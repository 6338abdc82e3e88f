import Foundation

extension AWSCredentials {
    /// The usual places, in the SDKs' order: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN` (what a Lambda function gets), then the `AWS_PROFILE` (or `default`) section
    /// of `AWS_SHARED_CREDENTIALS_FILE` (or `~/.aws/credentials`). Nil when none has them.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        fromKeys(environment) ?? fromSharedCredentials(environment)
    }

    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.
    public static func fromKeys(_ environment: [String: String]) -> AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty else {
            return nil
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The `AWS_PROFILE` (or `default`) section of `AWS_SHARED_CREDENTIALS_FILE` (or `~/.aws/credentials`).
    public static func fromSharedCredentials(_ environment: [String: String]) -> AWSCredentials? {
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? (NSHomeDirectory() + "/.aws/credentials")
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let section = profile(environment["AWS_PROFILE"] ?? "default", in: text)
        guard let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"])
    }

    /// One `[name]` section of an INI file as key → value.
    public static func profile(_ name: String, in text: String) -> [String: String] {
        var current: String?
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard current == name, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: equals)...].trimmingCharacters(
                in: .whitespaces)
        }
        return values
    }
}
