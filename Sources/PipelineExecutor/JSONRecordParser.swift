import CSimdJSON
import Foundation
import SluiceCore

/// simdjson through the C shim: one record in, the values at the program's paths out.
final class JSONRecordParser {
    private let parser: OpaquePointer
    private var slots: [SluiceJSONValue]
    let paths: [String]

    /// Deeper nesting than this is refused (simdjson's own limit is 1024).
    static let maxDepth = 1000

    init(paths: [String]) throws {
        self.paths = paths
        let duplicated = paths.map { strdup($0) }
        defer { duplicated.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = duplicated.map { UnsafePointer($0) }
        guard let parser = pointers.withUnsafeBufferPointer({ sluice_json_parser_new($0.baseAddress, paths.count, JSONRecordParser.maxDepth) }) else {
            throw ExecutorError.source("simdjson could not allocate a parser")
        }
        self.parser = parser
        slots = Array(repeating: SluiceJSONValue(), count: paths.count)
    }

    deinit { sluice_json_parser_free(parser) }

    /// The values at `paths`, or the reason the record was refused. `bytes` must be followed by
    /// readable padding (the splitters' windows have it).
    func parse(_ bytes: UnsafeRawBufferPointer, into values: inout [Value]) -> String? {
        let status = slots.withUnsafeMutableBufferPointer { slots in
            sluice_json_parse(parser, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, slots.baseAddress)
        }
        guard status == 0 else {
            let message = String(cString: sluice_json_error(parser))
            // Positive: simdjson refused the text; negative: the shim refused a valid document.
            return status > 0 ? "invalid JSON: \(message)" : message
        }
        for index in slots.indices {
            let slot = slots[index]
            switch slot.kind {
            case SLUICE_JSON_MISSING: values[index] = .missing
            case SLUICE_JSON_NULL: values[index] = .null
            case SLUICE_JSON_FALSE: values[index] = .bool(false)
            case SLUICE_JSON_TRUE: values[index] = .bool(true)
            case SLUICE_JSON_INT64: values[index] = .integer(slot.integer)
            case SLUICE_JSON_UINT64: values[index] = .unsigned(slot.unsignedInteger)
            case SLUICE_JSON_DOUBLE: values[index] = .double(slot.number)
            case SLUICE_JSON_STRING: values[index] = .string(Self.string(slot))
            case SLUICE_JSON_OBJECT: values[index] = .json(Self.string(slot), isArray: false)
            default: values[index] = .json(Self.string(slot), isArray: true)
            }
        }
        return nil
    }

    private static func string(_ slot: SluiceJSONValue) -> String {
        guard let text = slot.text, slot.length > 0 else { return "" }
        // simdjson has validated the UTF-8.
        return String(decoding: UnsafeRawBufferPointer(start: text, count: slot.length), as: UTF8.self)
    }
}

/// One CSV record's cells, by the header's column names. An empty unquoted cell is missing; `""` is
/// the empty string.
struct CSVRecordParser {
    let delimiter: UInt8
    let quote: UInt8
    /// For each program path, its column in the file (nil: no such column).
    var columnOfPath: [Int?] = []
    let paths: [String]

    init(paths: [String], delimiter: UInt8, quote: UInt8) {
        self.paths = paths
        self.delimiter = delimiter
        self.quote = quote
    }

    /// The header's column count: every row must have as many fields.
    var width: Int?
    /// Header columns no path reads, said once per object.
    var unread: [String] = []

    /// Reads the header. One that lacks a path in `needed` fails the object before any row is read,
    /// naming what is missing and what the header has; an optional path it lacks is missing in every row.
    mutating func header(_ bytes: UnsafeRawBufferPointer, needed: [String]) throws {
        let names = try cells(bytes).map { $0 ?? "" }
        let missing = needed.filter { !names.contains($0) }
        if !missing.isEmpty {
            let spare = names.filter { !paths.contains($0) }
            let hints = missing.compactMap { name in Suggestion.closest(to: name, among: spare).map { "'\($0)' for '\(name)'" } }
            throw ExecutorError.format(
                "the header lacks \(missing.map { "'\($0)'" }.joined(separator: ", ")) (it has \(names.map { "'\($0)'" }.joined(separator: ", ")))"
                    + (hints.isEmpty ? "" : "; did you mean \(hints.joined(separator: ", "))?"))
        }
        columnOfPath = paths.map { names.firstIndex(of: $0) }
        width = names.count
        unread = names.filter { !$0.isEmpty && !paths.contains($0) }
    }

    /// Without a header, paths are 1-based column numbers.
    mutating func numbered() {
        columnOfPath = paths.map { Int($0).map { $0 - 1 } }
    }

    func parse(_ bytes: UnsafeRawBufferPointer, into values: inout [Value]) -> String? {
        let cells: [String?]
        do { cells = try self.cells(bytes) } catch { return "\(error)" }
        // A field more or fewer than the header is a row cut or joined: which value is whose is unknown.
        if let width, cells.count != width { return "the row has \(cells.count) field\(cells.count == 1 ? "" : "s"), the header \(width)" }
        for (index, column) in columnOfPath.enumerated() {
            if let column, column < cells.count, let cell = cells[column] { values[index] = .string(cell) } else { values[index] = .missing }
        }
        return nil
    }

    func cells(_ bytes: UnsafeRawBufferPointer) throws -> [String?] {
        if bytes.count > 0, memchr(bytes.baseAddress!, 0, bytes.count) != nil {
            throw ExecutorError.format("a NUL byte, which PostgreSQL cannot store")
        }
        var cells: [String?] = []
        var current: [UInt8] = []
        var quoted = false, inQuotes = false
        var index = 0
        func close() throws {
            guard let text = String(validating: current, as: UTF8.self) else {
                throw ExecutorError.format("invalid UTF-8 in column \(cells.count + 1)")
            }
            cells.append(text.isEmpty && !quoted ? nil : text)
            current.removeAll(keepingCapacity: true)
            quoted = false
        }
        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == quote {
                    if index + 1 < bytes.count, bytes[index + 1] == quote { current.append(quote); index += 1 } else { inQuotes = false }
                } else {
                    current.append(byte)
                }
            } else if byte == quote, current.isEmpty, !quoted {
                inQuotes = true
                quoted = true
            } else if byte == delimiter {
                try close()
            } else if byte == quote {
                throw ExecutorError.format("a quote inside unquoted column \(cells.count + 1)")
            } else {
                if quoted { throw ExecutorError.format("text after the closing quote of column \(cells.count + 1)") }
                current.append(byte)
            }
            index += 1
        }
        if inQuotes { throw ExecutorError.format("column \(cells.count + 1) opens a quote that never closes") }
        try close()
        return cells
    }
}
