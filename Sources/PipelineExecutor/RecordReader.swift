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
    /// An xlsx workbook is a zip, read from its end: its bytes are kept in a file until they are all here.
    private var workbook: (file: URL, handle: FileHandle, options: PipelinePlan.XLSX)?

    init(pipeline: PipelinePlan, program: RecordProgram, key: String) throws {
        self.program = program
        self.key = key
        compression = pipeline.source.compression
        values = Array(repeating: .missing, count: program.paths.count)
        switch pipeline.source.format {
        case .xlsx:
            // A sheet's rows are read as a CSV export's records: the same header check, shapes and fields.
            decoder = .csv(CSVRecordParser(paths: program.paths, delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\"")))
            splitter = LineSplitter()
            headerPending = true
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-workbook-\(UUID().uuidString).xlsx")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            workbook = (file, try FileHandle(forWritingTo: file), pipeline.source.xlsx ?? .init(sheet: nil, sheetIndex: 1, headerRow: 1))
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
        if let workbook {
            try workbook.handle.write(contentsOf: chunk)
            return
        }
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
        if let workbook {
            defer { try? FileManager.default.removeItem(at: workbook.file) }
            try workbook.handle.close()
            return try readSheet(workbook.file, workbook.options, handle)
        }
        try gunzip?.finish()
        var bom = self.bom, splitter = self.splitter
        defer { self.bom = bom; self.splitter = splitter }
        try bom.finish { bytes in try splitter.feed(bytes) { try process($0, handle) } }
        try splitter.finish { try process($0, handle) }
    }

    /// Removes what the reader keeps on disk (a workbook's bytes), however its read ended.
    func discard() {
        // After `finish` the file is gone (and its handle closed): nothing is left to do.
        guard let workbook, FileManager.default.fileExists(atPath: workbook.file.path) else { return }
        try? workbook.handle.close()
        try? FileManager.default.removeItem(at: workbook.file)
    }

    /// The sheet's rows from the header row on, each as the CSV record an export of it would hold,
    /// numbered as the sheet numbers its rows. A cell holding an error refuses its row, naming the cell.
    private mutating func readSheet(_ file: URL, _ options: PipelinePlan.XLSX, _ handle: (Record) throws -> Void) throws {
        let workbook: Workbook
        do { workbook = try Workbook(file: file) } catch let failure as Workbook.Failure { throw ExecutorError.format(failure.description) }
        let path: String
        do { path = try workbook.sheetPath(name: options.sheet, index: options.sheetIndex) } catch let failure as Workbook.Failure {
            throw ExecutorError.format(failure.description)
        }
        var width = 0
        var header: [String] = []
        var reader = self
        defer { self = reader }
        do {
            try workbook.rows(of: path) { row in
                guard row.number >= options.headerRow else { return }
                if row.number > options.headerRow && header.isEmpty {
                    throw Workbook.Failure(
                        description:
                            "the sheet's row \(options.headerRow) is empty: it should name the columns (header_row); the first row after it with cells is row \(row.number)"
                    )
                }
                let last = row.cells.keys.max() ?? 0
                if row.number == options.headerRow { width = last + 1 }
                let count = max(width, last + 1)
                var fields: [String] = []
                var error: (column: Int, value: String)?
                for column in 0..<count {
                    switch row.cells[column] {
                    case .text(let text)?: fields.append(text)
                    case .error(let value)?:
                        if error == nil { error = (column, value) }
                        fields.append(value)
                    case nil: fields.append("")
                    }
                }
                if row.number == options.headerRow { header = fields }
                let bytes = Array(Self.csvLine(fields).utf8)
                try bytes.withUnsafeBytes { raw in
                    if let error, row.number > options.headerRow {
                        let cell = "\(Workbook.letters(of: error.column))\(row.number)"
                        let column = header.indices.contains(error.column) ? header[error.column] : nil
                        return try handle(
                            Record(
                                line: row.number, outcome: .refused(reason: "cell \(cell) holds the error \(error.value)", field: column),
                                row: CopyRow(), rawBytes: raw))
                    }
                    try reader.process(RawRecord(bytes: raw, line: row.number), handle)
                }
            }
        } catch let failure as Workbook.Failure {
            throw ExecutorError.format(failure.description)
        }
        if header.isEmpty { throw ExecutorError.format("the sheet has no row \(options.headerRow) to name its columns") }
    }

    /// Fields joined as RFC 4180 writes them: quoted when they hold a comma, a quote or a line break.
    static func csvLine(_ fields: [String]) -> String {
        fields.map { field in
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",")
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
