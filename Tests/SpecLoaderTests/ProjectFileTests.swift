import Foundation
import SluiceCore
import Testing

@testable import SpecLoader

@Suite struct GlobTests {
    @Test func segmentsMatchAsTheShellDoes() {
        #expect(Glob.matches("specs/*.yaml", path: "specs/a.yaml"))
        #expect(!Glob.matches("specs/*.yaml", path: "specs/team/a.yaml"), "'*' stays within one folder")
        #expect(!Glob.matches("specs/*.yaml", path: "specs/a.yml"))
        #expect(Glob.matches("specs/?.y[a]ml", path: "specs/b.yaml"))
        #expect(!Glob.matches("specs/*.yaml", path: "specs/.hidden.yaml"), "a wildcard does not match a leading dot")
        #expect(Glob.matches("specs/.*.yaml", path: "specs/.hidden.yaml"))
        #expect(Glob.matches("specs/a.yaml", path: "specs/a.yaml"))
    }

    @Test func doubleStarSpansFoldersIncludingNone() {
        #expect(Glob.matches("infra/**/*.yaml", path: "infra/a.yaml"))
        #expect(Glob.matches("infra/**/*.yaml", path: "infra/x/y/z/a.yaml"))
        #expect(Glob.matches("**/*.yaml", path: "a.yaml"))
        #expect(!Glob.matches("infra/**/*.yaml", path: "infra/.git/a.yaml"), "'**' does not enter hidden folders")
        #expect(!Glob.matches("infra/**/*.yaml", path: "other/a.yaml"))
        #expect(Glob.matches("infra/**/specs/*.yaml", path: "infra/team/specs/a.yaml"))
        #expect(!Glob.matches("infra/**/specs/*.yaml", path: "infra/team/specs/x/a.yaml"))
    }

    @Test func unusableGlobsSayWhy() {
        #expect(Glob.problem("specs/*.yaml") == nil)
        #expect(Glob.problem("specs/**/*.yaml") == nil)
        #expect(Glob.problem("")?.contains("matches nothing") == true)
        #expect(Glob.problem("/etc/*.yaml")?.contains("relative") == true)
        #expect(Glob.problem("../other/*.yaml")?.contains("'..'") == true)
        #expect(Glob.problem("specs/")?.contains("names files") == true)
        #expect(Glob.problem("specs//a.yaml") != nil)
        #expect(Glob.problem("specs/a**.yaml")?.contains("whole segment") == true)
    }

    @Test func discoveryWalksOnlyWhereAPatternCanMatch() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in [
            "specs/a.yaml", "specs/b.yml", "specs/team/c.yaml", "specs/.hidden/d.yaml", "generated/a/cloudformation.yaml",
            "infra/x.yaml", ".github/workflows/ci.yaml", "node/e.yaml",
        ] {
            try write("x: 1\n", to: root + "/" + file)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/specs/linked.yaml", withDestinationPath: root + "/infra/x.yaml")
        try FileManager.default.createSymbolicLink(atPath: root + "/specs/loop", withDestinationPath: root + "/specs")
        #expect(Glob.files(matching: ["specs/*.yaml"], under: root) == ["specs/a.yaml", "specs/linked.yaml"])
        #expect(
            Glob.files(matching: ["specs/**/*.yaml", "specs/*.yml"], under: root) == [
                "specs/a.yaml", "specs/b.yml", "specs/linked.yaml", "specs/team/c.yaml",
            ],
            "hidden folders and a link to a folder are not walked")
        #expect(
            Glob.files(matching: ["**/*.yaml"], under: root, skipping: ["generated"])
                == ["infra/x.yaml", "node/e.yaml", "specs/a.yaml", "specs/linked.yaml", "specs/team/c.yaml"])
        #expect(
            Glob.files(matching: ["**/*.yaml"], excluding: ["node/**/*", "specs/team/*"], under: root, skipping: ["generated"])
                == ["infra/x.yaml", "specs/a.yaml", "specs/linked.yaml"])
        #expect(Glob.files(matching: ["specs/a.yaml", "specs/missing.yaml", "specs/a.yaml"], under: root) == ["specs/a.yaml"])
        #expect(Glob.files(matching: ["nowhere/*.yaml"], under: root).isEmpty)
    }
}

