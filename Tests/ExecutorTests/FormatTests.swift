import Foundation
import Testing

@testable import PipelineExecutor

/// The splitters and parsers on their own: records come out the same however the bytes are chunked.
@Suite("source formats")
struct FormatTests {
    /// Feeds `bytes` in chunks of `size` and collects the records (or the error).
    static func split<S: RecordSplitter>(_ splitter: S, _ bytes: [UInt8], chunk size: Int) throws -> [(String, Int)] {
        var splitter = splitter
        var records: [(String, Int)] = []
        let collect: (RawRecord) throws -> Void = { records.append((String(decoding: $0.bytes, as: UTF8.self), $0.line)) }
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            try bytes[offset..<end].withUnsafeBytes { try splitter.feed($0, collect) }
            offset = end
        }
        try splitter.finish(collect)
        return records
    }

    static let chunkSizes = [1, 2, 3, 7, 64, 1 << 20]

    @Test func jsonLinesSkipBlankLinesAndCarriageReturns() throws {
        let text = Array("{\"a\":1}\r\n\n  \n{\"a\":2}\n{\"a\":3}".utf8)
        for size in Self.chunkSizes {
            let records = try Self.split(LineSplitter(), text, chunk: size)
            #expect(records.map(\.0) == ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"])
            #expect(records.map(\.1) == [1, 4, 5], "line numbers count blank lines")
        }
    }

    @Test func jsonArrayElementsWithNestingStringsAndEscapes() throws {
        let text = Array(" [ {\"a\": \"x],\\\"{\"}, {\"b\": [1, {\"c\": 2}]} ,\n 42, \"s\", {} ] ".utf8)
        for size in Self.chunkSizes {
            let records = try Self.split(ArraySplitter(), text, chunk: size)
            #expect(records.map(\.0) == ["{\"a\": \"x],\\\"{\"}", "{\"b\": [1, {\"c\": 2}]}", "42", "\"s\"", "{}"], "chunk \(size)")
            #expect(records.map(\.1) == [1, 2, 3, 4, 5])
        }
        #expect(try Self.split(ArraySplitter(), Array("[]".utf8), chunk: 1).isEmpty)
        #expect(throws: ExecutorError.self) { try Self.split(ArraySplitter(), Array("[{\"a\": 1}, {\"b\"".utf8), chunk: 4) }
        #expect(throws: ExecutorError.self) { try Self.split(ArraySplitter(), Array("{\"a\": 1}".utf8), chunk: 4) }
    }

    @Test func csvRecordsMayHaveQuotedNewlinesDelimitersAndQuotes() throws {
        let text = Array("id,name,note\r\n1,\"Smith, Jane\",\"said \"\"hi\"\"\nthen left\"\n2,,\"\"\n".utf8)
        for size in Self.chunkSizes {
            let records = try Self.split(CSVSplitter(quote: 34), text, chunk: size)
            #expect(records.map(\.1) == [1, 2, 4], "records start on their first line")
            #expect(records.count == 3)
        }
        var parser = CSVRecordParser(paths: ["id", "name", "note", "missing"], delimiter: 44, quote: 34)
        // "missing" is an optional field nothing else reads: absent from the header, missing in every row.
        try Array("id,name,note".utf8).withUnsafeBytes { try parser.header($0, needed: ["id", "name", "note"]) }
        var values = [Value](repeating: .missing, count: 4)
        #expect(Array("1,\"Smith, Jane\",\"said \"\"hi\"\"\nthen left\"".utf8).withUnsafeBytes { parser.parse($0, into: &values) } == nil)
        #expect(values == [.string("1"), .string("Smith, Jane"), .string("said \"hi\"\nthen left"), .missing])
        #expect(Array("2,,\"\"".utf8).withUnsafeBytes { parser.parse($0, into: &values) } == nil)
        #expect(values[1] == .missing, "an empty unquoted cell is missing")
        #expect(values[2] == .string(""), "a quoted empty cell is the empty string")
        #expect(Array("3,\"open".utf8).withUnsafeBytes { parser.parse($0, into: &values) }?.contains("never closes") == true)
        #expect(Array("4,a\"b".utf8).withUnsafeBytes { parser.parse($0, into: &values) }?.contains("quote inside unquoted column 2") == true)
    }

    @Test func aHeaderWithoutANeededColumnFailsTheObjectNamingIt() throws {
        var parser = CSVRecordParser(paths: ["customer_id", "amount", "note"], delimiter: 59, quote: 34)
        let error = #expect(throws: ExecutorError.self) {
            try Array("kunde_id;amount;customer_ix".utf8).withUnsafeBytes { try parser.header($0, needed: ["customer_id", "amount"]) }
        }
        #expect(
            error?.description.contains(
                "the header lacks 'customer_id' (it has 'kunde_id', 'amount', 'customer_ix'); did you mean 'customer_ix' for 'customer_id'?") == true,
            "\(String(describing: error))")
        // Its twin: every needed column there; a column nothing reads is said once, not per row.
        try Array("customer_id;amount;region".utf8).withUnsafeBytes { try parser.header($0, needed: ["customer_id", "amount"]) }
        #expect(parser.unread == ["region"])
    }

    @Test func aRowWithMoreOrFewerFieldsThanTheHeaderIsRefusedWithBothCounts() throws {
        var parser = CSVRecordParser(paths: ["a", "b"], delimiter: 44, quote: 34)
        try Array("a,b,c".utf8).withUnsafeBytes { try parser.header($0, needed: ["a", "b"]) }
        var values = [Value](repeating: .missing, count: 2)
        #expect(Array("1,2,3,4".utf8).withUnsafeBytes { parser.parse($0, into: &values) } == "the row has 4 fields, the header 3")
        #expect(Array("1,2".utf8).withUnsafeBytes { parser.parse($0, into: &values) } == "the row has 2 fields, the header 3")
        #expect(Array("1,2,".utf8).withUnsafeBytes { parser.parse($0, into: &values) } == nil, "an empty last field is a field")
        #expect(values == [.string("1"), .string("2")])
    }

    @Test func gzipMembersConcatenatedAreOneStreamAndATruncatedOneIsAnError() throws {
        let path = "/tmp/sluice-gzip-\(getpid())"
        try Data("first\n".utf8).write(to: URL(fileURLWithPath: path + "-a"))
        try Data("second\n".utf8).write(to: URL(fileURLWithPath: path + "-b"))
        defer { for suffix in ["-a", "-b", "-a.gz", "-b.gz"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-n", path + "-a", path + "-b"]
        try gzip.run()
        gzip.waitUntilExit()
        let compressed =
            Array(try Data(contentsOf: URL(fileURLWithPath: path + "-a.gz"))) + Array(try Data(contentsOf: URL(fileURLWithPath: path + "-b.gz")))
        for size in [1, 5, 1 << 16] {
            let inflater = try Gunzip()
            var out: [UInt8] = []
            var offset = 0
            while offset < compressed.count {
                let end = min(offset + size, compressed.count)
                try compressed[offset..<end].withUnsafeBytes { try inflater.feed($0) { out += $0 } }
                offset = end
            }
            try inflater.finish()
            #expect(String(decoding: out, as: UTF8.self) == "first\nsecond\n")
        }
        let truncated = try Gunzip()
        try compressed.prefix(compressed.count / 2 - 10).withUnsafeBytes { try truncated.feed($0) { _ in } }
        #expect(throws: ExecutorError.source("gzip stream is truncated")) { try truncated.finish() }

        // The trailer of each member is checked: its CRC-32 of the data, then its length.
        let member = Array(try Data(contentsOf: URL(fileURLWithPath: path + "-a.gz")))
        for (offset, message) in [(member.count - 8, "gzip: incorrect data check"), (member.count - 2, "gzip: incorrect length check")] {
            var damaged = member
            damaged[offset] ^= 0x40
            let inflater = try Gunzip()
            #expect(throws: ExecutorError.source(message)) { try damaged.withUnsafeBytes { try inflater.feed($0) { _ in } } }
        }
    }

    @Test func aRecordOverTheLimitIsCutToItsStartInEveryFormat() throws {
        let huge = String(repeating: "x", count: 17 << 20)
        let inputs: [(String, any RecordSplitter, String)] = [
            ("JSON Lines", LineSplitter(), "{\"a\":1}\n{\"b\":\"\(huge)\"}\n{\"c\":3}\n"),
            ("JSON array", ArraySplitter(), "[{\"a\":1}, {\"b\":\"\(huge)\"}, {\"c\":3}]"),
            ("CSV", CSVSplitter(quote: 34), "a\n1\n\"\(huge)\"\n3\n"),
        ]
        for (format, splitter, text) in inputs {
            var splitter = splitter
            var seen: [(count: Int, oversized: Bool)] = []
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + (1 << 20), bytes.count)
                try bytes[offset..<end].withUnsafeBytes { try splitter.feed($0) { seen.append(($0.bytes.count, $0.oversized)) } }
                offset = end
            }
            try splitter.finish { seen.append(($0.bytes.count, $0.oversized)) }
            let records = format == "CSV" ? Array(seen.dropFirst()) : seen  // the header
            #expect(records.count == 3, "\(format): \(records)")
            #expect(records.map(\.oversized) == [false, true, false], "\(format)")
            #expect(records[1].count == 64 << 10, "\(format): the first 64 KiB are kept")
        }
    }

    @Test func timestampsAreRFC3339AndKeptInUTC() {
        let parsed = Timestamp.parse("2026-11-20T23:30:00.5-02:00")
        #expect(parsed?.utcText == "2026-11-21 01:30:00.5")
        #expect(parsed?.dateText == "2026-11-21")
        #expect(parsed?.hour == 1)
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        for bad in [
            "2026-02-29T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:00:60Z", "2026-11-20T10:00:00", "2026-11-20", "1700000000",
            "2026-11-20T10:00:00.Z",
        ] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        #expect(Timestamp.parse("2026-11-20", allowDate: true)?.utcText == "2026-11-20 00:00:00")
        #expect(Timestamp.parse("1969-12-31T23:59:59Z")?.utcText == "1969-12-31 23:59:59")
    }

    @Test func columnTypesRefuseWhatCOPYWouldFailTheObjectFor() {
        #expect(ColumnType("varchar(2)").encode(.string("DEU")).refusal == "3 characters, longer than the column's 2")
        #expect(ColumnType("varchar(2)").encode(.string("Ü1")).refusal == nil)
        #expect(ColumnType("smallint").encode(.integer(40000)).refusal?.contains("out of range") == true)
        #expect(ColumnType("integer").encode(.string("12")).refusal == nil)
        #expect(ColumnType("bigint").encode(.unsigned(UInt64.max)).refusal?.contains("out of range") == true)
        #expect(ColumnType("numeric(12,2)").encode(.double(9_999_999_999.99)).refusal == nil)
        #expect(ColumnType("numeric(12,2)").encode(.double(99_999_999_999.999)).refusal?.contains("does not fit") == true)
        #expect(ColumnType("numeric").encode(.string("NaN")).refusal?.contains("not a number") == true)
        #expect(ColumnType("uuid").encode(.string("7F0C7A522C5B4C439D0E7C1A8F7F1A01")) == .value("7f0c7a52-2c5b-4c43-9d0e-7c1a8f7f1a01"))
        #expect(ColumnType("boolean").encode(.string("maybe")).refusal != nil)
        #expect(ColumnType("jsonb").encode(.string("a\"b")) == .value("\"a\\\"b\""))
        #expect(ColumnType("timestamptz").encode(.string("2026-11-20T10:00:00+01:00")) == .value("2026-11-20 09:00:00+00"))
    }
}

