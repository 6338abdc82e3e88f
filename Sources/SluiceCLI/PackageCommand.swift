import ArgumentParser
import Foundation
import SluiceDriver

/// `sluice package SPEC`: the deployment package of each function that runs pipelines.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Build the Lambda deployment package of each function that runs pipelines.",
        discussion: """
            Each package is a zip: `bootstrap` (this sluice binary, serving Lambda's Runtime API), the shared libraries \
            and dynamic loader it runs with (so it runs on provided.al2023 whatever this machine's glibc is), the \
            function's plan.json and the spec. The same spec and the same sluice give the same bytes; the zip's SHA-256 \
            is its key in the artifact bucket, which a deploy passes as the function's CodeKey parameter, so an unchanged \
            package never redeploys its function. Packages are written outside generated/ and are not committed.
            A function's architecture is its spec's (`architecture`, arm64 by default); a sluice built for one \
            architecture packages that architecture only. Exit status: 0 written; 1 the spec has errors or a package \
            cannot be built (another architecture, over Lambda's size limits); 64 usage error.
            """)

    @Argument(help: "The spec whose functions to package.")
    var spec: String

    @Option(name: .customLong("function"), help: "Package only this function (repeatable). Default: every function that runs a pipeline.")
    var functions: [String] = []

    @Option(help: "Package only functions of this architecture (x86_64 or arm64).")
    var arch: String?

    @Option(name: .shortAndLong, help: "The folder to write packages into.")
    var output: String = ".sluice/packages"

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        if let arch, !["x86_64", "arm64"].contains(arch) { throw ValidationError("--arch is x86_64 or arm64, not '\(arch)'") }
    }

    func run() throws {
        let compilation = try Compilation.clean(path: spec)
        var names = functions
        if let arch, let spec = compilation.spec {
            let matching = spec.compute.functions.filter { $0.architecture == arch && (names.isEmpty || names.contains($0.name)) }.map(\.name)
            guard !matching.isEmpty else { throw Failure("no function of \(self.spec) to package runs on \(arch)") }
            names = matching
        }
        let folder = URL(fileURLWithPath: output).appendingPathComponent(URL(fileURLWithPath: spec).deletingPathExtension().lastPathComponent)
        let built = try FunctionPackaging.build(compilation, functions: names, output: folder)
        switch format {
        case .json:
            print(try JSONOutput.text(built))
        case .text:
            for package in built {
                print("\(package.function) (\(package.architecture)): \(package.path)")
                print(
                    "  \(megabytes(package.zippedBytes)) zipped, \(megabytes(package.unzippedBytes)) unzipped, \(package.files) files "
                        + "(Lambda takes up to 50 MB zipped, 250 MB unzipped)")
                print("  key \(package.key): upload it to the artifact bucket and pass it as \(package.parameter)")
                print("  runs \(package.pipelines.joined(separator: ", "))")
            }
        }
    }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}

/// `sluice lambda`: what a package's `bootstrap` runs.
struct LambdaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda",
        abstract: "Serve invocations from Lambda's Runtime API (a deployment package's bootstrap).",
        discussion: """
            Reads the function's plan and spec from the package (LAMBDA_TASK_ROOT/sluice/), the warehouse's address and \
            secret from SLUICE_WAREHOUSE_HOST, _PORT, _DATABASE and _SECRET, and takes invocations from \
            AWS_LAMBDA_RUNTIME_API until the environment ends. Events: an EventBridge schedule or {"pipeline": NAME} runs \
            pipelines; S3 notifications (directly, or through SQS or SNS) load exactly the objects they name; \
            {"sluice": "migrate", "allow_destructive": false} migrates the warehouse; {"sluice": "run", "pipeline": NAME, \
            "from": TIME, "to": TIME} runs on demand. A package's bootstrap is this binary, which runs this command when \
            started under that name. Exit status: 1 the function cannot start; 64 not inside Lambda.
            """)

    func run() throws {
        let status = LambdaFunction.serve()
        throw ExitCode(status)
    }
}
