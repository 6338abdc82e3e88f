import ArgumentParser
import Checks
import Foundation
import SluiceCore

/// `sluice why SPEC FROM TO [--port N]`: one reachability question, answered with the path that
/// carries it or the place it is cut, for every subnet the two ends sit in.
struct WhyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Answer one reachability question with the path that carries it, or where it is blocked.",
        discussion: """
        FROM and TO are a workload (function or host), the warehouse (its name or 'warehouse'), 'internet', or a service \
        ('s3:BUCKET/PREFIX', 's3', 'secretsmanager', 'sns', 'sqs', 'dynamodb', …). Exit 0 when every subnet's answer is \
        reachable, 1 when some is blocked.
        """)

    @Argument(help: "The spec (YAML or Swift).")
    var spec: String

    @Argument(help: "Where the connection starts.")
    var from: String

    @Argument(help: "Where it goes.")
    var to: String

    @Option(help: "The TCP port (default: the warehouse's port for the warehouse, 443 for services).")
    var port: Int?

    @Option(help: "Output format: text or json.")
    var format: WhyFormat = .text

    enum WhyFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func run() throws {
        let model = try Compilation.loadedSpec(path: spec)
        let engine = ReachabilityEngine(spec: model)
        let names = (model.compute.functions.map(\.name) + model.compute.hosts.map(\.name) + [model.warehouse?.name, "internet"].compactMap { $0 }).sorted()
        func end(_ text: String) throws -> FlowEnd {
            guard let end = FlowEnd(parsing: text, in: model) else {
                throw ValidationError("'\(text)' is not a workload, the warehouse, 'internet' or a service (known: \(names.joined(separator: ", ")), s3:BUCKET/PREFIX, \(FlowEnd.services.joined(separator: ", ")))")
            }
            return end
        }
        let (source, target) = (try end(from), try end(to))
        let result: (port: Int?, answers: [FlowAnswer])
        do { result = try engine.answer(from: source, to: target, port: port) } catch { throw ValidationError(error.description) }
        guard !result.answers.isEmpty else { throw ValidationError("\(source) or \(target) sits in no subnet of the spec") }
        switch format {
        case .text: print(text(source, target, result.port, result.answers), terminator: "")
        case .json: print(try json(source, target, result.port, result.answers))
        }
        if result.answers.contains(where: { !$0.verdict.isReachable }) { throw ExitCode.failure }
    }

    func text(_ source: FlowEnd, _ target: FlowEnd, _ port: Int?, _ answers: [FlowAnswer]) -> String {
        var out = "\(source) → \(target)\(port.map { " on TCP \($0)" } ?? "")\n"
        for answer in answers {
            let between = "from \(answer.source == "internet" ? "the internet" : "subnet '\(answer.source)'")\(answer.target.map { " to subnet '\($0)'" } ?? "")"
            switch answer.verdict {
            case .reachable(let path):
                out += "  \(between): reachable\n" + path.map { "    \($0)\n" }.joined()
            case .blocked(let reason, let path):
                out += "  \(between): BLOCKED: \(reason)\n" + path.map { "    \($0)\n" }.joined()
            }
        }
        return out
    }

    func json(_ source: FlowEnd, _ target: FlowEnd, _ port: Int?, _ answers: [FlowAnswer]) throws -> String {
        let object: [String: Any] = [
            "from": source.description, "to": target.description, "port": port as Any? ?? NSNull(),
            "reachable": answers.allSatisfy(\.verdict.isReachable),
            "answers": answers.map { answer -> [String: Any] in
                var item: [String: Any] = ["source": answer.source, "target": answer.target as Any? ?? NSNull(),
                                           "reachable": answer.verdict.isReachable, "path": answer.verdict.path]
                if case .blocked(let reason, _) = answer.verdict { item["reason"] = reason }
                return item
            },
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
