import AWSSigning
import CloudRuntime
import Foundation
import PostgresClient
import SpecLoader
import WarehouseDDL

/// What a function environment knows for its life: its plan and spec (from the package), where the
/// warehouse is and how its pipelines log in (from the template's environment), and the secrets once
/// read from Secrets Manager (kept until the database refuses them, then read again: rotated).
///
/// Runs log in as the pipelines' writer role: with an IAM authentication token on RDS and Aurora
/// (`SLUICE_WAREHOUSE_LOGIN=iam`, `SLUICE_WAREHOUSE_USER`), or with the role's generated secret
/// (`password`, `SLUICE_WAREHOUSE_SECRET`). Only the migrate request uses the admin's secret
/// (`SLUICE_WAREHOUSE_ADMIN_SECRET`); it also gives the writer role its login.
final class FunctionContext: @unchecked Sendable {
    let plan: ETLPlan
    let specPath: String
    let region: String
    let sources: SourceSelection
    let warehouse: (host: String, port: String, database: String)
    let login: Login
    let adminSecret: String
    let maskKeySecret: String?
    let secrets: SecretsManager
    let credentials: AWSCredentials
    /// The API credentials' deployed secrets, by their variables (`SLUICE_API_SECRET_<NAME>`).
    let apiSecrets: [String: String]
    private var cached: [String: (user: String, password: String)] = [:]
    private var maskKey: Data?

    /// How runs log in.
    enum Login {
        /// An IAM authentication token for this database user (RDS, Aurora).
        case iam(user: String)
        /// The username and password in this secret.
        case secret(String)
    }

    init(environment: [String: String]) throws {
        apiSecrets = environment.filter { $0.key.hasPrefix("SLUICE_API_SECRET_") }
        let root = environment["LAMBDA_TASK_ROOT"] ?? Bundle.main.bundlePath
        plan = try PipelineExecution.readPlan("\(root)/\(FunctionPackaging.planPath)")
        specPath = "\(root)/\(FunctionPackaging.specPath)"
        region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? ""
        guard !region.isEmpty else { throw Failure("AWS_REGION is not set") }
        var missing: [String] = []
        func setting(_ name: String) -> String {
            if let value = environment[name], !value.isEmpty { return value }
            missing.append(name)
            return ""
        }
        warehouse = (setting("SLUICE_WAREHOUSE_HOST"), setting("SLUICE_WAREHOUSE_PORT"), setting("SLUICE_WAREHOUSE_DATABASE"))
        switch environment["SLUICE_WAREHOUSE_LOGIN"] {
        case "iam": login = .iam(user: setting("SLUICE_WAREHOUSE_USER"))
        case "password", nil: login = .secret(setting("SLUICE_WAREHOUSE_SECRET"))
        case let other?: throw Failure("SLUICE_WAREHOUSE_LOGIN is iam or password, not '\(other)'")
        }
        adminSecret = environment["SLUICE_WAREHOUSE_ADMIN_SECRET"] ?? environment["SLUICE_WAREHOUSE_SECRET"] ?? ""
        if adminSecret.isEmpty { missing.append("SLUICE_WAREHOUSE_ADMIN_SECRET") }
        maskKeySecret = environment["SLUICE_MASK_KEY_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        guard missing.isEmpty else {
            throw Failure(
                "\(missing.joined(separator: ", ")) not set: the template gives a pipeline function the warehouse's address and how to log in")
        }
        guard let credentials = AWSCredentials.fromEnvironment(environment) else {
            throw Failure("no AWS credentials in the environment (Lambda sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)")
        }
        self.credentials = credentials
        // AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL are the AWS SDKs' endpoint overrides.
        secrets = SecretsManager(
            region: region, credentials: credentials,
            endpoint: environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ?? environment["AWS_ENDPOINT_URL"])
        let buckets = (environment["SLUICE_BUCKETS"] ?? "").split(separator: ",").map(String.init).filter { $0.contains("=") }
        sources = SourceSelection(
            source: "s3", s3Endpoint: environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"], buckets: buckets, wait: true,
            allowEmpty: true)
    }

    func handle(_ invocation: Invocation, log: FunctionLog) throws -> Data {
        let event = try FunctionEvent.parse(invocation.event)
        log.info("event: \(event.summary)")
        do {
            return try answer(event, invocation: invocation, log: log)
        } catch let error where Self.isRefusedLogin(error) && !cached.isEmpty {
            // The cached password is stale (the secret was rotated): read it again, once.
            log.info("the warehouse refused the cached credentials; reading the secret again")
            cached = [:]
            return try answer(event, invocation: invocation, log: log)
        }
    }

