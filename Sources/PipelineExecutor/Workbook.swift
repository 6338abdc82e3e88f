import AWSServices
import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One sheet of an Excel workbook (Office Open XML, ECMA-376), read row by row. The workbook's
/// directory and styles are read whole (they are small); the shared strings are streamed into a
/// list; the sheet itself is extracted to a temporary file and parsed as a stream, so its rows are
/// never all in memory.
struct Workbook {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A cell as the sheet stores it, its value already in the text a CSV export would hold.
    enum Cell: Equatable {
        case text(String)
        /// `#N/A`, `#DIV/0!`…: a formula that failed; the row is refused, naming the cell.
        case error(String)
    }

    struct Row {
        /// 1-based, as Excel numbers rows.
        var number: Int
        /// By 0-based column: A is 0.
        var cells: [Int: Cell]
    }

    let archive: Archive
    let sheets: [(name: String, path: String)]
    let sharedStrings: [String]
    /// Style index (a cell's `s`) → whether its number format shows a date, and a time of day.
    let dateStyles: [Int: (date: Bool, time: Bool)]
    let date1904: Bool

    init(file: URL) throws {
        let archive: Archive
        do { archive = try Archive(url: file, accessMode: .read) } catch {
            throw Failure(description: "not an xlsx workbook (not a zip archive)")
        }
        self.archive = archive
        guard let workbook = try Self.document(archive, "xl/workbook.xml") else {
            throw Failure(description: "not an xlsx workbook (no xl/workbook.xml)")
        }
        let relations = try Self.document(archive, "xl/_rels/workbook.xml.rels") ?? XMLTree(name: "")
        let targets = Dictionary(
            relations.all("Relationship").compactMap { relation in relation.attributes["Id"].map { ($0, relation.attributes["Target"] ?? "") } },
            uniquingKeysWith: { first, _ in first })
        sheets = workbook.all("sheet").compactMap { sheet in
            guard let name = sheet.attributes["name"], let id = sheet.attributes["r:id"], let target = targets[id] else { return nil }
            // Targets are relative to xl/, or absolute from the package root.
            return (name, target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target)
        }
        date1904 = workbook.all("workbookPr").first.map { ["1", "true"].contains($0.attributes["date1904"] ?? "") } ?? false
        sharedStrings = try Self.sharedStrings(archive)
        var formats: [Int: String] = [:]
        var styles: [Int: (Bool, Bool)] = [:]
        if let stylesheet = try Self.document(archive, "xl/styles.xml") {
            for format in stylesheet.all("numFmt") {
                if let id = format.attributes["numFmtId"].flatMap(Int.init) { formats[id] = format.attributes["formatCode"] ?? "" }
            }
            for (index, style) in (stylesheet.all("cellXfs").first?.all("xf") ?? []).enumerated() {
                let id = style.attributes["numFmtId"].flatMap(Int.init) ?? 0
                if let kind = Self.dateKind(id: id, code: formats[id]) { styles[index] = kind }
            }
        }
        dateStyles = styles
    }

    /// The sheet's file in the archive, by name or 1-based position.
    func sheetPath(name: String?, index: Int?) throws -> String {
        if let name {
            guard let sheet = sheets.first(where: { $0.name == name }) else {
                throw Failure(description: "the workbook has no sheet '\(name)' (it has \(sheets.map { "'\($0.name)'" }.joined(separator: ", ")))")
            }
            return sheet.path
        }
        let position = index ?? 1
        guard sheets.indices.contains(position - 1) else {
            throw Failure(description: "the workbook has \(sheets.count) sheet(s), not a sheet \(position)")
        }
        return sheets[position - 1].path
    }

