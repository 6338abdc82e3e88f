import ArgumentParser
import SluiceDriver

/// `sluice <verb>`: the root holds only configuration and subcommands.
public struct SluiceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Compile one spec into a proven private network, CloudFormation, SQL and a runnable ETL plan.",
        version: SluiceVersion.current,
        subcommands: [
            CheckCommand.self, PlanCommand.self, ApplyCommand.self, RunCommand.self, ExportCommand.self, ExplainCommand.self, WhyCommand.self,
            DBCommand.self,
        ])

    public init() {}
}
