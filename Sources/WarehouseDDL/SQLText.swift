import SluiceCore

/// Quoting for the SQL text Sluice writes. Identifiers are quoted only where PostgreSQL needs it
/// (as `quote_ident` and pg_dump do), so generated files read like hand-written SQL; values never
/// reach SQL text: they travel as parameters. Literals appear only in DDL that takes none (COMMENT ON).
public enum SQL {
    /// `name`, or `"Name"` / `"order"` when it is not a plain lower-case identifier or is a keyword.
    public static func identifier(_ name: String) -> String {
        if isPlainIdentifier(name), !keywords.contains(name) { return name }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `schema.name`, each part quoted as needed.
    public static func qualified(_ schema: String, _ name: String) -> String {
        identifier(schema) + "." + identifier(name)
    }

    /// A qualified name given as `schema.name`.
    public static func qualified(_ dotted: String) -> String {
        guard let dot = dotted.firstIndex(of: ".") else { return identifier(dotted) }
        return qualified(String(dotted[..<dot]), String(dotted[dotted.index(after: dot)...]))
    }

    /// A string literal (standard_conforming_strings: only quotes are doubled).
    public static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A comma-separated list of quoted identifiers.
    public static func list(_ names: [String]) -> String {
        names.map(identifier).joined(separator: ", ")
    }

    /// PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and silently drops the rest,
    /// which would make a generated name differ from what the catalog holds. Longer names keep
    /// a prefix and end in a hash of the whole name, so they stay unique and stable.
    public static func fitted(_ name: String) -> String {
        guard name.utf8.count > 63 else { return name }
        let suffix = "_" + String(FNV1a(name).hex.suffix(8))
        var prefix = ""
        for character in name {
            if prefix.utf8.count + character.utf8.count + suffix.utf8.count > 63 { break }
            prefix.append(character)
        }
        return prefix + suffix
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0 == "$" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// PostgreSQL 15's keywords that `quote_ident` quotes: every category but unreserved
    /// (`SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'`).
    static let keywords: Set<String> = [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "bigint",
        "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce", "collate", "collation",
        "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
        "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable",
        "desc", "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
        "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in", "initially", "inner",
        "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "lateral", "leading", "least",
        "left", "like", "limit", "localtime", "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not",
        "notnull", "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay",
        "placing", "position", "precision", "primary", "real", "references", "returning", "right", "row", "select",
        "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample", "then",
        "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values",
        "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
        "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
    ]
}
