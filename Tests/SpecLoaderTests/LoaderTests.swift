import Foundation
import SluiceCore
import Testing

@testable import SpecLoader

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct LoaderTests {
    static let minimal = """
        project: { name: t, region: eu-west-1 }
        network:
          vpc: { cidr: 10.0.0.0/16 }
          subnets:
            - { name: pub, cidr: 10.0.0.0/24, az: a, type: public }
            - { name: app-a, cidr: 10.0.1.0/24, az: a, type: private }
            - { name: app-b, cidr: 10.0.2.0/24, az: b, type: private }
            - { name: db, cidr: 10.0.3.0/24, az: b, type: isolated }
          nat_gateways:
            - { name: nat-b, subnet: pub }
          endpoints:
            - { name: s3, service: s3 }
          security_groups:
            - { name: app, egress: [{ port: 443, cidr: 0.0.0.0/0 }] }
        storage:
          buckets: [{ name: raw }]
        compute:
          functions:
            - { name: fn, subnets: [app-a, app-b], security_groups: [app], uses: { read_buckets: [raw] } }

        """

    /// `app-a` and `app_a` are different names but one logical ID (SubnetAppA): the template would
    /// hold one subnet for both, so the loader refuses the second, pointing at the first.
    @Test func namesThatBecomeOneLogicalIDAreRefused() throws {
        let text = Self.minimal.replacingOccurrences(
            of: "    - { name: app-b, cidr: 10.0.2.0/24, az: b, type: private }\n",
            with: "    - { name: app-b, cidr: 10.0.2.0/24, az: b, type: private }\n    - { name: app_a, cidr: 10.0.4.0/24, az: b, type: private }\n")
        #expect(text != Self.minimal)
        let result = SpecLoader.load(text: text)
        let finding = try #require(result.diagnostics.first { $0.code == "SL105" }, "\(result.diagnostics.map(\.message))")
        #expect(finding.message == "subnet 'app_a' and 'app-a' become the same CloudFormation logical ID (…AppA); rename one")
        #expect(finding.location?.line == 8)
        #expect(finding.notes.first?.location?.line == 6)
        // Different kinds may share a name part: the logical IDs differ by their kind's prefix.
        #expect(
            SpecLoader.load(text: Self.minimal.replacingOccurrences(of: "name: raw", with: "name: app-a")).diagnostics.filter { $0.code == "SL105" }
                .isEmpty)
    }

    /// `derived: object_key` (and line, run_id, loaded_at) is lineage every row has; a derived
    /// field cannot take one of those names.
    @Test func lineageValuesAreDerivedNamesOfTheirOwn() throws {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/sme-reporting.yaml").path).spec)
        let sales = try #require(spec.pipelines.first { $0.name == "daily-sales" }?.targets.first?.mappings)
        #expect(sales.first { $0.column == "source_file" }?.source == .lineage(.objectKey))
        #expect(sales.first { $0.column == "load_run" }?.source == .lineage(.runID))
        let text = try String(contentsOf: packageRoot.appendingPathComponent("specs/sme-reporting.yaml"), encoding: .utf8)
        let clash = text.replacingOccurrences(
            of: "    fields:\n      invoice:", with: "    derive:\n      line: { date: date }\n    fields:\n      invoice:")
        #expect(clash != text)
        let messages = SpecLoader.load(text: clash).diagnostics.map(\.message)
        #expect(messages.contains("'line' is a lineage value every row has (derived: line); name the derived field otherwise"), "\(messages)")
    }

    /// How a source writes numbers, dates and times is checked where it is written: a pattern letter
    /// it does not know is reported at that letter.
    @Test func valueFormatsAreCheckedWhereTheyAreWritten() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("specs/sme-reporting.yaml"), encoding: .utf8)
        func load(
            _ date: String, net: String = "{ type: number, required: true }"
        ) -> (spec: Spec?, messages: [String], locations: [SluiceCore.SourceLocation]) {
            let edited = text.replacingOccurrences(of: "      date: { type: date, required: true }", with: "      date: \(date)")
                .replacingOccurrences(of: "      net: { type: number, required: true }", with: "      net: \(net)")
            let loaded = SpecLoader.load(text: edited)
            return (loaded.spec, loaded.diagnostics.map(\.message), loaded.diagnostics.compactMap(\.location))
        }
        let german = load(#"{ type: date, required: true, format: "dd.MM.yyyy" }"#, net: #"{ type: number, decimal: ",", group: "." }"#)
        #expect(german.messages.isEmpty, "\(german.messages)")
        let pipeline = try #require(german.spec?.pipelines.first { $0.name == "daily-sales" })
        let field = try #require(pipeline.fields.first { $0.path == "net" })
        #expect(field.notation == NumberNotation(decimal: ",", group: "."))

        let typo = load(#"{ type: date, format: "dd.MM.yyyy hh:mm" }"#)
        #expect(typo.messages.contains { $0.hasPrefix("format 'dd.MM.yyyy hh:mm': unknown pattern letter 'h'") }, "\(typo.messages)")
        let line =
            try #require(
                text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("      date: { type: date, required: true }") }
            ) + 1
        let column = "      date: { type: date, format: \"".count + 1 + "dd.MM.yyyy ".count
        #expect(typo.locations.contains { $0.line == line && $0.column == column }, "at the letter: \(typo.locations)")
        #expect(load(#"{ type: date, format: "dd.MMM.yyyy" }"#).messages.contains { $0.contains("'MMM' is not a width this pattern takes") })
        #expect(load(#"{ type: timestamp, format: "dd.MM.yyyy HH:mm" }"#).messages.contains { $0.contains("give its time_zone") })
        #expect(load(#"{ type: timestamp, time_zone: Europe/Berln }"#).messages.contains { $0.contains("not an IANA time zone name") })
        #expect(load(#"{ type: string, format: "dd.MM.yyyy" }"#).messages.contains { $0.contains("belongs to a date or timestamp field") })
        #expect(load("{ type: date }", net: #"{ type: number, decimal: ",", group: "," }"#).messages.contains { $0.contains("must differ") })
    }

    @Test func reportsEveryProblemInOnePass() {
        let result = SpecLoader.load(
            text: """
                project: { name: t, region: eu-west-1, colour: blue }
                network:
                  vpc: { cird: 10.0.0.0/16 }
                  subnets:
                    - { name: a, cidr: 10.0.0.0/33, az: a, type: privat }
                """)
        #expect(result.spec == nil)
        let codes = result.diagnostics.map(\.code)
        // Sorted by position: the missing key is reported at the start of its mapping.
        #expect(codes == ["SL102", "SL104", "SL102", "SL107", "SL103"])
        #expect(result.diagnostics[2].message == "unknown key 'cird' in vpc; did you mean 'cidr'?")
        #expect(result.diagnostics[0].message.contains("'colour'"))
    }

    @Test func derivesRouteTablesLikeCDK() throws {
        let spec = try #require(SpecLoader.load(text: Self.minimal).spec)
        let tables = spec.network.routeTables.map { ($0.name, $0.subnets, $0.routes.map { "\($0.destination) \($0.target)" }) }
        #expect(tables.count == 4)
        #expect(tables[0] == ("public", ["pub"], ["0.0.0.0/0 internet gateway 'igw'"]))
        #expect(tables[1] == ("private-a", ["app-a"], ["0.0.0.0/0 NAT gateway 'nat-b'"]))  // no NAT in zone a: the first NAT
        #expect(tables[2] == ("private-b", ["app-b"], ["0.0.0.0/0 NAT gateway 'nat-b'"]))
        #expect(tables[3] == ("isolated", ["db"], []))
        // Gateway endpoints attach to every non-public table and allow exactly what workloads use.
        let s3 = try #require(spec.network.endpoint("s3"))
        #expect(s3.routeTables == ["private-a", "private-b", "isolated"])
        #expect(s3.policy == .resources(["raw"], location: s3.location))
    }

    @Test func derivesLeastPrivilegeRoles() throws {
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        let role = try #require(spec.identity.role(for: "etl"))
        let byAction = Dictionary(role.statements.flatMap { s in s.actions.map { ($0, s) } }, uniquingKeysWith: { a, _ in a })
        let secrets = role.statements.filter { $0.actions == ["secretsmanager:GetSecretValue"] }.flatMap(\.resources)
        #expect(byAction["s3:GetObject"]?.resources == [.bucketObjects("raw", prefix: "events/")])
        #expect(byAction["s3:ListBucket"]?.resources == [.bucket("raw")])
        #expect(byAction["s3:ListBucket"]?.conditions == ["StringLike": ["s3:prefix": ["events/*"]]])
        // The admin's secret (for migrate), the writer role's own, and the key of the hashed columns.
        #expect(secrets == [.secret("mask-key"), .secret("dw-credentials"), .secret("etl_writer-credentials")])
        #expect(byAction["rds-db:connect"] == nil, "a self-managed warehouse logs in with a password")
        #expect(byAction["logs:PutLogEvents"]?.resources == [.logGroup(function: "etl")])
        #expect(byAction["s3:PutObject"] == nil)  // clickstream keeps rejects in the database only
    }

    @Test func maxRejectedIsACountOrAShare() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("specs/sme-reporting.yaml"), encoding: .utf8)
        func limit(_ value: String) -> (RejectLimit?, [String]) {
            let result = SpecLoader.load(path: "sme.yaml") { _ in
                Array(text.replacingOccurrences(of: "max_rejected: 25%", with: "max_rejected: \(value)").utf8)
            }
            return (result.spec?.pipelines.first { $0.name == "daily-sales" }?.maxRejected, result.diagnostics.map(\.message))
        }
        #expect(limit("25%").0 == .share(0.25))
        #expect(limit("12").0 == .count(12))
        #expect(limit("0").0 == .count(0))
        let (_, messages) = limit("lots")
        #expect(
            messages.contains { $0.contains("max_rejected is a number of records (25) or a share of an object's records (10%), not 'lots'") },
            "\(messages)")
        #expect(limit("150%").1.count == 1)
        let spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
        #expect(spec.pipelines[0].maxRejected == .standard, "half, unless the spec says")
    }

    @Test func securityGroupEgressDefaultsToAWSBehaviour() throws {
        let result = SpecLoader.load(
            text: """
                project: { name: t, region: eu-west-1 }
                network:
                  vpc: { cidr: 10.0.0.0/16 }
                  subnets: [{ name: a, cidr: 10.0.1.0/24, az: a, type: isolated }]
                  security_groups:
                    - { name: closed, egress: [] }
                    - { name: open }
                """)
        let spec = try #require(result.spec, "\(result.diagnostics.map(\.message))")
        #expect(spec.network.securityGroup("closed")?.egress.isEmpty == true)
        #expect(spec.network.securityGroup("open")?.egress.map(\.peer) == [.cidr(.anyIPv4)])
    }

    @Test func includesMergeMappingsAndConcatenateLists() throws {
        let files: [String: String] = [
            "dir/main.yaml":
                "include: [shared/net.yaml]\nproject: { name: t, region: eu-west-1 }\nnetwork:\n  subnets:\n    - { name: b, cidr: 10.0.2.0/24, az: b, type: isolated }\n",
            "dir/shared/net.yaml":
                "network:\n  vpc: { cidr: 10.0.0.0/16 }\n  subnets:\n    - { name: a, cidr: 10.0.1.0/24, az: a, type: isolated }\n",
        ]
        let result = SpecLoader.load(path: "dir/main.yaml") { path in
            guard let text = files[path] else { throw SpecLoader.ReadError(reason: "no such file") }
            return Array(text.utf8)
        }
        #expect(result.diagnostics.isEmpty)
        let spec = try #require(result.spec)
        #expect(spec.network.subnets.map(\.name) == ["a", "b"])
        #expect(spec.network.subnets[0].location.file == "dir/shared/net.yaml")
    }

    @Test func includeCyclesAreReported() {
        let files = ["a.yaml": "include: [b.yaml]\nproject: { name: t, region: eu-west-1 }\n", "b.yaml": "include: [a.yaml]\n"]
        let result = SpecLoader.load(path: "a.yaml") { path in
            guard let text = files[path] else { throw SpecLoader.ReadError(reason: "no such file") }
            return Array(text.utf8)
        }
        #expect(result.diagnostics.contains { $0.code == "SL101" && $0.message.contains("include cycle") })
    }

    @Test func secretsAreNeverLiterals() {
        let result = SpecLoader.load(text: Self.minimal + "messaging:\n  secrets:\n    - { name: db, value: hunter2 }\n")
        #expect(result.diagnostics.contains { $0.code == "SL111" && $0.message.contains("never written in a spec") })
    }

    @Test func referenceSpecsLoadWithoutDiagnostics() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("specs").path)
            .filter { $0.hasSuffix(".yaml") }
        #expect(specs.count == 5)
        for name in specs {
            let result = SpecLoader.load(path: packageRoot.appendingPathComponent("specs/\(name)").path)
            #expect(result.diagnostics.isEmpty, "\(name): \(result.diagnostics.map(\.message))")
        }
    }
}

