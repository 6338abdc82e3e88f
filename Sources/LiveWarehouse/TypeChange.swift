import SluiceCore

/// Whether changing a column's type keeps every value as it was.
enum TypeChange: Equatable {
    case widening
    case narrowing(String)

    /// `from` is the catalog's format_type text; `to` the spec's type.
    static func classify(from current: String, to wanted: PostgresType) -> TypeChange {
        guard let old = parse(current) else { return .narrowing("\(current) is not a type Sluice can reason about; values may not convert") }
        let new = stored(wanted)
        guard old.isArray == new.isArray else { return .narrowing("an array becomes a scalar or the reverse") }
        if widens(old, new) { return .widening }
        return .narrowing("\(current) to \(wanted) can lose or reject values")
    }

    /// The type a column of `type` holds: serial types are integers with a sequence default, and
    /// `ALTER COLUMN … TYPE` takes only the integer (there is no type named `bigserial`).
    static func stored(_ type: PostgresType) -> PostgresType {
        var stored = type
        switch type.base {
        case .smallserial: stored.base = .smallint
        case .serial: stored.base = .integer
        case .bigserial: stored.base = .bigint
        default: break
        }
        return stored
    }

    private static func widens(_ old: PostgresType, _ new: PostgresType) -> Bool {
        let integers: [PostgresType.Base] = [.smallint, .integer, .bigint]
        if let a = integers.firstIndex(of: old.base), let b = integers.firstIndex(of: new.base) { return a <= b }
        if integers.contains(old.base), new.base == .numeric {
            let digits = [PostgresType.Base.smallint: 5, .integer: 10, .bigint: 19][old.base]!
            return new.modifiers.isEmpty || new.modifiers[0] - (new.modifiers.count > 1 ? new.modifiers[1] : 0) >= digits
        }
        // Text long enough for every value's text form: the integers' longest with its sign, a uuid's 36.
        let textLength: [PostgresType.Base: Int] = [.smallint: 6, .integer: 11, .bigint: 20, .uuid: 36, .boolean: 5]
        if let needed = textLength[old.base], [.text, .varchar].contains(new.base) {
            return new.base == .text || new.modifiers.isEmpty || new.modifiers[0] >= needed
        }
        switch (old.base, new.base) {
        case (.real, .doublePrecision), (.smallint, .real), (.smallint, .doublePrecision), (.integer, .doublePrecision): return true
        case (.date, .timestamp), (.date, .timestamptz): return true
        case (.numeric, .numeric):
            if new.modifiers.isEmpty { return true }
            guard !old.modifiers.isEmpty else { return false }
            let oldScale = old.modifiers.count > 1 ? old.modifiers[1] : 0, newScale = new.modifiers.count > 1 ? new.modifiers[1] : 0
            return newScale >= oldScale && new.modifiers[0] - newScale >= old.modifiers[0] - oldScale
        case (.varchar, .varchar), (.char, .varchar), (.varchar, .text), (.char, .text), (.text, .text):
            if new.base == .text || new.modifiers.isEmpty { return true }
            return !old.modifiers.isEmpty && new.modifiers[0] >= old.modifiers[0]
        case (.text, .varchar): return new.modifiers.isEmpty
        case (.char, .char): return (new.modifiers.first ?? 1) >= (old.modifiers.first ?? 1)
        case (.timestamp, .timestamp), (.timestamptz, .timestamptz), (.time, .time):
            return new.modifiers.isEmpty || (!old.modifiers.isEmpty && new.modifiers[0] >= old.modifiers[0])
        case (.json, .json), (.jsonb, .jsonb), (.inet, .inet), (.cidr, .inet): return true
        default: return false
        }
    }

    /// format_type puts a precision inside the name (`timestamp(3) with time zone`); move it to the end.
    static func parse(_ text: String) -> PostgresType? {
        var raw = text
        var array = false
        if raw.hasSuffix("[]") {
            array = true
            raw = String(raw.dropLast(2))
        }
        if let open = raw.firstIndex(of: "("), let close = raw.firstIndex(of: ")"), raw.index(after: close) != raw.endIndex {
            let modifier = raw[open...close]
            raw = String(raw[..<open]) + String(raw[raw.index(after: close)...]) + modifier
        }
        guard var type = PostgresType(parsing: raw) else { return nil }
        type.isArray = array
        return type
    }
}
