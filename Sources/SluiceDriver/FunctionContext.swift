import AWSSigning
import CloudRuntime
import Foundation
import SpecLoader

/// What a function environment knows for its life: its plan and spec (from the package), where the
/// warehouse is (from the template's environment), and the warehouse credentials once read from
/// Secrets Manager (kept until the database refuses them, then read again: the secret was rotated).
final class FunctionContext: @unchecked Sendable {
    let plan: ETLPlan
    let specPath: String
    let region: String
    let sources: SourceSelection
    let warehouse: (host: String, port: String, database: String, secret: String)
    let secrets: SecretsManager
    private var login: (user: String, password: String)?

    init(environment: [String: String]) throws {
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
        warehouse = (
            setting("SLUICE_WAREHOUSE_HOST"), setting("SLUICE_WAREHOUSE_PORT"), setting("SLUICE_WAREHOUSE_DATABASE"),
            setting("SLUICE_WAREHOUSE_SECRET")
        )
        guard missing.isEmpty else {
            throw Failure("\(missing.joined(separator: ", ")) not set: the template gives a pipeline function the warehouse's address and secret")
        }
        guard let credentials = AWSCredentials.fromEnvironment(environment) else {
            throw Failure("no AWS credentials in the environment (Lambda sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)")
        }
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
        } catch let error where Self.isRefusedLogin(error) && login != nil {
            // The cached password is stale (the secret was rotated): read it again, once.
            log.info("the warehouse refused the cached credentials; reading the secret again")
            login = nil
            return try answer(event, invocation: invocation, log: log)
        }
    }

    private func answer(_ event: FunctionEvent, invocation: Invocation, log: FunctionLog) throws -> Data {
        switch event {
        case .migrate(let allowDestructive):
            let loaded = SpecLoader.load(path: specPath)
            guard let spec = loaded.spec else { throw Failure("the packaged spec does not load: \(loaded.diagnostics.map(\.message))") }
            do {
                let report = try WarehouseMigration.apply(
                    spec, conninfo: try conninfo(), target: "\(warehouse.host)/\(warehouse.database)", allowDestructive: allowDestructive)
                log.info("migration: \(report.applied ? "applied" : "nothing to change")")
                return Data(try JSONOutput.text(report).utf8)
            } catch let refusal as WarehouseMigration.Refusal {
                throw InvocationFailure(type: "Sluice.MigrationRefused", message: refusal.description)
            }
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
        _ pipelines: [PipelinePlan], window: (from: Date, to: Date)?, objectKeys: [String]?, invocation: Invocation, log: FunctionLog
    ) throws -> PipelineExecution.Report {
        let (status, report) = try PipelineExecution.run(
            plan: plan, pipelines: pipelines, database: try conninfo(), sources: sources, window: window, region: region,
            baseDirectory: URL(fileURLWithPath: specPath).deletingLastPathComponent(), observer: FunctionRunLog(log: log),
            objectKeys: objectKeys, deadline: invocation.deadline)
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

    /// The warehouse's libpq connection string, with the credentials from its secret.
    private func conninfo() throws -> String {
        if login == nil {
            let text = try PipelineExecution.blocking { [secrets, warehouse] in try await secrets.secretString(warehouse.secret) }
            guard let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                let user = json["username"] as? String, let password = json["password"] as? String
            else {
                throw Failure("secret \(warehouse.secret) is not JSON with \"username\" and \"password\" (the form RDS and Secrets Manager use)")
            }
            login = (user, password)
        }
        func quoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        return [
            ("host", warehouse.host), ("port", warehouse.port), ("dbname", warehouse.database), ("user", login!.user),
            ("password", login!.password), ("connect_timeout", "10"), ("application_name", "sluice-lambda"),
        ].map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
    }

    static func isRefusedLogin(_ error: Error) -> Bool {
        let text = "\(error)"
        return text.contains("password authentication failed") || text.contains("28P01")
    }
}
