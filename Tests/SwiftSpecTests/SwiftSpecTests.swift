import Foundation
import SluiceCore
import SpecExport
import SpecLoader
import SwiftSpecs
import TestSupport
import Testing
import YAML

let referenceSpecs = ["clickstream", "data-platform", "serverless-canonical", "sme-reporting", "streaming-lake"]

/// A reference spec's path, or the spec that writes every key the reference specs leave out.
func corpusPath(_ name: String) -> String {
    name == "every-key"
        ? packageRoot.appendingPathComponent("Tests/SpecLoaderTests/every-key.yaml").path
        : packageRoot.appendingPathComponent("specs/\(name).yaml").path
}

/// Swift specs: compiled against SluiceDSL and run, decoded by the YAML loader's decoder, cached.
@Suite(.serialized) struct SwiftSpecTests {
    /// The committed twins generate exactly the bytes their YAML twins do.
    @Test(arguments: ["clickstream", "serverless-canonical"])
    func twinsGenerateIdenticalFiles(_ name: String) throws {
        let folder = try temporaryFolder("twins")
        defer { try? FileManager.default.removeItem(at: folder) }
        for form in ["yaml", "swift"] {
            let result = try CLI.run(["plan", "specs/\(name).\(form)", "--output", folder.appendingPathComponent(form).path])
            #expect(result.status == 0, "\(form): \(result.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("yaml/\(name)").path).sorted()
        #expect(files == ["architecture.md", "cloudformation.yaml", "plan.json", "schema.sql"])
        for file in files {
            let yaml = try Data(contentsOf: folder.appendingPathComponent("yaml/\(name)/\(file)"))
            let swift = try Data(contentsOf: folder.appendingPathComponent("swift/\(name)/\(file)"))
            #expect(yaml == swift, "\(name)/\(file) differs between the YAML and the Swift spec")
        }
        // And both match what is committed.
        #expect(try CLI.run(["plan", "specs/\(name).swift", "--check"]).status == 0)
    }

    /// YAML -> Swift (exported, compiled, run) -> YAML (exported) gives the same model at every step:
    /// for the reference specs, and for the spec that writes every key of the schema the reference
    /// specs leave out (so a key the export or the DSL cannot carry fails here).
    @Test(arguments: referenceSpecs + ["every-key"])
    func roundTripKeepsTheModel(_ name: String) throws {
        let folder = try temporaryFolder("round-trip")
        defer { try? FileManager.default.removeItem(at: folder) }
        let loaded = SpecLoader.load(path: corpusPath(name))
        let original = try #require(loaded.spec)

        let merged = try #require(loaded.root)
        let swiftPath = folder.appendingPathComponent("\(name).swift").path
        try SwiftExport.render(merged, source: "\(name).yaml").write(toFile: swiftPath, atomically: true, encoding: .utf8)
        let fromSwift = SwiftSpecLoader.load(path: swiftPath, environment: cacheEnvironment(folder))
        #expect(fromSwift.diagnostics.isEmpty, "\(fromSwift.diagnostics.map(\.message))")
        let swiftModel = try #require(fromSwift.spec)
        #expect(ModelComparison.canonical(swiftModel) == ModelComparison.canonical(original))

        let nodes = try #require(fromSwift.root, "the exported Swift spec did not run")
        let backPath = folder.appendingPathComponent("\(name).yaml").path
        try YAMLExport.render(nodes, source: "\(name).swift").write(toFile: backPath, atomically: true, encoding: .utf8)
        let back = try #require(SpecLoader.load(path: backPath).spec)
        #expect(ModelComparison.canonical(back) == ModelComparison.canonical(original))
    }

    /// Specs made at random along the schema (each key, about one time in seven, takes another word it allows
    /// or is left out when it has a default), kept when they load, go through the same round trip: a
    /// combination of values the fixed corpus does not write that the export or the DSL loses fails
    /// here. Seeded: `SLUICE_SEED` replays a run, `SLUICE_VARIATIONS` makes more.
    @Test func randomSpecsAlongTheSchemaRoundTrip() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["SLUICE_SEED"].flatMap(UInt64.init) ?? 0x5EED_5C4E
        let perSpec = environment["SLUICE_VARIATIONS"].flatMap(Int.init) ?? 2
        var generator = SplitMix64(state: seed)
        let folder = try temporaryFolder("random-specs")
        defer { try? FileManager.default.removeItem(at: folder) }
        var roundTripped = 0
        var changedModels = 0
        for name in referenceSpecs + ["every-key"] {
            let path = corpusPath(name)
            let base = SpecLoader.load(path: path)
            let root = try #require(base.root)
            for variation in 0..<perSpec {
                // Some draws leave a key another one needs (no `schemas`, so a table's schema is
                // unknown): draw again, up to a bound.
                var found: (root: YAMLNode, spec: Spec)?
                for _ in 0..<50 where found == nil {
                    let changed = SpecVariations.random(root, occurrences: base.keyOccurrences, rate: 0.15, using: &generator)
                    if let spec = SpecLoader.load(root: changed, file: path).spec { found = (changed, spec) }
                }
                let (changed, original) = try #require(found, "\(name): no variation loaded in 50 draws (seed \(seed))")
                if let unchanged = base.spec, ModelComparison.canonical(unchanged) != ModelComparison.canonical(original) { changedModels += 1 }
                let swiftPath = folder.appendingPathComponent("\(name)-\(variation).swift").path
                try SwiftExport.render(changed, source: "\(name).yaml").write(toFile: swiftPath, atomically: true, encoding: .utf8)
                let fromSwift = SwiftSpecLoader.load(path: swiftPath, environment: cacheEnvironment(folder))
                #expect(fromSwift.diagnostics.isEmpty, "\(name) seed \(seed): \(fromSwift.diagnostics.map(\.message))")
                let swiftModel = try #require(fromSwift.spec)
                let (exported, loaded) = (ModelComparison.canonical(swiftModel), ModelComparison.canonical(original))
                #expect(exported == loaded, "\(name) variation \(variation), seed \(seed): \(ModelComparison.firstDifference(loaded, exported))")
                let nodes = try #require(fromSwift.root)
                let back = try YAMLExport.render(nodes, source: "\(name).swift")
                let backModel = try #require(SpecLoader.load(text: back, file: "\(name)-\(variation).yaml").spec, "seed \(seed)")
                let yamlAgain = ModelComparison.canonical(backModel)
                #expect(
                    yamlAgain == loaded,
                    "\(name) variation \(variation) back to YAML, seed \(seed): \(ModelComparison.firstDifference(loaded, yamlAgain))")
                roundTripped += 1
            }
        }
        #expect(roundTripped == (referenceSpecs.count + 1) * perSpec)
        #expect(changedModels > 0, "the variations left every spec as it was")
    }

    /// Strings that are hard to write as Swift literals come back unchanged: backslashes, quotes, `\(`,
    /// `"#`, `"""`, tabs, trailing blanks, leading indentation, several lines, non-ASCII.
    @Test func exportKeepsEveryString() throws {
        let folder = try temporaryFolder("strings")
        defer { try? FileManager.default.removeItem(at: folder) }
        let reasons = [
            #"back\\slash, \"quotes\" and \\(not interpolated)"#, ##"regex ^a\\.b$ next to \"# a raw string's end"##,
            #"two\nlines\n"#, #"trailing blank \nand a line after"#, #"a\ttab between the words of a reason"#, #"three \"\"\" quotes\nthen more\n"#,
            #"unicode é ✓ 日本"#, #"  leading blanks\n    indented more\n"#, #"ends without a newline\nsecond"#,
        ]
        var yaml = "project: { name: strings, region: eu-west-1 }\nnetwork:\n  vpc: { cidr: 10.0.0.0/16 }\n"
        yaml += "  subnets: [{ name: a, cidr: 10.0.1.0/24, az: a, type: isolated }]\nsuppressions:\n"
        for (index, reason) in reasons.enumerated() { yaml += "  - { rule: SL20\(index), reason: \"\(reason)\" }\n" }
        let yamlPath = folder.appendingPathComponent("strings.yaml").path
        try yaml.write(toFile: yamlPath, atomically: true, encoding: .utf8)
        let loaded = SpecLoader.load(path: yamlPath)
        let original = try #require(loaded.spec)
        #expect(original.suppressions.count == reasons.count)
        let swiftPath = folder.appendingPathComponent("strings.swift").path
        try SwiftExport.render(try #require(loaded.root), source: "strings.yaml")
            .write(toFile: swiftPath, atomically: true, encoding: .utf8)
        let exported = SwiftSpecLoader.load(path: swiftPath, environment: cacheEnvironment(folder))
        #expect(exported.diagnostics.isEmpty, "\(exported.diagnostics.map(\.message))")
        let fromSwift = try #require(exported.spec)
        #expect(fromSwift.suppressions.map(\.reason) == original.suppressions.map(\.reason))
    }

    /// The comparison is not blind: one changed port is a different model.
    @Test func modelComparisonSeesAChange() throws {
        let path = packageRoot.appendingPathComponent("specs/clickstream.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let a = try #require(SpecLoader.load(text: text).spec)
        let b = try #require(SpecLoader.load(text: text.replacingOccurrences(of: "port: 3838", with: "port: 3839")).spec)
        #expect(ModelComparison.canonical(a) != ModelComparison.canonical(b))
        #expect(ModelComparison.canonical(a) == ModelComparison.canonical(try #require(SpecLoader.load(text: text, file: "x.yaml").spec)))
    }

    /// The second load of an unchanged spec runs the cached program; an edit compiles a new one.
    @Test func compiledSpecsAreCached() throws {
        let folder = try temporaryFolder("cache")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = folder.appendingPathComponent("small.swift")
        try Self.small(port: 5432).write(to: spec, atomically: true, encoding: .utf8)
        let environment = cacheEnvironment(folder)
        let programs = folder.appendingPathComponent("cache/swift-specs")

        let first = Date()
        #expect(SwiftSpecLoader.load(path: spec.path, environment: environment).spec != nil)
        let compiled = Date().timeIntervalSince(first)
        let built = try FileManager.default.contentsOfDirectory(atPath: programs.path)
        #expect(built.count == 1)
        let program = programs.appendingPathComponent(built[0]).appendingPathComponent("spec")
        let modified = try FileManager.default.attributesOfItem(atPath: program.path)[.modificationDate] as? Date

        let second = Date()
        #expect(SwiftSpecLoader.load(path: spec.path, environment: environment).spec != nil)
        let cached = Date().timeIntervalSince(second)
        #expect(try FileManager.default.attributesOfItem(atPath: program.path)[.modificationDate] as? Date == modified)
        #expect(try FileManager.default.contentsOfDirectory(atPath: programs.path).count == 1)
        #expect(cached < compiled, "cached \(cached) s, compiled \(compiled) s")

        try Self.small(port: 6432).write(to: spec, atomically: true, encoding: .utf8)
        let changed = try #require(SwiftSpecLoader.load(path: spec.path, environment: environment).spec)
        #expect(changed.warehouse == nil && changed.network.securityGroups.first { $0.name == "db" }?.ingress.first?.ports == PortRange(6432))
        #expect(try FileManager.default.contentsOfDirectory(atPath: programs.path).count == 2)
    }

    static func small(port: Int) -> String {
        """
        import SluiceDSL

        let spec = Spec {
            Project("small", region: "eu-west-1")
            VPC(cidr: "10.0.0.0/16") {
                Subnet("db", cidr: "10.0.1.0/24", az: "a", type: .isolated)
                SecurityGroup("app", outbound: .none)
                SecurityGroup("db", outbound: .none) {
                    Ingress(.port(\(port)), from: "app")
                }
            }
        }

        """
    }

    /// Two declarations of one part, a trap in the spec's own code, and a file that declares nothing
    /// are each reported with where and why.
    @Test func brokenSwiftSpecsAreReported() throws {
        let folder = try temporaryFolder("broken")
        defer { try? FileManager.default.removeItem(at: folder) }
        func load(_ text: String) throws -> LoadResult {
            let path = folder.appendingPathComponent("spec-\(UUID().uuidString.prefix(6)).swift").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return SwiftSpecLoader.load(path: path, environment: cacheEnvironment(folder))
        }
        let twice = try load(
            Self.small(port: 5432).replacingOccurrences(
                of: "    Project(\"small\", region: \"eu-west-1\")",
                with: "    Project(\"small\", region: \"eu-west-1\")\n    Project(\"again\", region: \"eu-west-2\")"))
        let duplicate = try #require(twice.diagnostics.first { $0.code == "SL105" })
        #expect(duplicate.location?.line == 5 && duplicate.notes.first?.location?.line == 4, "\(duplicate)")

        let trap = try load("import SluiceDSL\nlet names: [String] = []\nlet spec = Spec {\n    Project(names[0], region: \"eu-west-1\")\n}\n")
        #expect(trap.spec == nil)
        #expect(
            trap.diagnostics.first?.code == "SL112" && trap.diagnostics.first?.message.contains("exited with status") == true,
            "\(trap.diagnostics.map(\.message))")

        let two = try load(
            "import SluiceDSL\nlet a = Spec { Project(\"a\", region: \"eu-west-1\") }\nlet b = Spec { Project(\"b\", region: \"eu-west-1\") }\n")
        #expect(two.diagnostics.first?.message.contains("declares 2") == true, "\(two.diagnostics.map(\.message))")

        let nothing = try load("import SluiceDSL\nlet port = 5432\n")
        #expect(nothing.diagnostics.first?.message.contains("wrote no spec") == true, "\(nothing.diagnostics.map(\.message))")

        let missing = SwiftSpecLoader.load(path: folder.appendingPathComponent("absent.swift").path)
        #expect(missing.diagnostics.first?.code == "SL101")
    }

    /// A package of one's own that depends on SluiceDSL and calls `spec.main()`: sluice runs its executable.
    @Test func ownPackageExecutable() throws {
        let folder = try temporaryFolder("package")
        defer { try? FileManager.default.removeItem(at: folder) }
        let sources = folder.appendingPathComponent("Sources/Deployment")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let identity = packageRoot.standardizedFileURL.lastPathComponent.lowercased()
        try """
        // swift-tools-version: 6.0
        import PackageDescription

        let package = Package(
            name: "Deployment",
            dependencies: [.package(path: "\(packageRoot.standardizedFileURL.path)")],
            targets: [.executableTarget(name: "Deployment", dependencies: [.product(name: "SluiceDSL", package: "\(identity)")])]
        )

        """.write(to: folder.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try """
        import SluiceDSL

        /// Shared by every spec this team writes.
        func isolatedSubnets(_ zones: [String]) -> [any NetworkPart] {
            zones.enumerated().map { Subnet("private-\\($1)", cidr: "10.1.\\($0).0/24", az: $1, type: .isolated) }
        }

        let spec = Spec {
            Project("own-package", region: "eu-west-1")
            VPC(cidr: "10.1.0.0/16") {
                isolatedSubnets(["a", "b"])
                SecurityGroup("db", outbound: .none) {
                    Ingress(.postgres, from: "missing")
                }
            }
        }

        spec.main()

        """.write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        let build = try CLI.run(["build", "--package-path", folder.path], executable: URL(fileURLWithPath: try swiftExecutable()))
        #expect(build.status == 0, "\(build.stdout)\n\(build.stderr)")
        let program = folder.appendingPathComponent(".build/debug/Deployment").path
        let result = try CLI.run(["check", "--format", "json", program])
        #expect(result.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let findings = (report["specs"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]] ?? []
        #expect(findings.count == 1)
        #expect(findings.first?["rule"] as? String == "SL106")
        #expect((findings.first?["file"] as? String)?.hasSuffix("Sources/Deployment/main.swift") == true)
        #expect(findings.first?["line"] as? Int == 13)
        #expect(findings.first?["column"] as? Int == 13, "at the I of Ingress, not at its parenthesis")

        // Run by hand it says what it is, and exits 0.
        let byHand = try CLI.run([], executable: URL(fileURLWithPath: program))
        #expect(byHand.status == 0 && byHand.stderr.contains("describes a Sluice spec"))
    }

    /// `sluice export`: both directions through the CLI, and its usage errors.
    @Test func exportCommand() throws {
        let folder = try temporaryFolder("export")
        defer { try? FileManager.default.removeItem(at: folder) }
        let swift = try CLI.run(["export", "--swift", "specs/sme-reporting.yaml"])
        #expect(swift.status == 0)
        #expect(swift.stdout.contains("import SluiceDSL") && swift.stdout.contains("format: .csv(header: true, delimiter: \";\")"))
        let swiftFile = folder.appendingPathComponent("sme-reporting.swift")
        try swift.stdout.write(to: swiftFile, atomically: true, encoding: .utf8)
        let yamlFile = folder.appendingPathComponent("sme-reporting.yaml")
        #expect(try CLI.run(["export", "--yaml", swiftFile.path, "-o", yamlFile.path]).status == 0)
        let yaml = try String(contentsOf: yamlFile, encoding: .utf8)
        #expect(yaml.contains("delimiter: ;") || yaml.contains("delimiter: \";\""))

        #expect(try CLI.run(["export", "specs/clickstream.yaml"]).status == 64)
        #expect(try CLI.run(["export", "--swift", "--yaml", "specs/clickstream.yaml"]).status == 64)
        #expect(try CLI.run(["export", "--yaml", "specs/clickstream.yaml"]).status == 64)
        let invalid = try CLI.run(["export", "--swift", "specs/invalid/SL106-dangling-reference.yaml"])
        #expect(invalid.status == 1 && invalid.stderr.contains("SL106") && invalid.stdout.isEmpty)
    }
}

/// Each test compiles into its own cache, so they do not depend on one another or on ~/.cache.
func cacheEnvironment(_ folder: URL) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["SLUICE_CACHE_DIR"] = folder.appendingPathComponent("cache").path
    return environment
}

func swiftExecutable() throws -> String {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        if FileManager.default.isExecutableFile(atPath: "\(directory)/swift") { return "\(directory)/swift" }
    }
    throw CLI.CLIError.notBuilt
}
