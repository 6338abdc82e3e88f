import Foundation
import PlanFormat
import SluiceCore

/// A field's values as its source writes them, rewritten the way the record program reads values:
/// `1.234,56` → `1234.56`, `30.11.2026` → `2026-11-30`, `11/30/2026 14:05` in Europe/Berlin →
/// `2026-11-30T13:05:00Z`, Excel's serial `46356` → `2026-11-30`.
enum ValueReading {
    case number(NumberNotation)
    case date(DateTimePattern, written: String)
    /// No pattern: RFC 3339 text, with `clock`'s zone for text written without an offset.
    case timestamp(DateTimePattern?, written: String?, clock: ZoneClock)

    struct Problem: Error {
        var reason: String
    }

    /// Nil when the field reads values as JSON and RFC 3339 write them.
    init?(_ field: PipelinePlan.Field) throws {
        switch field.type {
        case .integer, .number:
            guard field.decimal != nil || field.group != nil else { return nil }
            self = .number(NumberNotation(decimal: field.decimal?.first ?? ".", group: field.group?.first))
        case .date:
            guard let format = field.format else { return nil }
            self = .date(try Self.pattern(format, field), written: format)
        case .timestamp:
            guard field.format != nil || field.timeZone != nil else { return nil }
            guard let zone = TimeZone(identifier: field.timeZone ?? "UTC") else {
                throw ExecutorError.plan("field \(field.path): time zone '\(field.timeZone ?? "")' is not known here")
            }
            self = .timestamp(try field.format.map { try Self.pattern($0, field) }, written: field.format, clock: ZoneClock(zone))
        default:
            return nil
        }
    }

    private static func pattern(_ text: String, _ field: PipelinePlan.Field) throws -> DateTimePattern {
        do { return try DateTimePattern(text) } catch {
            throw ExecutorError.plan("field \(field.path): format '\(text)': \(error.message)")
        }
    }

    func read(_ value: Value) -> Result<Value, Problem> {
        switch self {
        case .number(let notation):
            guard case .string(let text) = value else { return .success(value) }  // a JSON number is one already
            guard let normalized = notation.normalized(text) else {
                return .failure(
                    Problem(
                        reason: "\(ColumnType.show(value)) is not a number written with '\(notation.decimal)' as decimal separator"
                            + (notation.group.map { " and '\($0)' between groups of three digits" } ?? "")))
            }
            return .success(.string(normalized))
        case .date(let pattern, let written):
            guard let parts = components(value, pattern), let year = parts.year, let month = parts.month, let day = parts.day,
                year >= 1, (1...12).contains(month), (1...Timestamp.daysIn(month: month, year: year)).contains(day)
            else { return .failure(Problem(reason: "\(ColumnType.show(value)) is not a date written \(Self.describe(written))")) }
            return .success(.string(String(format: "%04d-%02d-%02d", year, month, day)))
        case .timestamp(let pattern, let written, let clock):
            guard let pattern else { return rfc3339(value, clock: clock) }
            guard var parts = components(value, pattern) else {
                return .failure(Problem(reason: "\(ColumnType.show(value)) is not a timestamp written \(Self.describe(written ?? ""))"))
            }
            parts.hour = parts.hour ?? 0
            guard let instant = clock.instant(parts) else {
                return .failure(Problem(reason: "\(ColumnType.show(value)) is not a time that exists in \(clock.zone.identifier)"))
            }
            return .success(.string(instant))
        }
    }

    /// Text (or, for `excel`, a number) as date components.
    private func components(_ value: Value, _ pattern: DateTimePattern) -> DateComponents? {
        if case .excelSerial = pattern {
            switch value {
            case .integer(let number): return DateTimePattern.excelComponents(Double(number))
            case .unsigned(let number): return DateTimePattern.excelComponents(Double(number))
            case .double(let number): return DateTimePattern.excelComponents(number)
            case .string(let text): return Double(text.trimmingCharacters(in: .whitespaces)).flatMap(DateTimePattern.excelComponents)
            default: return nil
            }
        }
        guard case .string(let text) = value else { return nil }
        return pattern.components(of: text.trimmingCharacters(in: .whitespaces))
    }

    /// RFC 3339 with an offset stays as written; without one (`2026-11-30 14:05:00`,
    /// `2026-11-30T14:05`) it is read in `zone`.
    private func rfc3339(_ value: Value, clock: ZoneClock) -> Result<Value, Problem> {
        guard case .string(let text) = value else { return .success(value) }
        if Timestamp.parse(text) != nil { return .success(value) }
        for written in Self.withoutOffset {
            guard let parts = written.components(of: text) else { continue }
            guard let instant = clock.instant(parts) else { break }
            return .success(.string(instant))
        }
        return .failure(Problem(reason: "\(ColumnType.show(value)) is not an RFC 3339 timestamp (with or without an offset)"))
    }

    /// RFC 3339's forms without an offset, parsed once.
    private static let withoutOffset = [
        "yyyy-MM-dd'T'HH:mm:ss.S", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss.S", "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm",
    ].map { try! DateTimePattern($0) }

    private static func describe(_ format: String) -> String {
        format == "excel" ? "as an Excel serial day number" : "as \(format)"
    }
}

/// Wall-clock times of one zone as UTC instants; its calendar and formatter made once per field,
/// not per value. Used by one record program, so by one task at a time.
final class ZoneClock {
    let zone: TimeZone
    private let calendar: Calendar
    private let formatter = ISO8601DateFormatter()

    init(_ zone: TimeZone) {
        self.zone = zone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    /// The instant, in RFC 3339 UTC; nil for a wall-clock time a daylight-saving change skipped
    /// (02:30 on a spring-forward night): Foundation would move it, the record is refused instead.
    func instant(_ parts: DateComponents) -> String? {
        guard let date = calendar.date(from: parts) else { return nil }
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard back.year == parts.year, back.month == parts.month, back.day == parts.day, back.hour == (parts.hour ?? 0),
            back.minute == (parts.minute ?? 0)
        else { return nil }
        return formatter.string(from: date)
    }
}
