import Foundation

/// cloudformation_standin.py, started with a scenario: the CloudFormation API's failure paths
/// replayed from recorded event sequences (a resource failing, a rollback, an update in progress).
public final class CloudFormationStandIn: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// `scenario` is the JSON the script documents: stacks that exist, and one event sequence per execution.
    public init(scenario: [String: Any]) throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("cfn-scenario-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: scenario).write(to: file)
        (process, port) = try startScriptServer("cloudformation_standin.py", arguments: [file.path], name: "the CloudFormation stand-in")
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
