import Checks

/// `sluice why FROM TO`: one reachability question about a spec, answered for every subnet the two
/// ends sit in.
public struct ReachabilityReport: Sendable {
    public struct Answer: Sendable {
        /// A subnet's name, or `internet`.
        public var source: String
        /// A subnet's name; nil for a service.
        public var target: String?
        public var reachable: Bool
        /// Why not, when blocked.
        public var reason: String?
        /// The hops that carry the connection, or those up to where it is cut.
        public var path: [String]
    }

    public var from: String
    public var to: String
    public var port: Int?
    public var answers: [Answer]

    public var reachable: Bool { answers.allSatisfy(\.reachable) }

    /// FROM and TO are a workload, the warehouse (its name or `warehouse`), `internet`, or a service
    /// (`s3:BUCKET/PREFIX`, `secretsmanager`, …).
    public static func answer(in spec: Spec, from: String, to: String, port: Int?) throws -> ReachabilityReport {
        let names = (spec.compute.functions.map(\.name) + spec.compute.hosts.map(\.name) + [spec.warehouse?.name, "internet"].compactMap { $0 })
            .sorted()
        func end(_ text: String) throws -> FlowEnd {
            guard let end = FlowEnd(parsing: text, in: spec) else {
                throw UsageError(
                    "'\(text)' is not a workload, the warehouse, 'internet' or a service (known: \(names.joined(separator: ", ")), s3:BUCKET/PREFIX, \(FlowEnd.services.joined(separator: ", ")))"
                )
            }
            return end
        }
        let (source, target) = (try end(from), try end(to))
        let result: (port: Int?, answers: [FlowAnswer])
        do { result = try ReachabilityEngine(spec: spec).answer(from: source, to: target, port: port) } catch { throw UsageError(error.description) }
        guard !result.answers.isEmpty else { throw Failure("\(source) or \(target) sits in no subnet of the spec") }
        return ReachabilityReport(
            from: source.description, to: target.description, port: result.port,
            answers: result.answers.map { answer in
                var reason: String?
                if case .blocked(let why, _) = answer.verdict { reason = why }
                return Answer(
                    source: answer.source, target: answer.target, reachable: answer.verdict.isReachable, reason: reason, path: answer.verdict.path)
            })
    }
}
