import Foundation
import PlanFormat

/// One object's bytes → records → the record program's outcome, in the order the source has them:
/// decompression, the byte-order mark, the format's splitter, the parser, then the program.
struct RecordReader {
    struct Record {
        var line: Int
        var outcome: RecordProgram.Outcome
        /// The record's staging columns when accepted.
        var row: CopyRow
        var rawBytes: UnsafeRawBufferPointer

        /// The record as read, for the quarantine. Invalid UTF-8 and NUL bytes cannot be stored in a
        /// text column, so those bytes are written as `\xNN`; everything else is kept exactly.
        func raw() -> String {
            if memchr(rawBytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, 0, rawBytes.count) == nil,
                let text = String(validating: rawBytes, as: UTF8.self)
            {
                return text
            }
            var text = ""
            var index = 0
            let bytes = Array(rawBytes)
            while index < bytes.count {
                // The longest valid UTF-8 run from here, else one escaped byte.
                var length = 0
                for candidate in stride(from: min(4, bytes.count - index), through: 1, by: -1) {
                    if let piece = String(validating: bytes[index..<(index + candidate)], as: UTF8.self), piece.unicodeScalars.count == 1,
                        bytes[index] != 0
                    {
                        text += piece
                        length = candidate
                        break
                    }
                }
                if length == 0 {
                    text += "\\x" + (bytes[index] < 16 ? "0" : "") + String(bytes[index], radix: 16)
                    length = 1
                }
                index += length
            }
            return text
        }
    }

    enum Decoder {
        case json(JSONRecordParser)
        case csv(CSVRecordParser)
    }

    private var splitter: any RecordSplitter
    private var decoder: Decoder
    private let program: RecordProgram
    private var values: [Value]
    private var row = CopyRow()
    private var headerPending: Bool
    /// What the object's shape says once (a header's unread columns), not per row.
    private(set) var notes: [String] = []
    private let compression: PipelinePlan.Compression
    private let key: String
    private var gunzip: Gunzip?
    private var decided = false
    private var bom = BOMStripper()

    init(pipeline: PipelinePlan, program: RecordProgram, key: String) throws {
        self.program = program
        self.key = key
        compression = pipeline.source.compression
        values = Array(repeating: .missing, count: program.paths.count)
        switch pipeline.source.format {
        case .csv:
            let options = pipeline.source.csv
            let delimiterText = options?.delimiter ?? ",", quoteText = options?.quote ?? "\""
            guard let delimiter = delimiterText.utf8.first, delimiterText.utf8.count == 1,
                let quote = quoteText.utf8.first, quoteText.utf8.count == 1
            else {
                throw ExecutorError.plan("CSV delimiter and quote must be single bytes")
            }
            var parser = CSVRecordParser(paths: program.paths, delimiter: delimiter, quote: quote)
            if options?.header == false { parser.numbered() }
            decoder = .csv(parser)
            splitter = CSVSplitter(quote: quote)
            headerPending = options?.header ?? true
        case .jsonArray:
            decoder = .json(try JSONRecordParser(paths: program.paths))
            splitter = ArraySplitter()
            headerPending = false
        case .jsonLines:
            decoder = .json(try JSONRecordParser(paths: program.paths))
            splitter = LineSplitter()
            headerPending = false
        }
    }

    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ handle: (Record) throws -> Void) throws {
        if !decided {
            decided = true
            if compression == .gzip || (compression == .auto && (key.hasSuffix(".gz") || Gunzip.looksCompressed(chunk))) {
                gunzip = try Gunzip()
            }
        }
        if let gunzip {
            try gunzip.feed(chunk) { try decompressed($0, handle) }
        } else {
            try decompressed(chunk, handle)
        }
    }

    private mutating func decompressed(_ chunk: UnsafeRawBufferPointer, _ handle: (Record) throws -> Void) throws {
        // The splitter calls back into `process`, which changes self: it works on a copy meanwhile.
        var bom = self.bom, splitter = self.splitter
        defer { self.bom = bom; self.splitter = splitter }
        try bom.strip(chunk) { bytes in
            guard bytes.count > 0 else { return }
            try splitter.feed(bytes) { try process($0, handle) }
        }
    }

    mutating func finish(_ handle: (Record) throws -> Void) throws {
        try gunzip?.finish()
        var bom = self.bom, splitter = self.splitter
        defer { self.bom = bom; self.splitter = splitter }
        try bom.finish { bytes in try splitter.feed(bytes) { try process($0, handle) } }
        try splitter.finish { try process($0, handle) }
    }

    private mutating func process(_ raw: RawRecord, _ handle: (Record) throws -> Void) throws {
        row.reset()
        if raw.oversized {
            // The rest of it is skipped as it streams past, unread, so its full length is not known here.
            return try handle(
                Record(
                    line: raw.line,
                    outcome: .refused(
                        reason:
                            "the record is longer than the \(RecordLimits.maxRecordBytes >> 20) MiB limit; its first \(RecordLimits.keptPrefixBytes >> 10) KiB are kept",
                        field: nil), row: row, rawBytes: raw.bytes))
        }
        var problem: String?
        switch decoder {
        case .json(let parser):
            problem = parser.parse(raw.bytes, into: &values)
        case .csv(var parser):
            if headerPending {
                headerPending = false
                try parser.header(raw.bytes, needed: program.neededPaths)
                decoder = .csv(parser)
                if !parser.unread.isEmpty {
                    notes.append(
                        "the header has column\(parser.unread.count == 1 ? "" : "s") no field reads: \(parser.unread.map { "'\($0)'" }.joined(separator: ", "))"
                    )
                }
                return
            }
            problem = parser.parse(raw.bytes, into: &values)
        }
        let outcome =
            problem.map { RecordProgram.Outcome.refused(reason: $0, field: nil) } ?? program.run(values, into: &row, objectKey: key, line: raw.line)
        try handle(Record(line: raw.line, outcome: outcome, row: row, rawBytes: raw.bytes))
    }
}
