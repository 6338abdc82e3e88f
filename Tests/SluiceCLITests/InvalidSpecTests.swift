import Foundation
import TestSupport
import Testing

/// The rule tests: each spec in `specs/invalid/` must produce exactly the findings in its `.expected`
/// file (file, line, column, severity, message, rule ID), in text, JSON and SARIF alike.
@Suite struct InvalidSpecTests {
    static let specs: [String] = {
        let directory = packageRoot.appendingPathComponent("specs/invalid").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".swift") }
            .sorted()
    }()

    struct Finding: Hashable, CustomStringConvertible {
        var file: String, line: Int, column: Int, rule: String
        var description: String { "\(file):\(line):\(column) [\(rule)]" }
    }

    static func expected(_ spec: String) throws -> (lines: [String], findings: Set<Finding>) {
        let text = try String(
            contentsOf: packageRoot.appendingPathComponent("specs/invalid/\(spec.split(separator: ".").dropLast().joined(separator: ".")).expected"),
            encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let findings = lines.compactMap { line -> Finding? in
            let parts = line.split(separator: ":", maxSplits: 3).map(String.init)
            guard parts.count == 4, let l = Int(parts[1]), let c = Int(parts[2]),
                let open = line.lastIndex(of: "["), line.hasSuffix("]")
            else { return nil }
            return Finding(file: parts[0], line: l, column: c, rule: String(line[line.index(after: open)..<line.index(before: line.endIndex)]))
        }
        return (lines, Set(findings))
    }

    @Test func thereIsOneSpecPerRule() {
        #expect(Self.specs.count >= 38)
    }

    @Test(arguments: specs)
    func textOutputMatches(_ spec: String) throws {
        let expected = try Self.expected(spec)
        #expect(!expected.lines.isEmpty)
        let result = try CLI.run(["check", "--no-color", "specs/invalid/\(spec)"])
        let headers = result.stdout.split(separator: "\n").map(String.init).filter { $0.contains(": error: ") || $0.contains(": warning: ") }
            .filter { !$0.hasPrefix(" ") }
        #expect(headers == expected.lines)
        let hasErrors = expected.lines.contains { $0.contains(": error: ") }
        #expect(result.status == (hasErrors ? 1 : 0))
        if !hasErrors {
            #expect(try CLI.run(["check", "--strict", "specs/invalid/\(spec)"]).status == 1, "--strict fails on warnings")
        }
    }

    @Test(arguments: specs)
    func jsonOutputMatches(_ spec: String) throws {
        let expected = try Self.expected(spec)
        let result = try CLI.run(["check", "--format", "json", "specs/invalid/\(spec)"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let specs = try #require(report["specs"] as? [[String: Any]])
        let findings = specs.flatMap { ($0["findings"] as? [[String: Any]]) ?? [] }.compactMap { f -> Finding? in
            guard let file = f["file"] as? String, let line = f["line"] as? Int, let column = f["column"] as? Int, let rule = f["rule"] as? String
            else { return nil }
            return Finding(file: file, line: line, column: column, rule: rule)
        }
        #expect(Set(findings) == expected.findings)
        #expect(findings.count == expected.lines.count)
    }

    @Test(arguments: specs)
    func sarifOutputMatches(_ spec: String) throws {
        let expected = try Self.expected(spec)
        let result = try CLI.run(["check", "--format", "sarif", "specs/invalid/\(spec)"])
        let log = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        let findings = results.compactMap { r -> Finding? in
            guard let rule = r["ruleId"] as? String,
                let physical = ((r["locations"] as? [[String: Any]])?.first?["physicalLocation"]) as? [String: Any],
                let uri = (physical["artifactLocation"] as? [String: Any])?["uri"] as? String,
                let region = physical["region"] as? [String: Any],
                let line = region["startLine"] as? Int, let column = region["startColumn"] as? Int
            else { return nil }
            // ruleIndex must point at the rule's own descriptor.
            if let index = r["ruleIndex"] as? Int { #expect(rules[index]["id"] as? String == rule) }
            return Finding(file: uri, line: line, column: column, rule: rule)
        }
        #expect(Set(findings) == expected.findings)
    }
}
