import ArgumentParser
import Foundation
import SluiceDriver

/// `sluice db …`: the throwaway local PostgreSQL under `.sluice/` (or `$SLUICE_DB_DIR`).
struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the throwaway local PostgreSQL cluster that `sluice apply` uses by default.",
        discussion: "The cluster lives in .sluice/ under the working directory (or $SLUICE_DB_DIR) and listens only on a Unix socket there.",
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self, PSQL.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Initialise (once) and start the cluster.")
        func run() throws {
            let cluster = LocalCluster.default()
            try cluster.start()
            print("local PostgreSQL running in \(cluster.root.path)\nconnect: \(cluster.url())")
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the cluster (its data stays until you delete the folder).")
        func run() throws { try LocalCluster.default().stop() }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the cluster exists and runs; exit 1 when it does not run.")
        func run() throws {
            let cluster = LocalCluster.default()
            guard cluster.isInitialized else {
                print("no local cluster in \(cluster.root.path) (sluice db start creates one)")
                throw ExitCode.failure
            }
            guard cluster.isRunning else {
                print("local cluster in \(cluster.root.path) is stopped")
                throw ExitCode.failure
            }
            print("local cluster in \(cluster.root.path) is running\nconnect: \(cluster.url())")
        }
    }

    struct URLCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "url", abstract: "Print the connection URL of a database of the cluster.")
        @Option(help: "Database name.") var database = "postgres"
        func run() throws { print(LocalCluster.default().url(database: database)) }
    }

    struct PSQL: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "psql", abstract: "Open psql on a database of the cluster.")
        @Option(help: "Database name.") var database = "postgres"
        @Argument(parsing: .postTerminator, help: "Arguments for psql, after `--` (sluice db psql -- -c '\\dt').") var psqlArguments: [String] = []
        func run() throws {
            let url = LocalCluster.default().url(database: database)
            let arguments = ["psql", url] + psqlArguments
            // Replace this process, so psql owns the terminal.
            let argv = arguments.map { strdup($0) } + [nil]
            execvp("psql", argv)
            throw Failure("cannot run psql: \(String(cString: strerror(errno)))")
        }
    }
}