@Suite struct IncludeLimitTests {
    /// Found by the fuzzer: a file that includes `d/self.yaml` relative to itself never repeats a path.
    @Test func growingIncludeChainsStopAtTheDepthLimit() {
        let text = Array("include: [d/self.yaml]\nproject: { name: t, region: eu-west-1 }\n".utf8)
        let result = SpecLoader.load(path: "self.yaml") { _ in text }
        let limit = result.diagnostics.filter { $0.code == "SL101" }
        #expect(limit.count == 1)
        #expect(limit.first?.message.contains("nest deeper than \(SpecLoader.maxIncludeDepth)") == true)
    }

    @Test func pathsAreNormalisedBeforeCycleDetection() {
        #expect(SpecLoader.resolve("../b/./c.yaml", relativeTo: "specs/a/main.yaml") == "specs/b/c.yaml")
        #expect(SpecLoader.resolve("/etc/x.yaml", relativeTo: "specs/main.yaml") == "/etc/x.yaml")
        #expect(SpecLoader.resolve("x.yaml", relativeTo: "main.yaml") == "x.yaml")
        // Odd paths (the fuzzer's) resolve without trapping.
        #expect(SpecLoader.resolve("1", relativeTo: "1") == "1")
        #expect(SpecLoader.resolve("", relativeTo: "a/b.yaml") == "a")
        #expect(SpecLoader.resolve("../../..", relativeTo: "x.yaml") == "../../..")
        #expect(SpecLoader.resolve("c//d.yaml", relativeTo: "/a//b.yaml") == "/a/c/d.yaml")
        #expect(SpecLoader.resolve("/", relativeTo: "") == "/")
        #expect(SpecLoader.resolve("é/ü.yaml", relativeTo: "ß/x.yaml") == "ß/é/ü.yaml")
        let files = ["specs/main.yaml": "include: [./../specs/main.yaml]\n"]
        let result = SpecLoader.load(path: "specs/main.yaml") { path in
            guard let text = files[path] else { throw SpecLoader.ReadError(reason: "no such file") }
            return Array(text.utf8)
        }
        #expect(result.diagnostics.contains { $0.message.contains("include cycle") })
    }
}