    /// Each row of the sheet in order, rows without any cell left out.
    func rows(of path: String, _ body: (Row) throws -> Void) throws {
        guard let entry = archive[path] else { throw Failure(description: "the workbook lacks its sheet file \(path)") }
        let extracted = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-sheet-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: extracted) }
        do { _ = try archive.extract(entry, to: extracted, skipCRC32: false) } catch {
            throw Failure(description: "the workbook's sheet \(path) cannot be read from the archive (damaged or cut short?): \(error)")
        }
        guard let stream = InputStream(url: extracted) else { throw Failure(description: "cannot read the extracted sheet \(path)") }
        // The delegate holds the body only while the parser runs.
        try withoutActuallyEscaping(body) { body in
            let reader = SheetReader(workbook: self, body: body)
            let parser = XMLParser(stream: stream)
            parser.delegate = reader
            let parsed = parser.parse()
            if let failure = reader.failure { throw failure }
            if !parsed {
                throw Failure(description: "the sheet \(path) is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
            }
        }
    }

    /// A numeric cell as text: a date or time when its style shows one (in the workbook's date system),
    /// an integer without a fraction, else the shortest decimal that reads back as the same number.
    func numberText(_ value: String, style: Int?) -> String {
        guard let number = Double(value) else { return value }
        if let style, let kind = dateStyles[style] { return Self.dateText(serial: number, date1904: date1904, time: kind.time, date: kind.date) }
        if number == number.rounded(), abs(number) < 9_007_199_254_740_992 { return String(Int64(number)) }
        return "\(number)"
    }

    /// Days since the epoch: 1899-12-30 (so serial 61 is 1900-03-01; Excel's fictitious 1900-02-29 is
    /// serial 60), or 1904-01-01. The fraction is the time of day, to the millisecond.
    static func dateText(serial: Double, date1904: Bool, time: Bool, date: Bool) -> String {
        var days = serial.rounded(.down)
        if !date1904 && serial < 61 { days += 1 }
        let milliseconds = Int(((serial - serial.rounded(.down)) * 86_400_000).rounded())
        let epoch = date1904 ? -24_107.0 : -25_569.0  // days from 1970-01-01 back to the epoch
        let instant = Date(timeIntervalSince1970: (days + epoch) * 86_400 + Double(milliseconds) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: instant)
        let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        guard time else { return day }
        let millis = Int(((Double(c.nanosecond ?? 0) / 1_000_000)).rounded())
        let clock = String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0) + (millis > 0 ? String(format: ".%03d", millis) : "")
        return date ? "\(day) \(clock)" : clock
    }

    /// Built-in date formats (ECMA-376 §18.8.30: 14–22, 45–47) and custom codes that show a date or a
    /// time once their literal text ("…", \x, [Red]) is set aside.
    static func dateKind(id: Int, code: String?) -> (date: Bool, time: Bool)? {
        switch id {
        case 14...17: return (true, false)
        case 18...21, 45...47: return (false, true)
        case 22: return (true, true)
        default: break
        }
        guard let code, id >= 164 else { return nil }
        var plain = ""
        var quoted = false, escaped = false, bracket = ""
        var inBracket = false
        for character in code.lowercased() {
            if escaped { escaped = false; continue }
            if quoted { if character == "\"" { quoted = false }; continue }
            if inBracket {
                if character == "]" {
                    inBracket = false
                    // [h], [mm], [ss]: elapsed time; [Red], [$-409]: not a date.
                    if ["h", "hh", "m", "mm", "s", "ss"].contains(bracket) { plain += "h" }
                    bracket = ""
                } else {
                    bracket.append(character)
                }
                continue
            }
            switch character {
            case "\\": escaped = true
            case "\"": quoted = true
            case "[": inBracket = true
            case ";": break
            default: plain.append(character)
            }
            if character == ";" { break }  // the first section decides
        }
        let date = plain.contains("y") || plain.contains("d")
        let time = plain.contains("h") || plain.contains("s")
        if !date && !time { return plain.contains("m") && !plain.contains("0") && !plain.contains("#") ? (true, false) : nil }
        return (date, time)
    }

    /// The shared-string table, streamed: one string per `<si>`, its `<t>` texts joined, phonetic
    /// runs (`<rPh>`) left out. Held whole, as the sheet refers to it by index; a sheet of unique
    /// texts makes it as long as the sheet, so no tree of it is built.
    static func sharedStrings(_ archive: Archive) throws -> [String] {
        guard let entry = archive["xl/sharedStrings.xml"] else { return [] }
        let extracted = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-strings-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: extracted) }
        _ = try archive.extract(entry, to: extracted, skipCRC32: false)
        guard let stream = InputStream(url: extracted) else { throw Failure(description: "cannot read the shared strings") }
        let reader = SharedStringsReader()
        let parser = XMLParser(stream: stream)
        parser.delegate = reader
        guard parser.parse() else { throw Failure(description: "xl/sharedStrings.xml is not well-formed XML") }
        return reader.strings
    }

    /// A small document of the package (directory, styles), read whole.
    static func document(_ archive: Archive, _ path: String) throws -> XMLTree? {
        guard let entry = archive[path] else { return nil }
        var data = Data()
        _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
        guard let root = XMLTree.parse(Array(data)) else { throw Failure(description: "\(path) is not well-formed XML") }
        return root
    }

    /// `C7` → column 2; nil for anything that is not a cell reference.
    static func column(of reference: String) -> Int? {
        var column = 0
        var letters = 0
        for scalar in reference.unicodeScalars {
            guard scalar.value >= 65 && scalar.value <= 90 else { break }
            column = column * 26 + Int(scalar.value - 64)
            letters += 1
        }
        return letters > 0 ? column - 1 : nil
    }

    /// Column 2 → `C`.
    static func letters(of column: Int) -> String {
        var column = column + 1
        var text = ""
        while column > 0 {
            let remainder = (column - 1) % 26
            text = String(UnicodeScalar(UInt8(65 + remainder))) + text
            column = (column - 1) / 26
        }
        return text
    }
}

