import ArgumentParser
import Foundation
import SluiceDriver

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
        let report = try usage { try ReachabilityReport.answer(in: try Compilation.loadedSpec(path: spec), from: from, to: to, port: port) }
        switch format {
        case .text: print(text(report), terminator: "")
        case .json: print(try json(report))
        }
        if !report.reachable { throw ExitCode.failure }
    }

    func text(_ report: ReachabilityReport) -> String {
        var out = "\(report.from) → \(report.to)\(report.port.map { " on TCP \($0)" } ?? "")\n"
        for answer in report.answers {
            let between =
                "from \(answer.source == "internet" ? "the internet" : "subnet '\(answer.source)'")\(answer.target.map { " to subnet '\($0)'" } ?? "")"
            if answer.reachable {
                out += "  \(between): reachable\n" + answer.path.map { "    \($0)\n" }.joined()
            } else {
                out += "  \(between): BLOCKED: \(answer.reason ?? "")\n" + answer.path.map { "    \($0)\n" }.joined()
            }
        }
        return out
    }

    func json(_ report: ReachabilityReport) throws -> String {
        let object: [String: Any] = [
            "from": report.from, "to": report.to, "port": report.port as Any? ?? NSNull(),
            "reachable": report.reachable,
            "answers": report.answers.map { answer -> [String: Any] in
                var item: [String: Any] = [
                    "source": answer.source, "target": answer.target as Any? ?? NSNull(),
                    "reachable": answer.reachable, "path": answer.path,
                ]
                if let reason = answer.reason { item["reason"] = reason }
                return item
            },
        ]
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            as: UTF8.self)
    }
}
