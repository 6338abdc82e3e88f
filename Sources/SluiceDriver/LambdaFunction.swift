import AWSSigning
import CloudRuntime
import Foundation
import SpecLoader

/// The packaged function's life inside Lambda: `bootstrap` is this sluice binary, which takes
/// invocations from the Runtime API and runs each as `sluice run` or `sluice apply` would, against the
/// warehouse whose address the template puts in its environment and whose credentials Secrets
/// Manager holds.
public enum LambdaFunction {
    /// Serves invocations until the Runtime API goes away. Returns only on a failure that ends the
    /// environment (configuration it cannot start without, a Runtime API that does not answer).
    public static func serve(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"] else {
            FunctionLog(requestID: nil).error("AWS_LAMBDA_RUNTIME_API is not set: `sluice lambda` is the bootstrap of a Lambda function")
            return 64
        }
        let api = RuntimeAPI(endpoint: endpoint)
        let function: FunctionContext
        do { function = try FunctionContext(environment: environment) } catch {
            FunctionLog(requestID: nil).error("cannot start: \(error)")
            _ = try? Blocking.run { try await api.initializationFailed(type: "Sluice.Configuration", message: "\(error)") }
            return 1
        }
        while true {
            let invocation: Invocation
            do { invocation = try Blocking.run { try await api.next() } } catch {
                FunctionLog(requestID: nil).error("the Runtime API did not hand out an invocation: \(error)")
                return 1
            }
            let log = FunctionLog(requestID: invocation.requestID)
            do {
                let answer = try function.handle(invocation, log: log)
                try Blocking.run { try await api.respond(invocation, with: answer) }
            } catch let failure as InvocationFailure {
                log.error(failure.message)
                _ = try? Blocking.run { try await api.fail(invocation, type: failure.type, message: failure.message) }
            } catch {
                log.error("\(error)")
                _ = try? Blocking.run { try await api.fail(invocation, type: "Sluice.Error", message: "\(error)") }
            }
        }
    }
}

/// An invocation that ran and failed: its caller sees the type and the message.
struct InvocationFailure: Error {
    var type: String
    var message: String
}

/// What an invocation asks for, read from its event.
enum FunctionEvent: Equatable {
    /// Run pipelines (all of the function's when nil) over their listing, or over a window.
    case run(pipelines: [String]?, from: Date?, to: Date?)
    /// Load exactly these objects (S3 notifications, directly or through SQS or SNS).
    case objects([S3ObjectReference])
    case migrate(allowDestructive: Bool)
    /// Load objects again, replacing their earlier load (the keys, or every object of a window).
    case reload(pipeline: String, keys: [String], from: Date?, to: Date?)

    struct S3ObjectReference: Equatable {
        var bucket: String
        var key: String
    }