/// The sheet's `<row>`s as they stream past: each cell's type (`t`), style (`s`) and value (`<v>`,
/// or `<is>` for an inline string), handed over one row at a time.
private final class SheetReader: NSObject, XMLParserDelegate {
    let workbook: Workbook
    let body: (Workbook.Row) throws -> Void
    var failure: Error?

    private var row: Workbook.Row?
    private var nextRow = 1
    private var cell: (column: Int, type: String, style: Int?)?
    private var nextColumn = 0
    private var text = ""
    private var collecting = false
    private var inInline = false

    init(workbook: Workbook, body: @escaping (Workbook.Row) throws -> Void) {
        self.workbook = workbook
        self.body = body
    }

    /// Without namespace processing a prefixed writer's `x:row` keeps its prefix.
    private func local(_ name: String) -> Substring { name.split(separator: ":").last ?? Substring(name) }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        switch local(name) {
        case "row":
            let number = attributes["r"].flatMap(Int.init) ?? nextRow
            row = Workbook.Row(number: number, cells: [:])
            nextRow = number + 1
            nextColumn = 0
        case "c":
            let column = attributes["r"].flatMap(Workbook.column(of:)) ?? nextColumn
            cell = (column, attributes["t"] ?? "n", attributes["s"].flatMap(Int.init))
            nextColumn = column + 1
            text = ""
        case "v":
            collecting = true
            text = ""
        case "is":
            inInline = true
            text = ""
        case "t" where inInline:
            collecting = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch local(name) {
        case "v", "t":
            collecting = false
        case "is":
            inInline = false
        case "c":
            guard let current = cell else { return }
            cell = nil
            let value: Workbook.Cell?
            switch current.type {
            case "s":
                guard let index = Int(text), workbook.sharedStrings.indices.contains(index) else {
                    value = .error("a shared string that is not in the workbook (\(text))")
                    break
                }
                value = .text(workbook.sharedStrings[index])
            case "inlineStr", "str": value = .text(text)
            case "b": value = .text(text == "1" ? "true" : "false")
            case "e": value = .error(text)
            case "d": value = .text(text)
            default: value = text.isEmpty ? nil : .text(workbook.numberText(text, style: current.style))
            }
            if let value { row?.cells[current.column] = value }
        case "row":
            guard let finished = row else { return }
            row = nil
            guard !finished.cells.isEmpty else { return }
            do { try body(finished) } catch {
                failure = error
                parser.abortParsing()
            }
        default: break
        }
    }
}

private final class SharedStringsReader: NSObject, XMLParserDelegate {
    var strings: [String] = []
    private var current = ""
    private var inText = false
    private var inPhonetic = false

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        switch name.split(separator: ":").last ?? "" {
        case "si": current = ""
        case "rPh": inPhonetic = true
        case "t": inText = !inPhonetic
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name.split(separator: ":").last ?? "" {
        case "si": strings.append(current)
        case "rPh": inPhonetic = false
        case "t": inText = false
        default: break
        }
    }
}
