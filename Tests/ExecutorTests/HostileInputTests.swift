import Foundation
import PipelineExecutor
import PostgresClient
import TestSupport
import Testing

/// Records a real feed sends sooner or later: each is quarantined with its reason, and every good
/// record around them still loads.
@Suite("hostile input")
struct HostileInputTests {
    static func event(_ n: Int, timestamp: String = "2026-11-20T09:00:00Z") -> String {
        "{\"event_id\": \"7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a\(String(format: "%02d", n))\", \"event_timestamp\": \"\(timestamp)\", \"event_name\": \"page_view\", \"user\": {\"id\": \"u\(n)\"}}"
    }

    @Test func eachBadRecordIsQuarantinedWithItsReasonAndTheGoodOnesLoad() async throws {
        let folder = try temporaryFolder("hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]  // a BOM before the first record: encoding, not data
        func line(_ text: String) { bytes += Array(text.utf8) + [10] }
        line(Self.event(1))
        bytes += Array("{\"event_id\": \"7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a90\", \"event_name\": \"".utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8)
        line(Self.event(2))
        line("{\"event_id\": \"7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a91\", \"event_timestamp\": \"2026-11-20T09:00:00Z\", \"event_name\": \"a\\u0000b\"}")
        bytes += Array("{\"event_id\": \"x\", \"event_name\": \"a".utf8) + [0] + Array("b\"}\n".utf8)
        line("{\"pad\": \"" + String(repeating: "x", count: 17 << 20) + "\"}")
        line(Self.event(3))
        line(String(repeating: "{\"a\": ", count: 1001) + "1" + String(repeating: "}", count: 1001))
        line(
            "{\"event_id\": \"7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a92\", \"event_id\": \"7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a93\", \"event_timestamp\": \"2026-11-20T09:00:00Z\", \"event_name\": \"x\"}"
        )
        line(Self.event(94, timestamp: "2026-11-20T25:00:00Z"))
        line(Self.event(95, timestamp: "20/11/2026 09:00"))
        bytes += [0xEF, 0xBB, 0xBF]
        line(Self.event(96))
        line("[1, 2, 3]")
        line(Self.event(4) + "\r")  // CRLF line ending
        // Good records outnumber the bad, or the whole object is over the pipeline's reject limit (half).
        for n in 5...11 { line(Self.event(n)) }
        let events = folder.appendingPathComponent("events")
        try FileManager.default.createDirectory(at: events, withIntermediateDirectories: true)
        try Data(bytes).write(to: events.appendingPathComponent("hostile.jsonl"))

        let clickstream = try Clickstream()
        let result = try await clickstream.run(FolderStore(root: folder))
        #expect(result.succeeded, "\(result.objectsFailed)")
        #expect(result.counts.recordsLoaded == 11)
        #expect(try clickstream.count("SELECT count(*) FROM analytics.fact_events") == 11)
        let quarantined = try Connection(clickstream.database).query("SELECT line, reason, length(record) FROM sluice.quarantine ORDER BY line").rows
        let reasons = quarantined.map { "\($0[0]!): \($0[1]!)" }
        let expected = [
            "2: invalid JSON: The input is not valid UTF-8",
            "4: \\u0000 in event_name, which PostgreSQL cannot store",
            "5: invalid JSON",
            "6: the record is longer than the 16 MiB limit; its first 64 KiB are kept",
            "8: invalid JSON: nested deeper than the limit",
            "9: duplicate key \"event_id\"",
            "10: field event_timestamp: \"2026-11-20T25:00:00Z\" is not an RFC 3339 timestamp",
            "11: field event_timestamp: \"20/11/2026 09:00\" is not an RFC 3339 timestamp",
            "12: invalid JSON",
            "13: the record is not a JSON object",
        ]
        #expect(reasons.count == expected.count, "\(reasons)")
        for (reason, fragment) in zip(reasons, expected) {
            #expect(reason.hasPrefix(fragment), "\(reason) does not start with \(fragment)")
        }
        // The oversized record keeps its first 64 KiB; the invalid bytes are kept as \xNN escapes.
        #expect(quarantined.first { $0[0] == "6" }?[2] == String(64 << 10))
        let raw = try Connection(clickstream.database).query("SELECT record FROM sluice.quarantine WHERE line IN (2, 5) ORDER BY line").column(
            "record")
        #expect(raw[0]?.hasSuffix("\"\\xff\\xfe\"}") == true)
        #expect(raw[1]?.contains("a\\x00b") == true)
    }

    @Test func aTruncatedGzipObjectFailsWholeAndTheOthersLoad() async throws {
        let folder = try temporaryFolder("gzip")
        defer { try? FileManager.default.removeItem(at: folder) }
        let events = folder.appendingPathComponent("events")
        try FileManager.default.createDirectory(at: events, withIntermediateDirectories: true)
        let sample = try Data(contentsOf: sampleBucket.appendingPathComponent("events/2026/11/20/10/part-0001.jsonl.gz"))
        try sample.prefix(sample.count / 2).write(to: events.appendingPathComponent("a-truncated.jsonl.gz"))
        try Data((Self.event(1) + "\n").utf8).write(to: events.appendingPathComponent("b-good.jsonl"))
        let clickstream = try Clickstream()
        let result = try await clickstream.run(FolderStore(root: folder))
        #expect(result.objectsFailed.map(\.key) == ["events/a-truncated.jsonl.gz"])
        #expect(result.objectsFailed.first?.error.contains("gzip stream is truncated") == true)
        #expect(result.objectsLoaded == 1)
        #expect(try clickstream.count("SELECT count(*) FROM analytics.fact_events") == 1, "nothing of the truncated object is visible")
        #expect(try clickstream.count("SELECT count(*) FROM sluice.manifest") == 1)
        #expect(try Connection(clickstream.database).query("SELECT status FROM sluice.load_runs").scalar == "failed")
    }
}
