import Foundation

/// One field of a record as the record program sees it, whatever the source format.
enum Value: Equatable {
    case missing
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    /// An object or array, as minified JSON.
    case json(String, isArray: Bool)

    var isAbsent: Bool {
        switch self {
        case .missing, .null: return true
        default: return false
        }
    }

    /// The text a transform, pattern or text column sees. nil for an absent value.
    var text: String? {
        switch self {
        case .missing, .null: return nil
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .unsigned(let value): return String(value)
        case .double(let value): return Value.format(value)
        case .string(let value): return value
        case .json(let value, _): return value
        }
    }

    /// Shortest text that reads back as the same double, without Swift's trailing `.0`.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    /// JSON text of the value, for json/jsonb columns.
    var jsonText: String? {
        switch self {
        case .missing, .null: return nil
        case .string(let value): return Value.quoted(value)
        case .json(let value, _): return value
        default: return text
        }
    }

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// An RFC 3339 timestamp, kept as UTC. PostgreSQL reads more forms, but a pipeline that accepted
/// whatever PostgreSQL does would still get its derived date and hour wrong for some of them.
struct Timestamp: Equatable {
    /// Seconds since 1970-01-01T00:00:00Z, and the fraction in microseconds.
    var seconds: Int64
    var microseconds: Int32

    /// `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|±HH:MM)`, or a bare `YYYY-MM-DD` when `allowDate`.
    static func parse(_ text: String, allowDate: Bool = false) -> Timestamp? {
        var utf8 = Array(text.utf8)
        if allowDate, utf8.count == 10 { utf8 += Array("T00:00:00Z".utf8) }  // a date is its midnight, UTC
        guard utf8.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let byte = utf8[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = digits(0, 4), utf8[4] == 45, let month = digits(5, 2), utf8[7] == 45, let day = digits(8, 2),
            utf8[10] == 84 || utf8[10] == 116 || utf8[10] == 32,
            let hour = digits(11, 2), utf8[13] == 58, let minute = digits(14, 2), utf8[16] == 58, let second = digits(17, 2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var index = 19
        var micros = 0
        if index < utf8.count, utf8[index] == 46 {
            index += 1
            var places = 0
            while index < utf8.count, utf8[index] >= 48, utf8[index] <= 57 {
                if places < 6 { micros = micros * 10 + Int(utf8[index] - 48) }
                places += 1
                index += 1
            }
            guard places > 0 else { return nil }
            for _ in min(places, 6)..<6 { micros *= 10 }
        }
        guard index < utf8.count else { return nil }
        var offset = 0
        if utf8[index] == 90 || utf8[index] == 122 {
            index += 1
        } else if utf8[index] == 43 || utf8[index] == 45, index + 6 == utf8.count, utf8[index + 3] == 58,
            let offsetHours = digits(index + 1, 2), let offsetMinutes = digits(index + 4, 2), offsetHours <= 23, offsetMinutes <= 59
        {
            offset = (offsetHours * 60 + offsetMinutes) * 60 * (utf8[index] == 45 ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == utf8.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Timestamp(seconds: Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second - offset), microseconds: Int32(micros))
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    var days: Int { Int((seconds - (seconds % 86400 + 86400) % 86400) / 86400) }
    var secondOfDay: Int { Int((seconds % 86400 + 86400) % 86400) }

    /// The UTC calendar date, `YYYY-MM-DD`.
    var dateText: String {
        let (year, month, day) = Timestamp.civil(fromDays: days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    var hour: Int { secondOfDay / 3600 }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC, as PostgreSQL prints it. Built in bytes: it runs per record.
    var utcText: String {
        let (year, month, day) = Timestamp.civil(fromDays: days)
        let second = secondOfDay
        var out = [UInt8]()
        out.reserveCapacity(26)
        func put(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(48 + (value / divisor) % 10))
                divisor /= 10
            }
        }
        put(year, 4); out.append(45); put(month, 2); out.append(45); put(day, 2); out.append(32)
        put(second / 3600, 2); out.append(58); put(second / 60 % 60, 2); out.append(58); put(second % 60, 2)
        if microseconds > 0 {
            out.append(46)
            put(Int(microseconds), 6)
            while out.last == 48 { out.removeLast() }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