@Suite struct ProjectFileTests {
    @Test func readsEveryKey() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/sluice.yaml"
        try write(
            """
            specs: ["infra/**/*.yaml", "infra/*.swift"]
            exclude: ["infra/**/_*.yaml"]
            generated: infra/generated
            check: { strict: true, format: github }
            plan: { format: json }
            """, to: path)
        let (project, diagnostics) = ProjectFile.load(path: path, checkFormats: ["text", "github"], planFormats: ["text", "json"])
        #expect(diagnostics.isEmpty)
        #expect(project?.specs == ["infra/**/*.yaml", "infra/*.swift"])
        #expect(project?.exclude == ["infra/**/_*.yaml"])
        #expect(project?.generated == "infra/generated")
        #expect(project?.strict == true)
        #expect(project?.checkFormat == "github")
        #expect(project?.planFormat == "json")
        #expect(project?.root == URL(fileURLWithPath: root).standardizedFileURL.path)
    }

    @Test func anEmptyFileIsTheDefaults() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write("# defaults\n", to: root + "/sluice.yaml")
        let (project, diagnostics) = ProjectFile.load(path: root + "/sluice.yaml", checkFormats: [], planFormats: [])
        #expect(diagnostics.isEmpty)
        #expect(project?.specs == ProjectFile.defaultSpecs)
        #expect(project?.generated == "generated")
        #expect(project?.strict == false)
    }

    @Test func mistakesPointAtTheirLine() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/sluice.yaml"
        try write(
            """
            specs: ["/abs/*.yaml", "ok/*.yaml"]
            generated: ../out
            check: { strict: maybe, format: xml }
            plans: {}
            """, to: path)
        let (project, diagnostics) = ProjectFile.load(path: path, checkFormats: ["text"], planFormats: ["text"])
        #expect(project == nil)
        let found = diagnostics.map { "\($0.location?.line ?? 0):\($0.location?.column ?? 0) \($0.code)" }
        #expect(found == ["1:9 SL111", "2:12 SL111", "3:18 SL103", "3:33 SL103", "4:1 SL102"], "\(diagnostics.map(\.message))")
        #expect(diagnostics.first?.message.contains("relative to the project file's folder") == true)
        #expect(diagnostics.last?.message.contains("did you mean 'plan'?") == true)
    }

    @Test func findStopsAtTheRepositoryTop() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/repo/.git", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/repo/infra/specs", withIntermediateDirectories: true)
        try write("specs: [\"*.yaml\"]\n", to: root + "/sluice.yaml")  // outside the repository: never used
        #expect(ProjectFile.find(from: root + "/repo/infra/specs") == nil)
        try write("", to: root + "/repo/sluice.yaml")
        #expect(ProjectFile.find(from: root + "/repo/infra/specs") == URL(fileURLWithPath: root + "/repo/sluice.yaml").standardizedFileURL.path)
    }

    @Test func aSwiftTwinOfAYAMLSpecIsLeftOut() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in ["specs/a.yaml", "specs/a.swift", "specs/b.swift", "specs/team/a.swift", "generated/a/x.yaml"] {
            try write("", to: root + "/" + file)
        }
        var project = ProjectFile(root: root)
        #expect(project.specFiles() == ["specs/a.yaml", "specs/b.swift"])
        project.specs = ["**/*.yaml", "**/*.swift"]
        #expect(project.specFiles() == ["specs/a.yaml", "specs/b.swift", "specs/team/a.swift"], "the generated folder is never a spec")
    }

    @Test func aSpecRecordsTheFilesItIncludes() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write("include: [parts/network.yaml]\nproject: { name: t, region: eu-west-1 }\n", to: root + "/spec.yaml")
        try write("include: [../common.yaml]\n", to: root + "/parts/network.yaml")
        try write("network: { vpc: { cidr: 10.0.0.0/16 } }\n", to: root + "/common.yaml")
        let result = SpecLoader.load(path: root + "/spec.yaml")
        #expect(result.files == [root + "/spec.yaml", root + "/parts/network.yaml", root + "/common.yaml"])
    }

    @Test func aYAMLFileThatIsNoSpecIsOneLine() {
        let result = SpecLoader.load(text: "services:\n  db:\n    image: postgres:16\nvolumes: {}\nnetworks: {}\n", file: "docker-compose.yml")
        #expect(result.diagnostics.map(\.code) == ["SL113"], "'networks' is one edit from 'network', but the file is no spec")
        #expect(result.diagnostics.first?.message.contains("'services', 'volumes', 'networks'") == true)
        // A spec with one misspelt top-level key among real ones is still a spec, with its usual findings.
        let misspelt = SpecLoader.load(text: "project: { name: t, region: eu-west-1 }\nnetwrk: {}\n")
        #expect(misspelt.diagnostics.map(\.code).contains("SL102"))
        #expect(!misspelt.diagnostics.map(\.code).contains("SL113"))
        let allMisspelt = SpecLoader.load(text: "projet: { name: t, region: eu-west-1 }\n")
        #expect(allMisspelt.diagnostics.contains { $0.code == "SL102" && $0.message.contains("did you mean 'project'?") })
    }
}

func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-project-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}

func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}