extension ColumnType.Encoded: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.value(let x), .value(let y)): return x == y
        case (.refused(let x), .refused(let y)): return x == y
        default: return false
        }
    }
}

/// The encoders every staged value goes through, on their own.
@Suite("staged values")
struct StagedValueTests {
    @Test(arguments: [
        ("0B6A1C1E-3F2D-4C5B-9A8E-7D6C5B4A3F2E", "0b6a1c1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e"),
        ("0b6a1c1e3f2d4c5b9a8e7d6c5b4a3f2e", "0b6a1c1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e"),
        ("0b6a1c1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e", "0b6a1c1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e"),
    ])
    func aUUIDIsWrittenInItsCanonicalForm(_ text: String, _ canonical: String) {
        #expect(ColumnType.uuid(text) == canonical)
    }

    @Test(arguments: [
        "0b6a1c1e-3f2d-4c5b-9a8e-7d6c5b4a3f2", "0b6a1c1e3-f2d-4c5b-9a8e-7d6c5b4a3f2e", "0b6a1c1e-3f2d-4c5b-9a8e-7d6c5b4a3f2g",
        "0b6a1c1e-3f2d-4c5b-9a8e--d6c5b4a3f2e", "0b6a1c1e3f2d4c5b9a8e7d6c5b4a3f-e", "", "not a uuid",
    ])
    func anythingElseIsNotAUUID(_ text: String) {
        #expect(ColumnType.uuid(text) == nil)
    }

    @Test func copyTextEscapesOnlyWhatCOPYReadsAsSpecial() {
        var row = CopyRow()
        row.field("plain ü text")
        row.separator()
        row.field("a\tb\\c\nd\re\\")
        row.separator()
        row.field(nil)
        row.end()
        #expect(String(decoding: row.bytes, as: UTF8.self) == "plain ü text\ta\\tb\\\\c\\nd\\re\\\\\t\\N\n")
    }
}
