import ArgumentParser
import Foundation
import SluiceDriver

/// `sluice <verb>`: the root holds only configuration and subcommands.
public struct SluiceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Compile one spec into a proven private network, CloudFormation, SQL and a runnable ETL plan.",
        version: SluiceVersion.current,
        subcommands: [
            CheckCommand.self, PlanCommand.self, ApplyCommand.self, RunCommand.self, ExportCommand.self, ExplainCommand.self, WhyCommand.self,
            DBCommand.self, PackageCommand.self, BootstrapCommand.self, DestroyCommand.self, LambdaCommand.self,
        ])

    public init() {}

    /// Parses and runs a command. Every error is said one way, `error: …` on stderr: a usage error
    /// (exit 64) with the usage line, a failure (exit 1) without it; help and --version as usual.
    public static func runMain() -> Never {
        // A deployment package starts this binary as `bootstrap`, with no arguments: it is the function.
        if CommandLine.arguments.count == 1, URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent == "bootstrap" {
            Foundation.exit(LambdaFunction.serve())
        }
        do {
            var command = try parseAsRoot()
            try command.run()
            exit(withError: nil)
        } catch let failure as Failure {
            FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
            Foundation.exit(ExitCode.failure.rawValue)
        } catch let busy as StackBusy {
            FileHandle.standardError.write(Data("error: \(busy)\n".utf8))
            Foundation.exit(PipelineExecution.busyExitCode)
        } catch {
            let code = exitCode(for: error)
            // Help and --version print to stdout and exit 0; ArgumentParser does that best.
            guard code != .success else { exit(withError: error) }
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(code.rawValue)
        }
    }
}
