import Foundation
import TestSupport
import Testing

/// Sluice in the repositories it lives in: the project file, the pre-commit hooks run by real
/// pre-commit, the SARIF it writes for code scanning, and the GitHub Action's steps.
@Suite struct RepositoryTests {
    /// A temporary git repository holding a spec and the YAML every repository has besides.
    struct Repository {
        let root: URL

        init(specsFolder: String = "specs") throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-repo-\(UUID().uuidString)").resolvingSymlinksInPath()
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try git("init", "-q", "-b", "main")
            try copy("specs/clickstream.yaml", to: "\(specsFolder)/clickstream.yaml")
            try write(
                ".github/workflows/ci.yml",
                """
                name: ci
                on: { push: { branches: [main] }, pull_request: {} }
                jobs:
                  check:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                """)
            try write(
                "docker-compose.yml",
                """
                services:
                  warehouse:
                    image: postgres:16
                    environment: { POSTGRES_PASSWORD: example }
                """)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }

        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (text.hasSuffix("\n") ? text : text + "\n").write(to: url, atomically: true, encoding: .utf8)
        }

        func read(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }

        func copy(_ source: String, to path: String) throws {
            try write(path, try String(contentsOf: packageRoot.appendingPathComponent(source), encoding: .utf8))
        }

        func edit(_ path: String, replacing old: String, with new: String) throws {
            let text = try read(path)
            #expect(text.contains(old), "\(path) has no '\(old)'")
            try write(path, text.replacingOccurrences(of: old, with: new))
        }

        @discardableResult
        func git(_ arguments: String...) throws -> CLI.Result {
            let result = try tool("git", ["-c", "user.name=Sluice Test", "-c", "user.email=test@example.com"] + arguments)
            #expect(result.status == 0, "git \(arguments): \(result.stderr)")
            return result
        }

        func sluice(_ arguments: [String], in folder: String = ".") throws -> CLI.Result {
            try CLI.run(arguments, in: root.appendingPathComponent(folder))
        }

        func tool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Result {
            try CLI.run([name] + arguments, in: root, executable: URL(fileURLWithPath: "/usr/bin/env"), environment: toolEnvironment(environment))
        }
    }

    /// PATH with the built sluice first (the hooks are `language: system`) and pip's --user folder last.
    static func toolEnvironment(_ extra: [String: String] = [:]) throws -> [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        var environment = ["PATH": "\(try CLI.executable.deletingLastPathComponent().path):\(path):\(home)/.local/bin", "NO_COLOR": "1"]
        environment.merge(extra) { _, new in new }
        return environment
    }

    // MARK: the project file

    @Test func withoutAProjectFileTheDefaultsStay() throws {
        let repository = try Repository()
        defer { repository.remove() }
        let check = try repository.sluice(["check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("checked 1 spec: 0 errors"))
        #expect(try repository.sluice(["plan"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: repository.root.appendingPathComponent("generated/clickstream/cloudformation.yaml").path))
    }

    @Test func theProjectFileNamesSpecsGeneratedAndDefaults() throws {
        let repository = try Repository(specsFolder: "infra/specs/team")
        defer { repository.remove() }
        try repository.write(
            "sluice.yaml",
            """
            specs: ["infra/specs/**/*.yaml"]
            exclude: ["infra/specs/**/_*.yaml"]
            generated: infra/generated
            check: { strict: true }
            """)
        // A fragment the spec includes: matched by the glob, excluded, so never checked on its own.
        try repository.edit("infra/specs/team/clickstream.yaml", replacing: "project:", with: "include: [_storage.yaml]\nproject:")
        let spec = try repository.read("infra/specs/team/clickstream.yaml")
        let storage = spec.components(separatedBy: "\nstorage:\n")[1].components(separatedBy: "\n\n")[0]
        #expect(storage.contains("expire_days: 400"))
        try repository.write("infra/specs/team/_storage.yaml", "storage:\n" + storage)
        try repository.write("infra/specs/team/clickstream.yaml", spec.replacingOccurrences(of: "\nstorage:\n" + storage + "\n", with: "\n"))
        // Another spec with only a warning: the project's strict makes it fail.
        try repository.copy("specs/invalid/SL208-private-subnet-egress.yaml", to: "infra/specs/egress.yaml")

        let check = try repository.sluice(["check", "--no-color"], in: "infra")
        #expect(check.status == 1, "strict from the project file: \(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("specs/egress.yaml:13:7: warning: private subnet 'db'"), "paths relative to the folder run in: \(check.stdout)")
        #expect(check.stdout.contains("checked 2 specs: 0 errors, 1 warning"), "\(check.stdout)")
        #expect(try repository.sluice(["check", "--no-strict"], in: "infra").status == 0)

        let plan = try repository.sluice(["plan"])
        #expect(plan.status == 0, "\(plan.stderr)")
        for folder in ["clickstream", "egress"] {
            #expect(
                FileManager.default.fileExists(atPath: repository.root.appendingPathComponent("infra/generated/\(folder)/cloudformation.yaml").path))
        }
        #expect(!FileManager.default.fileExists(atPath: repository.root.appendingPathComponent("generated").path))
        #expect(try repository.sluice(["plan", "--check"]).status == 0)

        // A change to the included fragment makes generated/ stale, and --check names the file.
        try repository.edit("infra/specs/team/_storage.yaml", replacing: "expire_days: 400", with: "expire_days: 500")
        let stale = try repository.sluice(["plan", "--check"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("infra/generated/ is stale: run `sluice plan` and commit the result"), "\(stale.stderr)")
        #expect(
            stale.stderr.contains("  ~ infra/generated/clickstream/cloudformation.yaml: differs from what infra/specs/team/clickstream.yaml renders"),
            "\(stale.stderr)")
        #expect(!stale.stderr.contains("egress/"), "only what changed is named")
        #expect(try repository.sluice(["plan"]).status == 0)

        // A renamed spec leaves its old folder behind: stale until plan removes it.
        try FileManager.default.moveItem(
            at: repository.root.appendingPathComponent("infra/specs/egress.yaml"),
            to: repository.root.appendingPathComponent("infra/specs/private-egress.yaml"))
        let renamed = try repository.sluice(["plan", "--check", "--quiet"])
        #expect(renamed.status == 1)
        #expect(renamed.stdout.isEmpty, "--quiet: \(renamed.stdout)")
        #expect(
            renamed.stderr.contains("  - infra/generated/egress/cloudformation.yaml: no spec renders it any more; plan removes it"),
            "\(renamed.stderr)")
        #expect(
            renamed.stderr.contains("  + infra/generated/private-egress/cloudformation.yaml: missing; infra/specs/private-egress.yaml renders it"),
            "\(renamed.stderr)")
        #expect(try repository.sluice(["plan"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: repository.root.appendingPathComponent("infra/generated/egress").path))
        #expect(try repository.sluice(["plan", "--check"]).status == 0)
        // One holding a file of the user's is named, never deleted.
        try repository.write("infra/generated/retired/notes.md", "why this spec went")
        let kept = try repository.sluice(["plan"])
        #expect(
            kept.stderr.contains("infra/generated/retired/: warning: no spec renders it, but it holds files Sluice does not write; left in place"),
            "\(kept.stderr)")
        #expect(FileManager.default.fileExists(atPath: repository.root.appendingPathComponent("infra/generated/retired/notes.md").path))
        // Naming specs plans only those: other folders are not orphans then.
        #expect(try repository.sluice(["plan", "--check", "infra/specs/private-egress.yaml"]).status == 0)
    }

    @Test func affectedChecksTheSpecsAChangeTouches() throws {
        let repository = try Repository()
        defer { repository.remove() }
        try repository.write("sluice.yaml", "specs: [\"specs/*.yaml\"]\nexclude: [\"specs/_*.yaml\"]\n")
        try repository.edit("specs/clickstream.yaml", replacing: "project:", with: "include: [_tags.yaml]\nproject:")
        try repository.write("specs/_tags.yaml", "{}")
        try repository.copy("specs/invalid/SL107-bad-cidr.yaml", to: "specs/broken.yaml")
        try repository.copy("specs/invalid/SL107-bad-cidr.yaml", to: "elsewhere/broken.yaml")

        func affected(_ files: String...) throws -> CLI.Result { try repository.sluice(["check", "--affected", "--no-color"] + files) }
        let unrelated = try affected(".github/workflows/ci.yml", "docker-compose.yml", "elsewhere/broken.yaml", "README.md")
        #expect(unrelated.status == 0)
        #expect(unrelated.stdout.isEmpty && unrelated.stderr.isEmpty, "nothing of ours changed: silent")
        let fragment = try affected("specs/_tags.yaml")
        #expect(fragment.status == 0)
        #expect(fragment.stdout.contains("checked 1 spec: 0 errors"), "the spec that includes it: \(fragment.stdout)")
        let broken = try affected("docker-compose.yml", "specs/broken.yaml")
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("specs/broken.yaml:") && broken.stdout.contains("[SL107]"))
        #expect(broken.stdout.contains("checked 1 spec:"))
        let everything = try affected("sluice.yaml")
        #expect(everything.stdout.contains("checked 2 specs:"), "the project file changed: every spec")

        // Named explicitly, a file that is not a spec is one clear line.
        let workflow = try repository.sluice(["check", "--no-color", ".github/workflows/ci.yml"])
        #expect(workflow.status == 1)
        let findings = workflow.stdout.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(
            findings == [
                ".github/workflows/ci.yml:1:1: error: not a Sluice spec: its top-level keys ('name', 'on', 'jobs') are none of a spec's (project, network, warehouse, pipelines, …) [SL113]"
            ])
    }

    @Test func aBrokenProjectFileStopsWithItsLocation() throws {
        let repository = try Repository()
        defer { repository.remove() }
        try repository.write("sluice.yaml", "specs: [\"../*.yaml\"]\ncheck: { format: xml }\n")
        let check = try repository.sluice(["check", "--no-color"])
        #expect(check.status == 1)
        #expect(
            check.stderr.contains("sluice.yaml:1:9: error: '../*.yaml' in 'specs': a glob cannot leave the project's folder ('..') [SL111]"),
            "\(check.stderr)")
        #expect(check.stderr.contains("sluice.yaml:2:18: error: 'xml' is not a valid format"), "\(check.stderr)")
        #expect(check.stderr.contains("error: sluice.yaml has errors; nothing was checked"))
        try repository.write("sluice.yaml", "specs: [\"nowhere/*.yaml\"]\n")
        let empty = try repository.sluice(["check"])
        #expect(empty.status == 64)
        #expect(empty.stderr.contains("sluice.yaml names no existing spec (specs: nowhere/*.yaml)"), "\(empty.stderr)")
    }

    // MARK: pre-commit

    @Test func preCommitHooksInARealRepository() throws {
        // The hooks repository: this checkout's .pre-commit-hooks.yaml, committed, as pre-commit clones it.
        let hooks = try Repository()
        defer { hooks.remove() }
        try hooks.copy(".pre-commit-hooks.yaml", to: ".pre-commit-hooks.yaml")
        try hooks.git("add", ".pre-commit-hooks.yaml")
        try hooks.git("commit", "-q", "-m", "hooks")
        let revision = try hooks.git("rev-parse", "HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let repository = try Repository()
        defer { repository.remove() }
        // A Swift spec besides: the hook passes Swift files too (a copy of a reference spec, cached once compiled).
        try repository.copy("specs/serverless-canonical.swift", to: "specs/canonical.swift")
        try repository.write(
            ".pre-commit-config.yaml",
            """
            repos:
              - repo: \(hooks.root.path)
                rev: \(revision)
                hooks:
                  - id: sluice-check
                  - id: sluice-generated
            """)
        let cache = repository.root.appendingPathComponent(".pre-commit-home").path
        func preCommit() throws -> CLI.Result {
            try repository.git("add", "-A")
            return try repository.tool("pre-commit", ["run", "--all-files", "--color", "never"], environment: ["PRE_COMMIT_HOME": cache])
        }
        #expect(try repository.sluice(["plan"]).status == 0)
        try repository.write(".gitignore", ".pre-commit-home/")

        let clean = try preCommit()
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("sluice check") && clean.stdout.contains("Passed"), "\(clean.stdout)")
        #expect(!clean.stdout.contains("Failed"), "\(clean.stdout)")

        // A broken spec: its finding, and nothing about the workflow, the compose file or the config.
        try repository.edit("specs/clickstream.yaml", replacing: "cidr: 10.0.0.0/16", with: "cidr: 10.0.0.0/33")
        let broken = try preCommit()
        #expect(broken.status == 1)
        let output = broken.stdout
        #expect(output.contains("specs/clickstream.yaml:") && output.contains("[SL107]"), "\(output)")
        for other in ["ci.yml", "docker-compose", ".pre-commit-config", "[SL102]", "[SL104]", "[SL113]"] {
            #expect(!output.contains(other), "\(other) in: \(output)")
        }
        try repository.edit("specs/clickstream.yaml", replacing: "cidr: 10.0.0.0/33", with: "cidr: 10.0.0.0/16")

        // A finding in the Swift spec is reported at its line.
        let swift = try repository.read("specs/canonical.swift")
        try repository.write(
            "specs/canonical.swift",
            swift.replacingOccurrences(of: "Subnet(\"app-a\", cidr: \"10.20.1.0/24\"", with: "Subnet(\"app-a\", cidr: \"10.20.1.7/24\""))
        let swiftBroken = try preCommit()
        #expect(swiftBroken.status == 1)
        #expect(swiftBroken.stdout.contains("specs/canonical.swift:14:") && swiftBroken.stdout.contains("[SL107]"), "\(swiftBroken.stdout)")
        try repository.write("specs/canonical.swift", swift)

        // A spec changed without `sluice plan`: the generated hook fails and names the file; after plan it passes.
        try repository.edit("specs/clickstream.yaml", replacing: "description: ETL function", with: "description: ETL function (hourly)")
        let stale = try preCommit()
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("generated/ is stale"), "\(stale.stdout)")
        #expect(
            stale.stdout.contains("~ generated/clickstream/cloudformation.yaml: differs from what specs/clickstream.yaml renders"), "\(stale.stdout)")
        #expect(!stale.stdout.contains("canonical/"), "\(stale.stdout)")
        #expect(try repository.sluice(["plan"]).status == 0)
        let current = try preCommit()
        #expect(current.status == 0, "\(current.stdout)\(current.stderr)")
    }

    // MARK: SARIF

    @Test func sarifValidatesAgainstTheSARIFSchema() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-sarif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Findings of every kind: errors, warnings, related locations, evidence, a suppression, an unreadable file.
        let specs = [
            "specs/invalid/SL107-bad-cidr.yaml", "specs/invalid/SL105-duplicate-name.yaml", "specs/invalid/SL208-private-subnet-egress.yaml",
            "specs/invalid/SL213-warehouse-internet-exposure.yaml", "specs/invalid/SL001-unused-suppression.yaml", "specs/missing.yaml",
            "specs/clickstream.yaml",
        ]
        var suppressed = try String(contentsOf: packageRoot.appendingPathComponent("specs/invalid/SL215-open-admin-port.yaml"), encoding: .utf8)
        suppressed += "suppressions:\n  - rule: SL215\n    subject: security_group:admin\n    reason: break-glass access while the VPN is rebuilt\n"
        try suppressed.write(to: directory.appendingPathComponent("suppressed.yaml"), atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("sluice.sarif").path
        let result = try CLI.run(
            ["check", "--format", "sarif", "--sarif", file] + specs + [directory.appendingPathComponent("suppressed.yaml").path])
        #expect(result.status == 1)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == result.stdout, "--sarif writes what --format sarif prints")
        let validation = try CLI.run(
            ["python3", packageRoot.appendingPathComponent("Tests/TestSupport/validate_sarif.py").path, file],
            executable: URL(fileURLWithPath: "/usr/bin/env"), environment: try Self.toolEnvironment())
        #expect(validation.status == 0, "\(validation.stdout)\(validation.stderr)")
        #expect(validation.stdout.contains("valid SARIF 2.1.0"), "\(validation.stdout)")
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        let results = ((log?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]) ?? []
        #expect(results.count >= 7)
        #expect(results.contains { ($0["suppressions"] as? [[String: Any]])?.isEmpty == false })
        #expect(results.contains { ($0["relatedLocations"] as? [[String: Any]])?.isEmpty == false })
    }

    // MARK: the GitHub Action

    /// Runs action.yml's steps as a runner would (Tests/TestSupport/run_action.py), the build restored
    /// from a cache holding the sluice under test; returns each step by id.
    static func runAction(in repository: Repository, inputs: [String: String] = [:]) throws -> (steps: [String: [String: Any]], report: [String: Any])
    {
        let cache = repository.root.appendingPathComponent(".action-cache")
        try? FileManager.default.removeItem(at: cache)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try CLI.executable, to: cache.appendingPathComponent("sluice"))
        var arguments = [
            "python3", packageRoot.appendingPathComponent("Tests/TestSupport/run_action.py").path, packageRoot.path, repository.root.path,
            "--cache-from", cache.path,
        ]
        for (name, value) in inputs.sorted(by: { $0.key < $1.key }) { arguments += ["--input", "\(name)=\(value)"] }
        // Without the built sluice on PATH: the action's install step must put it there.
        let path =
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":" + FileManager.default.homeDirectoryForCurrentUser.path
            + "/.local/bin"
        #expect(!path.contains(try CLI.executable.deletingLastPathComponent().path))
        let run = try CLI.run(arguments, executable: URL(fileURLWithPath: "/usr/bin/env"), environment: ["PATH": path, "NO_COLOR": "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
        defer { try? FileManager.default.removeItem(atPath: report["runner_temp"] as? String ?? "/nonexistent") }
        let steps = (report["steps"] as? [[String: Any]] ?? []).reduce(into: [String: [String: Any]]()) { $0[$1["id"] as? String ?? ""] = $1 }
        return (steps, report)
    }

    @Test func theActionChecksUploadsAndGatesGenerated() throws {
        let schema = try CLI.run(
            ["check-jsonschema", "--builtin-schema", "vendor.github-actions", packageRoot.appendingPathComponent("action.yml").path],
            executable: URL(fileURLWithPath: "/usr/bin/env"), environment: try Self.toolEnvironment())
        #expect(schema.status == 0, "action.yml against GitHub's action schema: \(schema.stdout)\(schema.stderr)")

        let repository = try Repository()
        defer { repository.remove() }
        #expect(try repository.sluice(["plan"]).status == 0)

        // Clean: every step but the build (restored from the cache) runs and succeeds; the SARIF is uploaded.
        let clean = try Self.runAction(in: repository)
        for id in ["key", "cache", "libraries", "install", "check", "upload", "generated"] {
            #expect(clean.steps[id]?["outcome"] as? String == "success", "\(id): \(clean.steps[id] ?? [:])")
        }
        #expect(clean.steps["build"]?["ran"] as? Bool == false, "a cache hit builds nothing")
        #expect((clean.steps["install"]?["stdout"] as? String)?.hasPrefix("0.1") == true, "the restored binary runs from the job's PATH")
        let uploads = clean.report["uploads"] as? [[String: String]] ?? []
        #expect(uploads.first?["sarif_file"] == repository.root.appendingPathComponent("sluice.sarif").path)
        #expect(uploads.first?["category"] == "sluice")

        // A broken spec: an ::error annotation at its line, the SARIF still uploaded, the job failed.
        try repository.edit("specs/clickstream.yaml", replacing: "cidr: 10.0.0.0/16", with: "cidr: 10.0.0.0/33")
        let broken = try Self.runAction(in: repository)
        #expect(broken.steps["check"]?["outcome"] as? String == "failure")
        let annotations = broken.steps["check"]?["stdout"] as? String ?? ""
        #expect(annotations.contains("::error file=specs/clickstream.yaml,line="), "\(annotations)")
        #expect(annotations.contains("title=SL107::"), "\(annotations)")
        #expect(broken.steps["upload"]?["outcome"] as? String == "success", "findings still reach code scanning")
        #expect(broken.steps["generated"]?["ran"] as? Bool == false)
        try repository.edit("specs/clickstream.yaml", replacing: "cidr: 10.0.0.0/33", with: "cidr: 10.0.0.0/16")

        // Stale generated/: an ::error per file; upload-sarif off; a spec glob input and strict.
        try repository.edit("specs/clickstream.yaml", replacing: "description: ETL function", with: "description: ETL function (hourly)")
        let stale = try Self.runAction(in: repository, inputs: ["specs": "specs/**/*.yaml", "strict": "true", "upload-sarif": "false"])
        #expect(stale.steps["check"]?["outcome"] as? String == "success")
        #expect(stale.steps["upload"]?["ran"] as? Bool == false)
        #expect(stale.steps["generated"]?["outcome"] as? String == "failure")
        let staleOutput = stale.steps["generated"]?["stdout"] as? String ?? ""
        #expect(staleOutput.contains("::error file=generated/clickstream/cloudformation.yaml,title=generated/ is stale::"), "\(staleOutput)")

        // A glob that matches nothing is an error, not a silent pass.
        let nothing = try Self.runAction(in: repository, inputs: ["specs": "infra/**/*.yaml"])
        #expect(nothing.steps["check"]?["outcome"] as? String == "failure")
        #expect(
            (nothing.steps["check"]?["stderr"] as? String)?.contains("::error title=sluice::the spec glob 'infra/**/*.yaml' matches no file") == true)
    }
}
