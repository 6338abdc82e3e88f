import Foundation
import FunctionPackage
import PlanCompiler
import SpecExport

/// `sluice package`: one Lambda deployment package per function that runs pipelines — this sluice
/// binary as `bootstrap` with everything it loads, the function's plan.json, and the spec it was
/// compiled from (the migrate event needs the schema).
public enum FunctionPackaging {
    /// Inside a package: where the function finds its plan and its spec (relative to the task root).
    public static let planPath = "sluice/plan.json"
    public static let specPath = "sluice/spec.yaml"

    public struct Built: Encodable, Sendable {
        public var function: String
        public var architecture: String
        /// Where the zip was written.
        public var path: String
        /// The artifact bucket key a deploy passes as the function's code key: the zip's SHA-256.
        public var key: String
        /// The template parameter that takes `key`.
        public var parameter: String
        public var sha256: String
        public var zippedBytes: Int
        public var unzippedBytes: Int
        public var files: Int
        public var pipelines: [String]
    }

    /// Builds and writes the packages of `compilation`'s functions (all that run pipelines, or those
    /// named) into `output`. Refuses a function whose architecture is not this machine's, and a package
    /// over Lambda's limits.
    public static func build(
        _ compilation: Compilation, functions names: [String], output: URL, executable: String = "/proc/self/exe"
    ) throws -> [Built] {
        guard let spec = compilation.spec, let root = compilation.root else { throw Failure("\(compilation.file) did not compile") }
        guard let plan = PlanCompiler.compile(spec) else { throw Failure("\(compilation.file) has no pipelines: no function has anything to run") }
        let runners = spec.compute.functions.filter { function in spec.pipelines.contains { $0.workload == function.name } }
        for name in names where !runners.contains(where: { $0.name == name }) {
            let known = runners.map(\.name)
            throw UsageError(
                "no function '\(name)' runs a pipeline in \(compilation.file)"
                    + (known.isEmpty ? "" : "; functions that do: \(known.joined(separator: ", "))"))
        }
        let chosen = names.isEmpty ? runners : runners.filter { names.contains($0.name) }
        guard !chosen.isEmpty else { throw Failure("no function in \(compilation.file) runs a pipeline: pipelines on hosts are not packaged") }
        let host = RuntimeBundle.hostMachine.description
        for function in chosen where function.architecture != host {
            throw Failure(
                "function '\(function.name)' runs on \(function.architecture) (its `architecture` in the spec), and this sluice is an \(host) build, "
                    + "which packages \(host) functions only: package it with an \(function.architecture) build of sluice (an \(function.architecture) CI runner), "
                    + "or set `architecture: \(host)`")
        }
        let runtime = try RuntimeBundle.files(executable: try resolved(executable))
        // The file name only: where the spec sits on the build machine must not change the bytes.
        let specText = try YAMLExport.render(root, source: URL(fileURLWithPath: compilation.file).lastPathComponent)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        return try chosen.map { function in
            var own = plan
            own.pipelines = plan.pipelines.filter { $0.workload == function.name }
            let files =
                runtime + [
                    PackageFile(path: planPath, contents: Data(Array(try JSONOutput.text(own).utf8) + [0x0A])),
                    PackageFile(path: specPath, contents: Data(specText.utf8)),
                ]
            let package = try DeploymentPackage(files: files)
            let problems = package.limitProblems
            guard problems.isEmpty else { throw Failure("function '\(function.name)': \(problems.joined(separator: "; "))") }
            let path = output.appendingPathComponent("\(function.name)-\(package.sha256.prefix(12)).zip")
            try package.zip.write(to: path)
            return Built(
                function: function.name, architecture: function.architecture, path: path.path, key: "\(function.name)/\(package.sha256).zip",
                parameter: "CodeKey" + LogicalName.part(function.name), sha256: package.sha256, zippedBytes: package.zip.count,
                unzippedBytes: package.unzippedSize, files: package.files.count,
                pipelines: own.pipelines.map(\.name))
        }
    }

    /// `/proc/self/exe` names this process's binary only to this process: ldd must get the real path.
    private static func resolved(_ path: String) throws -> String {
        guard path == "/proc/self/exe" else { return path }
        return try FileManager.default.destinationOfSymbolicLink(atPath: path)
    }
}
