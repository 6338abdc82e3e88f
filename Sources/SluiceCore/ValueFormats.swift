import Foundation

/// How a source writes dates and times when not as RFC 3339: a pattern (`dd.MM.yyyy`,
/// `MM/dd/yyyy HH:mm`, `yyyy-MM-dd'T'HH:mm:ss`) or `excel`, Excel's serial day numbers.
public enum DateTimePattern: Hashable, Sendable {
    case parts([Part])
    case excelSerial

    public enum Part: Hashable, Sendable {
        /// `yyyy`: four digits.
        case year
        /// `MM`, `dd`, `HH`: two digits; `M`, `d`, `H`: one or two.
        case month(padded: Bool), day(padded: Bool), hour(padded: Bool)
        /// `mm`, `ss`: two digits.
        case minute, second
        /// `S`, `SS`, `SSS`…: the fraction of a second, one digit or more.
        case fraction
        case literal(Character)
    }

    /// What is wrong with a pattern, and where in it (0-based, in characters).
    public struct Problem: Error, Sendable, Equatable {
        public var offset: Int
        public var message: String
    }

    public static let letters = "yyyy, MM, M, dd, d, HH, H, mm, ss, S (a fraction); letters in single quotes are literal; or excel"

    public init(_ text: String) throws(Problem) {
        if text == "excel" {
            self = .excelSerial
            return
        }
        var parts: [Part] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "'" {
                guard let close = characters[(index + 1)...].firstIndex(of: "'") else {
                    throw Problem(offset: index, message: "a quote that is not closed")
                }
                parts += characters[(index + 1)..<close].map(Part.literal)
                index = close + 1
                continue
            }
            guard character.isLetter else {
                parts.append(.literal(character))
                index += 1
                continue
            }
            var run = 1
            while index + run < characters.count, characters[index + run] == character { run += 1 }
            let part: Part?
            switch (character, run) {
            case ("y", 4): part = .year
            case ("M", 1), ("M", 2): part = .month(padded: run == 2)
            case ("d", 1), ("d", 2): part = .day(padded: run == 2)
            case ("H", 1), ("H", 2): part = .hour(padded: run == 2)
            case ("m", 2): part = .minute
            case ("s", 2): part = .second
            case ("S", _): part = .fraction
            default: part = nil
            }
            guard let part else {
                let written = String(repeating: character, count: run)
                throw Problem(
                    offset: index,
                    message: "yMdHmsS".contains(character)
                        ? "'\(written)' is not a width this pattern takes; it takes \(Self.letters)"
                        : "unknown pattern letter '\(character)'; patterns take \(Self.letters)")
            }
            parts.append(part)
            index += run
        }
        guard parts.contains(.year) || parts.contains(where: { if case .hour = $0 { true } else { false } }) else {
            throw Problem(offset: 0, message: "a pattern with neither a year (yyyy) nor an hour (HH) reads nothing a date or time needs")
        }
        self = .parts(parts)
    }

    /// The pattern has a time of day (an hour), so it reads timestamps, not only dates.
    public var hasTime: Bool {
        guard case .parts(let parts) = self else { return true }
        return parts.contains { if case .hour = $0 { true } else { false } }
    }

    public var hasDate: Bool {
        guard case .parts(let parts) = self else { return true }
        return parts.contains(.year)
    }

    /// The date and time `text` writes, as components (no zone); nil when it does not follow the
    /// pattern. Excel serial numbers are read by `excelDate`.
    public func components(of text: String) -> DateComponents? {
        guard case .parts(let parts) = self else { return nil }
        let characters = Array(text)
        var index = 0
        var result = DateComponents()
        func digits(_ minimum: Int, _ maximum: Int) -> Int? {
            var count = 0
            while count < maximum, index + count < characters.count, characters[index + count].isASCII, characters[index + count].isNumber {
                count += 1
            }
            guard count >= minimum else { return nil }
            defer { index += count }
            return Int(String(characters[index..<(index + count)]))
        }
        for part in parts {
            switch part {
            case .year: guard let value = digits(4, 4) else { return nil }; result.year = value
            case .month(let padded): guard let value = digits(padded ? 2 : 1, 2) else { return nil }; result.month = value
            case .day(let padded): guard let value = digits(padded ? 2 : 1, 2) else { return nil }; result.day = value
            case .hour(let padded): guard let value = digits(padded ? 2 : 1, 2) else { return nil }; result.hour = value
            case .minute: guard let value = digits(2, 2) else { return nil }; result.minute = value
            case .second: guard let value = digits(2, 2) else { return nil }; result.second = value
            case .fraction:
                let start = index
                guard digits(1, 9) != nil else { return nil }
                let text = String(characters[start..<index])
                result.nanosecond = Int((Double("0." + text) ?? 0) * 1_000_000_000)
            case .literal(let expected):
                guard index < characters.count, characters[index] == expected else { return nil }
                index += 1
            }
        }
        guard index == characters.count else { return nil }
        return result
    }

    /// Excel's day 0 is 1899-12-30 (so that its fictitious 1900-02-29 does not shift later dates):
    /// the serial's whole part counts days from it, its fraction the time of day.
    public static func excelComponents(_ serial: Double) -> DateComponents? {
        guard serial.isFinite, serial >= 1, serial < 2_958_466 else { return nil }  // 1900-01-01 … 9999-12-31
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let epoch = calendar.date(from: DateComponents(year: 1899, month: 12, day: 30))!
        let milliseconds = (serial * 86_400_000).rounded()
        let date = epoch.addingTimeInterval(milliseconds / 1000)
        var parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        parts.nanosecond = parts.nanosecond.map { ($0 + 500_000) / 1_000_000 * 1_000_000 }
        return parts
    }
}

/// How a source writes a number when not as JSON does: the decimal separator and the grouping one
/// (`20,65` and `1.234,56` with `decimal: ","` and `group: "."`).
public struct NumberNotation: Hashable, Sendable {
    public var decimal: Character
    public var group: Character?

    public init(decimal: Character = ".", group: Character? = nil) {
        self.decimal = decimal
        self.group = group
    }

    /// The number as JSON writes it, or nil when `text` is not one in this notation: groups of three
    /// digits between group separators, one decimal separator at most.
    public func normalized(_ text: String) -> String? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var sign = ""
        if let first = body.first, first == "-" || first == "+" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        let halves = body.split(separator: decimal, maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = halves.first, !whole.isEmpty else { return nil }
        var digits = String(whole)
        if let group, whole.contains(group) {
            let groups = whole.split(separator: group, omittingEmptySubsequences: false)
            guard let head = groups.first, (1...3).contains(head.count), groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
            digits = groups.joined()
        }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard halves.count == 2 else { return sign + digits }
        let fraction = halves[1]
        guard !fraction.isEmpty, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return sign + digits + "." + fraction
    }
}