    private func answer(_ event: FunctionEvent, invocation: Invocation, log: FunctionLog) throws -> Data {
        switch event {
        case .migrate(let allowDestructive):
            let loaded = SpecLoader.load(path: specPath)
            guard let spec = loaded.spec else { throw Failure("the packaged spec does not load: \(loaded.diagnostics.map(\.message))") }
            do {
                let admin = try conninfo(secret: adminSecret)
                let report = try WarehouseMigration.apply(
                    spec, conninfo: admin, target: "\(warehouse.host)/\(warehouse.database)", allowDestructive: allowDestructive)
                log.info("migration: \(report.applied ? "applied" : "nothing to change")")
                let login = try prepareLogin(admin: admin)
                log.info("login: \(login)")
                var answer = try JSONSerialization.jsonObject(with: Data(try JSONOutput.text(report).utf8)) as? [String: Any] ?? [:]
                answer["login"] = login
                return try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            } catch let refusal as WarehouseMigration.Refusal {
                throw InvocationFailure(type: "Sluice.MigrationRefused", message: refusal.description)
            }
        case .reload(let name, let keys, let from, let to):
            // Deleting what an object loaded before takes the admin: the writer role may not delete.
            let pipelines = try chosen([name])
            let report = try report(
                pipelines, window: from.map { ($0, to ?? Date()) }, objectKeys: keys.isEmpty ? nil : keys, invocation: invocation, log: log,
                database: try conninfo(secret: adminSecret), reload: true)
            return Data(try JSONOutput.text(report).utf8)
        case .run(let names, let from, let to):
            let pipelines = try chosen(names)
            let window = from.map { ($0, to ?? Date()) }
            return Data(try JSONOutput.text(report(pipelines, window: window, objectKeys: nil, invocation: invocation, log: log)).utf8)
        case .objects(let references):
            var results: [PipelineResult] = []
            var claimed: Set<Int> = []
            for pipeline in plan.pipelines where pipeline.source.kind == .s3 {
                // The bucket an S3 notification names for this pipeline's source: the deployed name.
                let logical = pipeline.source.bucket ?? ""
                let bucket = sources.deployedBucket(logical, planned: pipeline.source.bucketName) ?? logical
                let mine = references.enumerated().filter { $0.element.bucket == bucket }
                guard !mine.isEmpty else { continue }
                claimed.formUnion(mine.map(\.offset))
                let keys = mine.map(\.element.key)
                results += try report([pipeline], window: nil, objectKeys: keys, invocation: invocation, log: log).pipelines
            }
            let ignored = references.enumerated().filter { !claimed.contains($0.offset) }.map { "s3://\($0.element.bucket)/\($0.element.key)" }
            if !ignored.isEmpty { log.info("no pipeline of this function reads \(ignored.joined(separator: ", "))") }
            return Data(try JSONOutput.text(ObjectsReport(pipelines: results, ignored: ignored)).utf8)
        }
    }

    struct ObjectsReport: Encodable {
        var pipelines: [PipelineResult]
        var ignored: [String]
    }

    /// Runs `pipelines`; a run that failed is the invocation's error, with its report in the message.
    private func report(
        _ pipelines: [PipelinePlan], window: (from: Date, to: Date)?, objectKeys: [String]?, invocation: Invocation, log: FunctionLog,
        database: String? = nil, reload: Bool = false
    ) throws -> PipelineExecution.Report {
        let (status, report) = try PipelineExecution.run(
            plan: plan, pipelines: pipelines, database: try database ?? runConninfo(), sources: sources, window: window, region: region,
            baseDirectory: URL(fileURLWithPath: specPath).deletingLastPathComponent(), observer: FunctionRunLog(log: log),
            objectKeys: objectKeys, deadline: invocation.deadline, maskKey: try readMaskKey(), reload: reload,
            apiCredential: { [secrets, apiSecrets] secret in
                // The template names each API credential's deployed secret (its ARN) in a variable of its own.
                guard let arn = apiSecrets[APISecretVariable.name(secret)], !arn.isEmpty else {
                    throw Failure("\(APISecretVariable.name(secret)) is not set: the template gives the function the secret of its API's credential")
                }
                return try await secrets.secretString(arn)
            })
        guard status == 0 else {
            if status == PipelineExecution.busyExitCode {
                // Another lister holds the pipeline past this invocation's deadline: it is doing the
                // work. An error, so an asynchronous invocation is tried again later.
                throw InvocationFailure(type: "Sluice.Busy", message: report.error ?? "the pipeline is busy")
            }
            let failed = report.pipelines.flatMap { result in result.objectsFailed.map { "\(result.pipeline): \($0.key): \($0.error)" } }
            throw InvocationFailure(
                type: "Sluice.RunFailed",
                message: ([report.error].compactMap { $0 } + failed).joined(separator: "; ") + "\n" + (try JSONOutput.text(report)))
        }
        return report
    }