@Suite struct PipelineResolutionTests {
    static let spec = """
        project: { name: t, region: eu-west-1 }
        network:
          vpc: { cidr: 10.0.0.0/16 }
          subnets: [{ name: a, cidr: 10.0.1.0/24, az: a, type: isolated }]
          security_groups: [{ name: g }]
        storage: { buckets: [{ name: raw }] }
        messaging: { secrets: [{ name: s }] }
        compute: { functions: [{ name: f, subnets: [a], security_groups: [g] }] }
        warehouse:
          engine: rds
          subnets: [a]
          security_groups: [g]
          database: d
          credentials_secret: s
          clients: [g]
          schemas: [dw]
          tables: [{ name: facts, columns: [{ name: id, type: bigint, primary_key: true }] }]
          views: [{ name: recent, sql: SELECT 1 }]
        pipelines:
          - name: p
            workload: f
            source: { bucket: raw, format: jsonl }
            targets:
              - { table: facts, columns: { id: id } }
              - { table: recent, columns: { id: id } }
              - { table: fact, columns: { id: id } }
            post_load: [{ refresh: recent }]

        """

    @Test func targetsMustBeTablesAndNamesAreQualified() {
        let result = SpecLoader.load(text: Self.spec)
        let messages = result.diagnostics.map(\.message)
        #expect(messages.contains("pipelines load tables; 'dw.recent' is a view"))
        #expect(messages.contains("table 'fact' is not defined; did you mean 'facts'?"))
        #expect(messages.contains { $0.hasPrefix("materialized view 'recent' is not defined") })
        let fixed = SpecLoader.load(
            text: Self.spec.replacingOccurrences(of: "      - { table: recent, columns: { id: id } }\n", with: "")
                .replacingOccurrences(of: "      - { table: fact, columns: { id: id } }\n", with: "")
                .replacingOccurrences(of: "    post_load: [{ refresh: recent }]\n", with: ""))
        #expect(fixed.spec?.pipelines.first?.targets.map(\.table) == ["dw.facts"], "\(fixed.diagnostics.map(\.message))")
    }

    /// A version column orders nothing outside a versioned upsert: written there, it would be ignored,
    /// so it is refused where it is written (found by the random round trip, which changed a mode).
    @Test func aVersionColumnOutsideAVersionedUpsertIsRefused() {
        for mode in ["append", "upsert"] {
            let text = Self.spec.replacingOccurrences(
                of: "      - { table: facts, columns: { id: id } }",
                with: "      - { table: facts, mode: \(mode), key: [id], version_column: id, columns: { id: id } }")
            let refused = SpecLoader.load(text: text).diagnostics.filter { $0.message.hasPrefix("'version_column' applies to versioned_upsert") }
            #expect(refused.map(\.message) == ["'version_column' applies to versioned_upsert targets only; this target's mode is \(mode)"])
            #expect(refused.first?.location?.column == 50)
        }
    }
}
