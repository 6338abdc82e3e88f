import AWSSigning
import ArgumentParser
import Foundation
import PipelineExecutor
import PlanCompiler
import PlanFormat
import S3Client

/// Where pipelines read from, for `sluice apply` and `sluice run`.
public struct SourceSelection: Sendable {
    /// `s3` (the S3 API), or a folder with one subfolder per spec bucket, laid out as the bucket is.
    public var source: String
    /// An S3-compatible endpoint URL instead of AWS's.
    public var s3Endpoint: String?
    /// `NAME=DEPLOYED`: read the spec's bucket NAME from the bucket DEPLOYED.
    public var buckets: [String]
    /// Queue behind a runner that holds a pipeline instead of exiting with status 75.
    public var wait: Bool
    /// A source with no objects under its prefix is expected: warn instead of failing the run.
    public var allowEmpty: Bool
    /// `PIPELINE=URL`: read that pipeline's API at URL instead of the spec's (a test server, a staging API).
    public var apis: [String] = []
    /// false: API sources are not fetched; what is landed is loaded.
    public var fetch = true
    /// Objects loaded at once, each on its own connection: one per core unless told.
    public var connections = ProcessInfo.processInfo.activeProcessorCount

    public init(source: String = "s3", s3Endpoint: String? = nil, buckets: [String] = [], wait: Bool = false, allowEmpty: Bool = false) {
        self.source = source
        self.s3Endpoint = s3Endpoint
        self.buckets = buckets
        self.wait = wait
        self.allowEmpty = allowEmpty
    }

    /// Where a pipeline with a quarantine bucket also writes its refused records: the bucket through the
    /// S3 API, or its folder under `--source FOLDER`.
    func quarantineSink(for pipeline: PipelinePlan, region: String) throws -> QuarantineSink? {
        guard let logical = pipeline.quarantine.bucket else { return nil }
        if source != "s3" { return FolderStore(root: URL(fileURLWithPath: source).appendingPathComponent(logical)) }
        guard let bucket = deployedBucket(logical, planned: pipeline.quarantine.bucketName) else {
            throw UsageError("pipeline \(pipeline.name): the spec names no account, so give the deployed quarantine bucket: --bucket \(logical)=NAME")
        }
        return S3Store(client: try client(region: region, bucket: bucket), bucket: bucket)
    }

    /// The deployed name of a spec bucket: given as `NAME=DEPLOYED`, else the plan's (when the spec
    /// names the account).
    func deployedBucket(_ logical: String, planned: String?) -> String? { overrides[logical] ?? planned }

    private var overrides: [String: String] { Self.assignments(buckets) }

    /// `NAME=VALUE` options as a dictionary, the last one given for a name winning (the CLI has
    /// checked their shape).
    static func assignments(_ entries: [String]) -> [String: String] {
        Dictionary(
            entries.map { entry -> (String, String) in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { $1 })
    }

    private func client(region: String, bucket: String) throws -> S3Client {
        guard let credentials = AWSCredentials.fromEnvironment() else {
            throw UsageError(
                "reading s3://\(bucket) needs AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; or --source FOLDER")
        }
        let region = ProcessInfo.processInfo.environment["AWS_REGION"] ?? region
        // Every retry is said on stderr as it happens: a struggling endpoint is never silent.
        return S3Client(
            endpoint: s3Endpoint.flatMap(URL.init(string:)), region: region, credentials: credentials,
            retryPolicy: .fromEnvironment()
        ) { note in
            FileHandle.standardError.write(Data("note: retrying \(note)\n".utf8))
        }
    }

    /// How a pipeline reaches its API: the URL given for it, and its credential from `credential`.
    func apiAccess(
        for pipeline: PipelinePlan, credential: @escaping @Sendable (String) async throws -> String
    ) throws -> APIAccess? {
        guard pipeline.source.api != nil else { return nil }
        let urls = Self.assignments(apis)
        for (name, url) in urls.sorted(by: { $0.key < $1.key }) where URL(string: url)?.host == nil {
            throw UsageError("--api takes PIPELINE=URL (an absolute URL), not '\(name)=\(url)'")
        }
        return APIAccess(url: urls[pipeline.name], fetch: fetch, credential: credential)
    }

    /// On a workstation or in CI, an API's credential is the string in `SLUICE_API_CREDENTIAL_<SECRET>`.
    public static let credentialFromEnvironment: @Sendable (String) async throws -> String = { secret in
        let variable = APISecretVariable.credential(secret)
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            throw ExecutorError.source("the API's credential is the string of secret '\(secret)': set \(variable) to it (or run --no-fetch)")
        }
        return value
    }

