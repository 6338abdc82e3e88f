import Foundation

/// A target column's PostgreSQL type, as far as the executor checks values against it before they
/// are staged: one value COPY cannot read would fail the whole object, so such a record is
/// quarantined with the column and the reason instead.
enum ColumnType: Equatable {
    case text(maxLength: Int?)
    case integer(min: Int64, max: Int64)
    case numeric(precision: Int?, scale: Int)
    case float
    case boolean
    case uuid
    case date
    case timestamptz
    case timestamp
    case json
    /// Types the executor does not check (inet, interval, arrays …): the server does.
    case other

    init(_ declared: String) {
        let type = declared.lowercased().trimmingCharacters(in: .whitespaces)
        func arguments() -> [Int] {
            guard let open = type.firstIndex(of: "("), let close = type.lastIndex(of: ")") else { return [] }
            return type[type.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        let base = type.split(separator: "(").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? type
        if type.hasSuffix("]") { self = .other; return }
        switch base {
        case "text", "citext", "name": self = .text(maxLength: nil)
        case "varchar", "character varying", "char", "character", "bpchar":
            self = .text(maxLength: arguments().first ?? (base.hasPrefix("char") ? 1 : nil))
        case "smallint", "int2": self = .integer(min: Int64(Int16.min), max: Int64(Int16.max))
        case "integer", "int", "int4": self = .integer(min: Int64(Int32.min), max: Int64(Int32.max))
        case "bigint", "int8": self = .integer(min: Int64.min, max: Int64.max)
        case "numeric", "decimal":
            let values = arguments()
            self = .numeric(precision: values.first, scale: values.count > 1 ? values[1] : 0)
        case "real", "float4", "double precision", "float8", "float": self = .float
        case "boolean", "bool": self = .boolean
        case "uuid": self = .uuid
        case "date": self = .date
        case "timestamptz", "timestamp with time zone": self = .timestamptz
        case "timestamp", "timestamp without time zone": self = .timestamp
        case "json", "jsonb": self = .json
        default: self = .other
        }
    }

    enum Encoded {
        case value(String?)
        case refused(String)
    }

    /// The COPY text of `value` for this type (nil: NULL), or why it does not fit.
    func encode(_ value: Value) -> Encoded {
        if value.isAbsent { return .value(nil) }
        switch self {
        case .text(let maxLength):
            guard let text = value.text else { return .value(nil) }
            if let maxLength, text.unicodeScalars.count > maxLength {
                return .refused("\(text.unicodeScalars.count) characters, longer than the column's \(maxLength)")
            }
            return .value(text)
        case .integer(let min, let max):
            guard let number = Self.integer(value) else { return .refused("\(Self.show(value)) is not an integer") }
            guard let exact = number, exact >= min, exact <= max else { return .refused("\(Self.show(value)) is out of range \(min)...\(max)") }
            return .value(String(exact))
        case .numeric(let precision, let scale):
            guard let (text, number) = Self.number(value) else { return .refused("\(Self.show(value)) is not a number") }
            guard number.isFinite else { return .refused("\(Self.show(value)) is not a finite number") }
            if let precision {
                // PostgreSQL rounds to the scale; what is left of the point must fit precision - scale digits.
                let limit = pow(10, Double(precision - scale)) - 0.5 * pow(10, -Double(scale))
                if abs(number) >= limit { return .refused("\(text) does not fit numeric(\(precision),\(scale))") }
            }
            return .value(text)
        case .float:
            guard let (text, number) = Self.number(value) else { return .refused("\(Self.show(value)) is not a number") }
            guard number.isFinite else { return .refused("\(Self.show(value)) is not a finite number") }
            return .value(text)
        case .boolean:
            switch value {
            case .bool(let flag): return .value(flag ? "true" : "false")
            case .integer(0): return .value("false")
            case .integer(1): return .value("true")
            case .string(let text):
                switch text.lowercased() {
                case "true", "t", "yes", "y", "on", "1": return .value("true")
                case "false", "f", "no", "n", "off", "0": return .value("false")
                default: return .refused("\(Self.show(value)) is not a boolean")
                }
            default: return .refused("\(Self.show(value)) is not a boolean")
            }
        case .uuid:
            guard case .string(let text) = value, let uuid = Self.uuid(text) else { return .refused("\(Self.show(value)) is not a UUID") }
            return .value(uuid)
        case .date:
            guard case .string(let text) = value, let timestamp = Timestamp.parse(text, allowDate: true) else {
                return .refused("\(Self.show(value)) is not a date (YYYY-MM-DD) or RFC 3339 timestamp")
            }
            return .value(timestamp.dateText)
        case .timestamptz, .timestamp:
            guard case .string(let text) = value, let timestamp = Timestamp.parse(text, allowDate: true) else {
                return .refused("\(Self.show(value)) is not an RFC 3339 timestamp")
            }
            return .value(self == .timestamptz ? timestamp.utcText + "+00" : timestamp.utcText)
        case .json:
            return .value(value.jsonText)
        case .other:
            return .value(value.text)
        }
    }

    /// nil: not an integer; .some(nil): an integer beyond Int64.
    static func integer(_ value: Value) -> Int64?? {
        switch value {
        case .integer(let number): return .some(number)
        case .unsigned: return .some(nil)
        case .double(let number):
            guard number == number.rounded() else { return nil }
            return .some(abs(number) < 9.2e18 ? Int64(number) : nil)
        case .string(let text):
            if let number = Int64(text) { return .some(number) }
            if !text.isEmpty, text.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isNumber) { return .some(nil) }
            return nil
        default: return nil
        }
    }

    static func number(_ value: Value) -> (String, Double)? {
        switch value {
        case .integer(let number): return (String(number), Double(number))
        case .unsigned(let number): return (String(number), Double(number))
        case .double(let number): return (Value.format(number), number)
        case .string(let text):
            // Plain decimal notation only: PostgreSQL's numeric also reads NaN and Infinity, which no source means.
            guard text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 43 || $0 == 101 || $0 == 69 }),
                let number = Double(text)
            else { return nil }
            return (text, number)
        default: return nil
        }
    }

    /// Lower-case canonical form of a UUID written with or without hyphens.
    static func uuid(_ text: String) -> String? {
        var text = text
        // One pass into the result's own storage: every id of a load comes through here.
        return text.withUTF8 { utf8 -> String? in
            let hyphenated = utf8.count == 36
            guard hyphenated || utf8.count == 32 else { return nil }
            if hyphenated, utf8[8] != 45 || utf8[13] != 45 || utf8[18] != 45 || utf8[23] != 45 { return nil }
            var valid = true
            let canonical = String(unsafeUninitializedCapacity: 36) { out in
                var written = 0
                for byte in utf8 {
                    if hyphenated, byte == 45, written == 8 || written == 13 || written == 18 || written == 23 {
                        out[written] = 45
                        written += 1
                        continue
                    }
                    if !hyphenated, written == 8 || written == 13 || written == 18 || written == 23 {
                        out[written] = 45
                        written += 1
                    }
                    switch byte {
                    case 48...57, 97...102: out[written] = byte
                    case 65...70: out[written] = byte + 32
                    default:
                        valid = false
                        return 0
                    }
                    written += 1
                }
                return written
            }
            return valid ? canonical : nil
        }
    }

    /// The value as a reason quotes it: short, and never the whole of a long string.
    static func show(_ value: Value) -> String {
        switch value {
        case .missing: return "missing"
        case .null: return "null"
        case .string(let text): return Value.quoted(text.count > 40 ? String(text.prefix(40)) + "…" : text)
        case .json(_, let isArray): return isArray ? "an array" : "an object"
        default: return value.text ?? "null"
        }
    }
}