    private func chosen(_ names: [String]?) throws -> [PipelinePlan] {
        guard let names else { return plan.pipelines }
        return try names.map { name in
            guard let pipeline = plan.pipelines.first(where: { $0.name == name }) else {
                throw InvocationFailure(
                    type: "Sluice.BadEvent",
                    message: "this function runs no pipeline '\(name)'; it runs \(plan.pipelines.map(\.name).joined(separator: ", "))")
            }
            return pipeline
        }
    }

    /// How runs log in: the writer role, by IAM token or by its own secret.
    private func runConninfo() throws -> String {
        switch login {
        case .secret(let secret): return try conninfo(secret: secret)
        case .iam(let user):
            // A token is valid for 15 minutes and costs no request: a new one for every run. IAM
            // logins must use TLS.
            let signer = SigV4Signer(credentials: credentials, region: region, service: "rds-db")
            let token = signer.databaseToken(host: warehouse.host, port: Int(warehouse.port) ?? 5432, user: user)
            return Self.conninfo([
                ("host", warehouse.host), ("port", warehouse.port), ("dbname", warehouse.database), ("user", user), ("password", token),
                ("sslmode", "require"), ("connect_timeout", "10"), ("application_name", "sluice-lambda"),
            ])
        }
    }

    /// A libpq connection string with the username and password from `secret`.
    private func conninfo(secret: String) throws -> String {
        let login = try credentials(in: secret)
        return Self.conninfo([
            ("host", warehouse.host), ("port", warehouse.port), ("dbname", warehouse.database), ("user", login.user),
            ("password", login.password), ("connect_timeout", "10"), ("application_name", "sluice-lambda"),
        ])
    }

    /// The username and password `secret` holds, read once and cached.
    private func credentials(in secret: String) throws -> (user: String, password: String) {
        if let known = cached[secret] { return known }
        let text = try Blocking.run { [secrets] in try await secrets.secretString(secret) }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let user = json["username"] as? String, let password = json["password"] as? String
        else {
            throw Failure("secret \(secret) is not JSON with \"username\" and \"password\" (the form RDS and Secrets Manager use)")
        }
        cached[secret] = (user, password)
        return (user, password)
    }

    static func conninfo(_ pairs: [(String, String)]) -> String {
        func quoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        return pairs.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
    }

    /// After a migration, as the admin: the writer role may log in, with its secret's password (sent
    /// as a SCRAM verifier, never in clear) or through IAM (`rds_iam`, which RDS and Aurora have).
    private func prepareLogin(admin: String) throws -> String {
        let connection = try Connection(admin, applicationName: "sluice-lambda")
        defer { connection.close() }
        switch login {
        case .secret(let secret):
            let writer = try credentials(in: secret)
            // A template older than the writer's own secret gives the admin's here: nothing to prepare.
            guard secret != adminSecret, writer.user != cached[adminSecret]?.user else { return "\(writer.user), the admin (no writer login)" }
            let verifier = try connection.passwordVerifier(writer.password, user: writer.user)
            try connection.query(
                "ALTER ROLE \(SQL.identifier(writer.user)) WITH LOGIN PASSWORD \(SQL.literal(verifier))")
            return "\(writer.user) with the password in \(secret)"
        case .iam(let user):
            try connection.query(
                """
                DO $$ BEGIN
                  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN GRANT rds_iam TO \(SQL.identifier(user)); END IF;
                END $$
                """)
            try connection.query("ALTER ROLE \(SQL.identifier(user)) WITH LOGIN")
            return "\(user) with an IAM authentication token"
        }
    }

    /// The key of `mask: hash` columns: the generated secret's string, else `SLUICE_MASK_KEY`.
    private func readMaskKey() throws -> Data? {
        guard let secret = maskKeySecret else { return ProcessInfo.processInfo.environment["SLUICE_MASK_KEY"].map { Data($0.utf8) } }
        if maskKey == nil {
            maskKey = Data(try Blocking.run { [secrets] in try await secrets.secretString(secret) }.utf8)
        }
        return maskKey
    }

    static func isRefusedLogin(_ error: Error) -> Bool {
        let text = "\(error)"
        return text.contains("password authentication failed") || text.contains("28P01")
    }
}