    static func parse(_ data: Data) throws -> FunctionEvent {
        guard let event = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw InvocationFailure(type: "Sluice.BadEvent", message: "the event is not a JSON object")
        }
        if let request = event["sluice"] {
            switch request as? String {
            case "migrate":
                return .migrate(allowDestructive: event["allow_destructive"] as? Bool ?? false)
            case "run":
                let pipelines = (event["pipeline"] as? String).map { [$0] } ?? event["pipelines"] as? [String]
                return .run(pipelines: pipelines, from: try time(event["from"], "from"), to: try time(event["to"], "to"))
            case "reload":
                guard let pipeline = event["pipeline"] as? String else {
                    throw InvocationFailure(type: "Sluice.BadEvent", message: "a reload names its \"pipeline\"")
                }
                let keys = event["keys"] as? [String] ?? []
                let from = try time(event["from"], "from")
                guard !keys.isEmpty || from != nil else {
                    throw InvocationFailure(
                        type: "Sluice.BadEvent", message: "a reload names the objects to load again: \"keys\": [...], or \"from\" (and \"to\")")
                }
                return .reload(pipeline: pipeline, keys: keys, from: from, to: try time(event["to"], "to"))
            default:
                throw InvocationFailure(
                    type: "Sluice.BadEvent", message: "'sluice': \(request) is not a request this function takes: migrate, run or reload")
            }
        }
        // The template's schedule rules pass {"pipeline": NAME}; a bare EventBridge schedule runs them all.
        if let pipeline = event["pipeline"] as? String { return .run(pipelines: [pipeline], from: nil, to: nil) }
        if event["source"] as? String == "aws.events", event["detail-type"] as? String == "Scheduled Event" {
            return .run(pipelines: nil, from: nil, to: nil)
        }
        if let records = event["Records"] as? [[String: Any]] { return .objects(try objects(in: records)) }
        throw InvocationFailure(
            type: "Sluice.BadEvent",
            message:
                "the event is none this function takes: an EventBridge schedule, S3 notifications (directly, through SQS or SNS), or {\"sluice\": \"migrate\" | \"run\" | \"reload\"}"
        )
    }

    /// S3 notification records, unwrapped from SQS message bodies and SNS notifications.
    static func objects(in records: [[String: Any]]) throws -> [S3ObjectReference] {
        var found: [S3ObjectReference] = []
        for record in records {
            switch record["eventSource"] as? String ?? record["EventSource"] as? String {
            case "aws:s3":
                guard let s3 = record["s3"] as? [String: Any], let bucket = (s3["bucket"] as? [String: Any])?["name"] as? String,
                    let key = (s3["object"] as? [String: Any])?["key"] as? String
                else { throw InvocationFailure(type: "Sluice.BadEvent", message: "an S3 record without its bucket name and object key") }
                // S3 writes keys in notifications form-encoded: `+` for a space, %XX for the rest.
                let decoded = key.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? key
                if (record["eventName"] as? String)?.hasPrefix("ObjectRemoved") == true { continue }
                found.append(S3ObjectReference(bucket: bucket, key: decoded))
            case "aws:sqs":
                found += try objects(inMessage: record["body"] as? String ?? "")
            case "aws:sns":
                found += try objects(inMessage: (record["Sns"] as? [String: Any])?["Message"] as? String ?? "")
            default:
                throw InvocationFailure(
                    type: "Sluice.BadEvent", message: "a record from \(record["eventSource"] ?? "an unknown source"), not S3, SQS or SNS")
            }
        }
        return found
    }

    private static func objects(inMessage text: String) throws -> [S3ObjectReference] {
        guard let message = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw InvocationFailure(type: "Sluice.BadEvent", message: "a queued message that is not JSON: \(text.prefix(200))")
        }
        if message["Event"] as? String == "s3:TestEvent" { return [] }  // sent once when a notification is configured
        if message["Type"] as? String == "Notification", let inner = message["Message"] as? String { return try objects(inMessage: inner) }
        guard let records = message["Records"] as? [[String: Any]] else {
            throw InvocationFailure(type: "Sluice.BadEvent", message: "a queued message that holds no S3 records: \(text.prefix(200))")
        }
        return try objects(in: records)
    }

    private static func time(_ value: Any?, _ name: String) throws -> Date? {
        guard let value else { return nil }
        guard let text = value as? String, let date = ISO8601DateFormatter().date(from: text) else {
            throw InvocationFailure(type: "Sluice.BadEvent", message: "'\(name)' is an RFC 3339 time (2026-11-20T10:00:00Z), not \(value)")
        }
        return date
    }
}

extension FunctionEvent {
    var summary: String {
        switch self {
        case .run(let pipelines, let from, let to):
            return "run \(pipelines?.joined(separator: ", ") ?? "every pipeline")" + (from.map { " from \($0)" } ?? "")
                + (to.map { " to \($0)" } ?? "")
        case .objects(let references): return "load \(references.count) object(s)"
        case .migrate(let allowDestructive): return "migrate" + (allowDestructive ? " (destructive steps allowed)" : "")
        case .reload(let pipeline, let keys, let from, let to):
            return "reload \(pipeline): "
                + (keys.isEmpty ? "from \(from.map { "\($0)" } ?? "") to \(to.map { "\($0)" } ?? "now")" : "\(keys.count) object(s)")
        }
    }
}