    /// The store a pipeline reads. Folder sources are relative to the spec's (or plan's) folder.
    func store(for pipeline: PipelinePlan, region: String, baseDirectory: URL) throws -> ObjectStore {
        if pipeline.source.kind == .folder {
            let path = pipeline.source.path ?? "."
            return FolderStore(root: URL(fileURLWithPath: path, relativeTo: baseDirectory))
        }
        let logical = pipeline.source.bucket ?? ""
        if source != "s3" {
            return FolderStore(root: URL(fileURLWithPath: source).appendingPathComponent(logical))
        }
        guard let bucket = deployedBucket(logical, planned: pipeline.source.bucketName) else {
            throw UsageError("pipeline \(pipeline.name): the spec names no account, so give the deployed bucket: --bucket \(logical)=NAME")
        }
        return S3Store(client: try client(region: region, bucket: bucket), bucket: bucket)
    }
}

/// What a view is told while pipelines run: progress as it happens, then each pipeline's end.
public protocol PipelineRunObserver: Sendable {
    /// Listing pages, objects started and finished, retries: for a progress line.
    func event(_ event: RunEvent)
    /// A pipeline ran; some of its objects may have failed.
    func finished(_ result: PipelineResult)
    /// A pipeline could not run: busy (another runner holds it), or the run could not start.
    func failed(pipeline: String, error: String)
}

public typealias RunEvent = PipelineExecutor.RunEvent
public typealias PipelineResult = PipelineExecutor.PipelineResult

/// Runs pipelines and reports: a progress line on a terminal, a summary per pipeline, or JSON.
public enum PipelineExecution {
    /// EX_TEMPFAIL: another runner holds the pipeline; try again later.
    public static let busyExitCode: Int32 = 75

    public struct Report: Encodable, Sendable {
        public var pipelines: [PipelineResult]
        public var error: String?
    }

    /// Runs `pipelines` in order; text output is printed as it goes, JSON is the caller's to print.
    public static func run(
        plan: ETLPlan, pipelines: [PipelinePlan], database: String, sources: SourceSelection, window: (from: Date, to: Date)?,
        region: String, baseDirectory: URL, observer: any PipelineRunObserver, objectKeys: [String]? = nil, deadline: Date? = nil,
        maskKey: Data? = ProcessInfo.processInfo.environment["SLUICE_MASK_KEY"].map { Data($0.utf8) }, reload: Bool = false,
        apiCredential: @escaping @Sendable (String) async throws -> String = SourceSelection.credentialFromEnvironment
    ) throws -> (status: Int32, report: Report) {
        var results: [PipelineResult] = []
        var status: Int32 = 0
        var failure: String?
        for pipeline in pipelines {
            var options = RunOptions(database: database, window: window, wait: sources.wait, maskKey: maskKey)
            options.allowEmpty = sources.allowEmpty
            options.objectKeys = objectKeys
            options.deadline = deadline
            options.reload = reload
            options.quarantineSink = try sources.quarantineSink(for: pipeline, region: region)
            options.api = try sources.apiAccess(for: pipeline, credential: apiCredential)
            options.connections = sources.connections
            let runner = PipelineRunner(
                plan: plan, pipeline: pipeline, store: try sources.store(for: pipeline, region: region, baseDirectory: baseDirectory),
                options: options, events: { observer.event($0) })
            do {
                let result = try Blocking.run { try await runner.run() }
                results.append(result)
                observer.finished(result)
                if !result.succeeded { status = 1 }
            } catch let error as ExecutorError {
                if case .busy = error { status = busyExitCode } else { status = 1 }
                failure = "\(pipeline.name): \(error)"
                observer.failed(pipeline: pipeline.name, error: "\(error)")
                if case .busy = error { continue }
                break
            } catch {
                failure = "\(pipeline.name): \(error)"
                observer.failed(pipeline: pipeline.name, error: "\(error)")
                status = 1
                break
            }
        }
        return (status, Report(pipelines: results, error: failure))
    }

    /// A spec's pipelines compiled for the executor; nil when it has none.
    public static func compile(_ spec: Spec) -> ETLPlan? { PlanCompiler.compile(spec) }

    /// A plan.json written by `sluice plan` (or shipped with the function), refused unless its format
    /// and version are this executor's.
    public static func readPlan(_ path: String) throws -> ETLPlan {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Failure("cannot read \(path): \(error.localizedDescription)")
        }
        let decoded: ETLPlan
        do { decoded = try JSONDecoder().decode(ETLPlan.self, from: data) } catch let error as DecodingError {
            throw Failure("\(path) is not a plan this sluice runs: \(error.planProblem)")
        } catch { throw Failure("\(path) is not a Sluice plan: \(error)") }
        guard decoded.format == "sluice-plan", decoded.version == ETLPlan.currentVersion else {
            throw Failure("\(path) is a \(decoded.format) version \(decoded.version) plan; this sluice runs version \(ETLPlan.currentVersion)")
        }
        return decoded
    }
}
