import Foundation

/// EventBridge schedule expressions, validated by EventBridge's documented rules
/// (stricter than cfn-lint's E3027, which accepts `3#1,6#3`).
public enum ScheduleExpression {
    /// Nil when valid; otherwise why not.
    public static func problem(in expression: String) -> String? {
        if expression.hasPrefix("rate(") && expression.hasSuffix(")") {
            return rateProblem(String(expression.dropFirst(5).dropLast()))
        }
        if expression.hasPrefix("cron(") && expression.hasSuffix(")") {
            return cronProblem(String(expression.dropFirst(5).dropLast()))
        }
        return "'\(expression)' is neither rate(VALUE UNIT) nor cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)"
    }

    static func rateProblem(_ body: String) -> String? {
        let parts = body.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, let value = Int(parts[0]), parts[0].allSatisfy(\.isNumber) else {
            return "rate(\(body)): expected a positive whole number and a unit, e.g. rate(5 minutes)"
        }
        guard value > 0 else { return "rate(\(body)): the value must be greater than zero" }
        let unit = String(parts[1])
        let singular = ["minute", "hour", "day"], plural = ["minutes", "hours", "days"]
        if value == 1 {
            if plural.contains(unit) { return "rate(\(body)): EventBridge wants the singular for 1: rate(1 \(unit.dropLast()))" }
            if !singular.contains(unit) { return "rate(\(body)): unit must be minute, hour or day" }
        } else {
            if singular.contains(unit) { return "rate(\(body)): EventBridge wants the plural for values above 1: rate(\(value) \(unit)s)" }
            if !plural.contains(unit) { return "rate(\(body)): unit must be minutes, hours or days" }
        }
        return nil
    }

    struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
        /// Wildcards beyond digits and names that the field accepts.
        let wildcards: Set<Character>
    }

    static let fields = [
        Field(name: "minutes", range: 0...59, names: [], wildcards: [",", "-", "*", "/"]),
        Field(name: "hours", range: 0...23, names: [], wildcards: [",", "-", "*", "/"]),
        Field(name: "day-of-month", range: 1...31, names: [], wildcards: [",", "-", "*", "?", "/", "L", "W"]),
        Field(
            name: "month", range: 1...12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            wildcards: [",", "-", "*", "/"]),
        Field(
            name: "day-of-week", range: 1...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], wildcards: [",", "-", "*", "?", "L", "#"]),
        Field(name: "year", range: 1970...2199, names: [], wildcards: [",", "-", "*", "/"]),
    ]

    static func cronProblem(_ body: String) -> String? {
        let parts = body.split(separator: " ").map(String.init)
        guard parts.count == 6 else {
            return "cron(\(body)): EventBridge cron has six fields (minutes hours day-of-month month day-of-week year), found \(parts.count)"
        }
        for (field, text) in zip(fields, parts) {
            if let problem = fieldProblem(text, field) { return "cron(\(body)): \(field.name) '\(text)': \(problem)" }
        }
        let (dayOfMonth, dayOfWeek) = (parts[2], parts[4])
        if (dayOfMonth == "?") == (dayOfWeek == "?") {
            return "cron(\(body)): exactly one of day-of-month and day-of-week must be '?' (EventBridge cannot take both)"
        }
        // "Cron expressions that lead to rates faster than 1 minute are not supported": with one-minute
        // resolution this can only be violated by seconds, which the format has no field for.
        return nil
    }

    static func fieldProblem(_ text: String, _ field: Field) -> String? {
        guard !text.isEmpty else { return "empty" }
        if let bad = text.first(where: { !($0.isNumber || $0.isUppercase || field.wildcards.contains($0)) }) {
            return
                "'\(bad)' is not allowed here (allowed: digits\(field.names.isEmpty ? "" : ", names") and \(field.wildcards.sorted().map(String.init).joined(separator: " ")))"
        }
        if text == "?" { return nil }  // only reachable where the field takes '?'; the character check refused it elsewhere
        // L, W and # stand alone: never inside a list or range ("3#1,6#3" is two expressions, which EventBridge refuses).
        // The letters of names (JUL, WED) are not the special characters.
        let specials = field.names.reduce(text) { $0.replacingOccurrences(of: $1, with: "") }
        if specials.contains(where: { "LW#".contains($0) && field.wildcards.contains($0) }) {
            if text.contains(",") || text.contains("-") || text.contains("/") {
                return "L, W and # cannot be combined with lists, ranges or increments"
            }
            return specialProblem(text, field)
        }
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if let problem = itemProblem(item, field) { return problem }
        }
        return nil
    }

    static func specialProblem(_ text: String, _ field: Field) -> String? {
        if field.name == "day-of-month" {
            if text == "L" { return nil }
            if text.hasSuffix("W"), let day = Int(text.dropLast()), field.range.contains(day) { return nil }
            return "day-of-month takes L (last day) or nW (the weekday nearest day n)"
        }
        // day-of-week
        if text == "L" { return nil }
        if text.hasSuffix("L"), value(String(text.dropLast()), field) != nil { return nil }
        let hash = text.split(separator: "#", omittingEmptySubsequences: false)
        if hash.count == 2, value(String(hash[0]), field) != nil, let n = Int(hash[1]), (1...5).contains(n) { return nil }
        return "day-of-week takes L, dL (last weekday d of the month) or d#n (the n-th weekday d, n from 1 to 5)"
    }

    static func itemProblem(_ item: String, _ field: Field) -> String? {
        guard !item.isEmpty else { return "empty list item" }
        var base = item
        if let slash = item.firstIndex(of: "/") {
            guard field.wildcards.contains("/") else { return "increments are not allowed in \(field.name)" }
            let step = String(item[item.index(after: slash)...])
            base = String(item[..<slash])
            guard let n = Int(step), n >= 1, step.allSatisfy(\.isNumber) else { return "increment '\(step)' must be a positive number" }
            guard n <= field.range.upperBound else { return "increment \(n) exceeds the field's range" }
        }
        if base == "*" { return nil }
        let bounds = base.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count <= 2 else { return "'\(base)' is not a value or a range" }
        var values: [Int] = []
        for bound in bounds {
            guard let v = value(bound, field) else {
                return
                    "'\(bound)' is not a value from \(field.range.lowerBound) to \(field.range.upperBound)\(field.names.isEmpty ? "" : " or \(field.names.first!)-\(field.names.last!)")"
            }
            values.append(v)
        }
        if values.count == 2, values[0] > values[1] { return "range \(base) runs backwards" }
        return nil
    }

    static func value(_ text: String, _ field: Field) -> Int? {
        if let index = field.names.firstIndex(of: text) { return field.range.lowerBound + index }
        guard !text.isEmpty, text.allSatisfy(\.isNumber), let v = Int(text), field.range.contains(v) else { return nil }
        return v
    }
}