/// Lambda's JSON log format: one object per line on stdout, with the invocation's request id.
struct FunctionLog: Sendable {
    var requestID: String?

    func info(_ message: String, _ fields: [String: Any] = [:]) { write("INFO", message, fields) }
    func error(_ message: String, _ fields: [String: Any] = [:]) { write("ERROR", message, fields) }

    /// One line in CloudWatch's embedded metric format: CloudWatch Logs turns it into metrics of
    /// namespace Sluice, by function and pipeline, with no API call and no permission beyond the logs'.
    func metrics(_ run: RunMetrics, at date: Date = Date()) {
        var entry: [String: Any] = [
            "_aws": [
                "Timestamp": Int(date.timeIntervalSince1970 * 1000),
                "CloudWatchMetrics": [
                    [
                        "Namespace": RunMetrics.namespace, "Dimensions": [["FunctionName", "Pipeline"]],
                        "Metrics": run.values.map { ["Name": $0.name, "Unit": "Count"] },
                    ]
                ],
            ],
            "FunctionName": ProcessInfo.processInfo.environment["AWS_LAMBDA_FUNCTION_NAME"] ?? "sluice",
            "Pipeline": run.pipeline, "run_id": run.runID,
        ]
        for (name, value) in run.values { entry[name] = value }
        emit(entry)
    }

    private func write(_ level: String, _ message: String, _ fields: [String: Any]) {
        var entry = fields
        entry["timestamp"] = ISO8601DateFormatter().string(from: Date())
        entry["level"] = level
        entry["message"] = message
        emit(entry)
    }

    /// One JSON object per line on stdout, with the invocation's request id.
    private func emit(_ fields: [String: Any]) {
        var entry = fields
        if let requestID { entry["requestId"] = requestID }
        guard let data = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardOutput.write(data + Data([0x0A]))
    }
}

/// Progress of a run in the function's log: each object as it finishes, each pipeline's end.
struct FunctionRunLog: PipelineRunObserver {
    var log: FunctionLog

    func event(_ event: RunEvent) {
        switch event {
        case .objectFinished(let key, let counts):
            log.info("loaded \(key)", ["object": key, "records": counts.recordsRead, "quarantined": counts.recordsQuarantined])
        case .retrying(let key, let attempt, let reason):
            log.info("retrying \(key) (attempt \(attempt)): \(reason)", ["object": key])
        case .fetched(let pipeline, let pages, let records):
            log.info("fetched \(pages) page(s), \(records) record(s) from the API of \(pipeline)", ["pipeline": pipeline, "records": records])
        default: break
        }
    }

    func finished(_ result: PipelineResult) {
        log.info(
            "pipeline \(result.pipeline): \(result.objectsLoaded) loaded, \(result.objectsSkipped) already loaded, \(result.objectsFailed.count) failed",
            ["pipeline": result.pipeline, "run_id": result.runID])
        log.metrics(RunMetrics(result))
    }

    func failed(pipeline: String, error: String) { log.error("pipeline \(pipeline): \(error)", ["pipeline": pipeline]) }
}

/// A run's counts as metrics: what the template's per-pipeline alarms watch.
struct RunMetrics {
    static let namespace = "Sluice"
    var pipeline: String
    var runID: Int
    var values: [(name: String, value: Int)]

    init(_ result: PipelineResult) {
        pipeline = result.pipeline
        runID = result.runID
        values = [
            ("ObjectsLoaded", result.objectsLoaded), ("ObjectsFailed", result.objectsFailed.count), ("ObjectsLeft", result.objectsLeft),
            ("RecordsRead", result.counts.recordsRead), ("RecordsLoaded", result.counts.recordsLoaded),
            ("RecordsQuarantined", result.counts.recordsQuarantined), ("RunsFailed", result.succeeded ? 0 : 1),
        ]
    }
}
