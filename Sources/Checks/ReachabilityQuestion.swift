import SluiceCore

/// One end of a reachability question (`sluice why`): a workload, the warehouse, the internet, or
/// an AWS service (`s3:bucket/prefix`, `secretsmanager`, …).
public enum FlowEnd: Equatable, Sendable, CustomStringConvertible {
    case workload(String)
    case warehouse(String)
    case internet
    case service(String, bucket: String?, prefix: String)

    public static let services = ["s3", "dynamodb", "secretsmanager", "sns", "sqs", "logs", "sts", "kms", "ecr"]

    /// Reads `etl`, `dw` (the warehouse), `warehouse`, `internet`, `s3:raw/events/`, `s3`, `sns`.
    public init?(parsing text: String, in spec: Spec) {
        if text == "internet" { self = .internet; return }
        if let warehouse = spec.warehouse, text == warehouse.name || text == "warehouse" { self = .warehouse(warehouse.name); return }
        if spec.compute.function(text) != nil || spec.compute.host(text) != nil { self = .workload(text); return }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let service = parts.first, Self.services.contains(service) else { return nil }
        guard parts.count == 2 else { self = .service(service, bucket: nil, prefix: ""); return }
        let path = parts[1].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        self = .service(service, bucket: path[0], prefix: path.count == 2 ? path[1] : "")
    }

    public var description: String {
        switch self {
        case .workload(let name): return name
        case .warehouse(let name): return "warehouse '\(name)'"
        case .internet: return "the internet"
        case .service(let service, let bucket, let prefix): return bucket.map { "\(service):\($0)/\(prefix)" } ?? service
        }
    }
}

/// One answer of a question: from one subnet (or the internet) to one subnet (or a service).
public struct FlowAnswer: Sendable {
    public var source: String
    public var target: String?
    public var verdict: Verdict
}

public enum ReachabilityQuestionError: Error, CustomStringConvertible, Equatable {
    case unsupported(String)
    case needsPort(String)

    public var description: String {
        switch self {
        case .unsupported(let text), .needsPort(let text): return text
        }
    }
}

extension ReachabilityEngine {
    /// Answers "can FROM open a connection to TO (on `port`)?" for every subnet the ends sit in.
    public func answer(from: FlowEnd, to: FlowEnd, port: Int?) throws(ReachabilityQuestionError) -> (port: Int?, answers: [FlowAnswer]) {
        switch (from, to) {
        case (.workload(let source), .warehouse(let name)):
            guard let warehouse = spec.warehouse, warehouse.name == name else { throw .unsupported("no warehouse '\(name)'") }
            let port = port ?? warehouse.port
            return (port, pairs(placements(ofWorkload: source), placements(ofWarehouse: warehouse), port: port))
        case (.workload(let source), .workload(let target)):
            guard let port else { throw .needsPort("from one workload to another, say which port: --port N") }
            return (port, pairs(placements(ofWorkload: source), placements(ofWorkload: target), port: port))
        case (.workload(let source), .service(let service, let bucket, let prefix)):
            let accesses = service == "s3" ? bucket.map { S3Access.reading($0, prefix: prefix) } ?? [] : []
            return (
                443,
                placements(ofWorkload: source).map { placement in
                    FlowAnswer(
                        source: placement.subnet.name, target: nil,
                        verdict: reachService(from: placement, service: service, resource: bucket, accesses: accesses))
                }
            )
        case (.workload(let source), .internet):
            return (
                443,
                placements(ofWorkload: source).map { placement in
                    FlowAnswer(
                        source: placement.subnet.name, target: nil,
                        verdict: reachInternet(from: placement, purpose: "the internet", path: ["\(placement)"]))
                }
            )
        case (.internet, .workload(let target)):
            guard let port else { throw .needsPort("from the internet, say which port: --port N") }
            return (
                port,
                placements(ofWorkload: target).map {
                    FlowAnswer(source: "internet", target: $0.subnet.name, verdict: reachFromInternet(to: $0, port: port))
                }
            )
        case (.internet, .warehouse):
            guard let warehouse = spec.warehouse else { throw .unsupported("the spec has no warehouse") }
            let port = port ?? warehouse.port
            return (
                port,
                placements(ofWarehouse: warehouse).map {
                    FlowAnswer(source: "internet", target: $0.subnet.name, verdict: reachFromInternet(to: $0, port: port))
                }
            )
        default:
            throw .unsupported(
                "sluice why answers from a workload (to a workload, the warehouse, a service or the internet) or from the internet (to a workload or the warehouse); not from \(from) to \(to)"
            )
        }
    }

    private func pairs(_ sources: [Placement], _ targets: [Placement], port: Int) -> [FlowAnswer] {
        sources.flatMap { source in
            targets.map { FlowAnswer(source: source.subnet.name, target: $0.subnet.name, verdict: reach(from: source, to: $0, port: port, .every)) }
        }
    }
}
