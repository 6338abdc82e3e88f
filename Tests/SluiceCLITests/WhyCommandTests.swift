import Foundation
import TestSupport
import Testing

/// `sluice why`: one question, the path that carries it or where it is cut, for every subnet.
@Suite struct WhyCommandTests {
    @Test func aCarriedFlowShowsItsPathAndExitsZero() throws {
        let result = try CLI.run(["why", "specs/clickstream.yaml", "etl", "dw"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("etl → warehouse 'dw' on TCP 5432\n"))
        #expect(result.stdout.contains("from subnet 'etl-a' to subnet 'analytics': reachable"))
        #expect(result.stdout.contains("security group 'dw' ingress 5432 from security group 'etl'"))
    }

    @Test func aCutFlowNamesWhereAndExitsOne() throws {
        let result = try CLI.run(["why", "specs/invalid/SL211-pipeline-reaches-warehouse.yaml", "etl", "warehouse"])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "from subnet 'etl-b' to subnet 'db': BLOCKED: no egress rule of security group 'etl' allows TCP 5432 to warehouse 'dw'"))
        // The endpoint policy's explicit deny, for a bucket prefix.
        let denied = try CLI.run(["why", "specs/invalid/SL210-endpoint-policy-actions.yaml", "etl", "s3:raw/events/2026/"])
        #expect(denied.status == 1)
        #expect(denied.stdout.contains("denies s3:GetObject on 'raw/events/2026/*' (statement NoThisYear)"), "\(denied.stdout)")
        #expect(try CLI.run(["why", "specs/invalid/SL210-endpoint-policy-actions.yaml", "etl", "s3:raw/archive/"]).status == 0)
    }

    @Test func jsonIsForScripts() throws {
        let result = try CLI.run(["why", "--format", "json", "specs/clickstream.yaml", "etl", "s3:raw/events/"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["to"] as? String == "s3:raw/events/" && object["reachable"] as? Bool == true && object["port"] as? Int == 443)
        let answers = try #require(object["answers"] as? [[String: Any]])
        #expect(answers.map { $0["source"] as? String } == ["etl-a", "etl-b"])
        #expect((answers[0]["path"] as? [String])?.last == "s3 'raw'")
    }

    @Test func questionsItCannotAnswerAreUsageErrors() throws {
        let unknown = try CLI.run(["why", "specs/clickstream.yaml", "etl", "nowhere"])
        #expect(unknown.status == 64 && unknown.stderr.contains("'nowhere' is not a workload"))
        let noPort = try CLI.run(["why", "specs/clickstream.yaml", "etl", "dashboard"])
        #expect(noPort.status == 64 && noPort.stderr.contains("--port"))
        #expect(try CLI.run(["why", "--help"]).status == 0)
    }
}
