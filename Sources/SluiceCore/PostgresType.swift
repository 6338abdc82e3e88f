import Foundation

/// A PostgreSQL column type, parsed from the spec and rendered canonically.
public struct PostgresType: Hashable, Sendable, CustomStringConvertible {
    public enum Base: String, Sendable, CaseIterable {
        case smallint, integer, bigint, numeric, real
        case doublePrecision = "double precision"
        case boolean, text, varchar, char, uuid, date, time, timestamp, timestamptz, interval
        case json, jsonb, bytea, inet, cidr, smallserial, serial, bigserial
    }

    /// What a value of this type is, for mapping compatibility.
    public enum Category: String, Sendable {
        case integer, decimal, boolean, text, uuid, date, time, timestamp, interval, json, binary, network
    }

    public var base: Base
    /// varchar(n), char(n), numeric(p[,s]), timestamp(p)
    public var modifiers: [Int]
    public var isArray: Bool

    public init(_ base: Base, modifiers: [Int] = [], isArray: Bool = false) {
        self.base = base
        self.modifiers = modifiers
        self.isArray = isArray
    }

    /// Accepted spellings, PostgreSQL's aliases included, mapped to the canonical base.
    static let aliases: [String: Base] = [
        "smallint": .smallint, "int2": .smallint, "integer": .integer, "int": .integer, "int4": .integer,
        "bigint": .bigint, "int8": .bigint, "numeric": .numeric, "decimal": .numeric, "real": .real, "float4": .real,
        "double precision": .doublePrecision, "float8": .doublePrecision, "float": .doublePrecision,
        "boolean": .boolean, "bool": .boolean, "text": .text, "varchar": .varchar, "character varying": .varchar,
        "char": .char, "character": .char, "uuid": .uuid, "date": .date, "time": .time,
        "time without time zone": .time, "timestamp": .timestamp, "timestamp without time zone": .timestamp,
        "timestamptz": .timestamptz, "timestamp with time zone": .timestamptz, "interval": .interval,
        "json": .json, "jsonb": .jsonb, "bytea": .bytea, "inet": .inet, "cidr": .cidr,
        "smallserial": .smallserial, "serial": .serial, "bigserial": .bigserial, "serial4": .serial, "serial8": .bigserial,
    ]

    public static var knownNames: [String] { aliases.keys.sorted() }

    /// Parses `varchar(255)`, `numeric(12,2)`, `timestamp with time zone`, `text[]`. Nil when unknown.
    public init?(parsing raw: String) {
        var text = raw.trimmingCharacters(in: .whitespaces).lowercased()
        var array = false
        if text.hasSuffix("[]") {
            array = true
            text = String(text.dropLast(2)).trimmingCharacters(in: .whitespaces)
        }
        var modifiers: [Int] = []
        if let open = text.firstIndex(of: "(") {
            guard text.hasSuffix(")") else { return nil }
            let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
            let parts = inner.split(separator: ",", omittingEmptySubsequences: false)
            for part in parts {
                guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
                modifiers.append(n)
            }
            text = String(text[..<open]).trimmingCharacters(in: .whitespaces)
        }
        text = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard let base = PostgresType.aliases[text] else { return nil }
        switch base {
        case .varchar, .char:
            guard modifiers.count <= 1, modifiers.allSatisfy({ $0 >= 1 && $0 <= 10_485_760 }) else { return nil }
        case .numeric:
            guard modifiers.count <= 2, modifiers.first.map({ $0 >= 1 && $0 <= 1000 }) ?? true else { return nil }
            if modifiers.count == 2, modifiers[1] > modifiers[0] { return nil }
        case .timestamp, .timestamptz, .time:
            guard modifiers.count <= 1, modifiers.allSatisfy({ $0 <= 6 }) else { return nil }
        default:
            guard modifiers.isEmpty else { return nil }
        }
        self.init(base, modifiers: modifiers, isArray: array)
    }

    public var category: Category {
        switch base {
        case .smallint, .integer, .bigint, .smallserial, .serial, .bigserial: return .integer
        case .numeric, .real, .doublePrecision: return .decimal
        case .boolean: return .boolean
        case .text, .varchar, .char: return .text
        case .uuid: return .uuid
        case .date: return .date
        case .time: return .time
        case .timestamp, .timestamptz: return .timestamp
        case .interval: return .interval
        case .json, .jsonb: return .json
        case .bytea: return .binary
        case .inet, .cidr: return .network
        }
    }

    /// serial types get a sequence default, so NOT NULL is fed without a mapping.
    public var hasImplicitDefault: Bool { [.smallserial, .serial, .bigserial].contains(base) }

    public var description: String {
        var s = base.rawValue
        if !modifiers.isEmpty { s += "(" + modifiers.map(String.init).joined(separator: ",") + ")" }
        return isArray ? s + "[]" : s
    }
}
