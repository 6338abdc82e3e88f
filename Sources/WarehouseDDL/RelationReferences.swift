/// The relations a query reads, found where SQL puts relations: the name after FROM or JOIN, and
/// after each comma of a FROM list, at every depth of parentheses. A name elsewhere (a column, an
/// alias, a string, a comment) is not a reference. Names come back lowercased unless they were
/// quoted, qualified as written (`schema.name` or `name`). What comes after FROM as a call
/// (`generate_series(…)`) or a subquery is not a relation; CTE names are dropped.
public enum RelationReferences {
    public static func `in`(_ sql: String) -> Set<String> {
        let tokens = tokenize(sql)
        var references: Set<String> = []
        var cteNames: Set<String> = []
        // Per parenthesis depth: whether a FROM list is open there.
        var fromOpen: [Bool] = [false]
        var expectRelation = false
        var index = 0
        // Words that end a FROM list at their depth; ON and USING only end a relation's name (a comma
        // after a join condition still lists another relation).
        let clauseEnds: Set<String> = [
            "where", "group", "order", "having", "limit", "offset", "union", "intersect", "except",
            "window", "select", "returning", "fetch", "for",
        ]
        while index < tokens.count {
            let token = tokens[index]
            switch token {
            case .open:
                fromOpen.append(false)
                expectRelation = false
            case .close:
                if fromOpen.count > 1 { fromOpen.removeLast() }
                expectRelation = false
            case .comma:
                expectRelation = fromOpen[fromOpen.count - 1]
            case .word(let word, quoted: false) where word == "from" || word == "join":
                fromOpen[fromOpen.count - 1] = true
                expectRelation = true
            case .word(let word, quoted: false) where word == "with" || (word == "as" && index + 1 < tokens.count && tokens[index + 1] == .open):
                // `WITH name AS (` … : the name before AS is a CTE.
                if word == "as", index > 0, case .word(let name, _) = tokens[index - 1] { cteNames.insert(name) }
            case .word(let word, quoted: false) where expectRelation && (word == "lateral" || word == "only"):
                break
            case .word(let word, quoted: false) where clauseEnds.contains(word):
                fromOpen[fromOpen.count - 1] = false
                expectRelation = false
            case .word(let first, _) where expectRelation:
                var name = first
                var next = index + 1
                while next + 1 < tokens.count, tokens[next] == .dot, case .word(let part, _) = tokens[next + 1] {
                    name += "." + part
                    next += 2
                }
                // A call (`FROM generate_series(1, 3)`) is not a relation.
                if next < tokens.count, tokens[next] == .open {
                    expectRelation = false
                } else {
                    references.insert(name)
                    expectRelation = false
                    index = next - 1
                }
            default:
                if expectRelation { expectRelation = false }
            }
            index += 1
        }
        return references.subtracting(cteNames)
    }

    /// Whether the query selects `*` or `alias.*` anywhere (a select list PostgreSQL expands into
    /// the columns of the day, once, when the view is created); `count(*)` and `a * b` are not.
    public static func selectsStar(_ sql: String) -> Bool {
        let tokens = tokenize(sql)
        return tokens.indices.contains { index in
            guard tokens[index] == .star, index > 0 else { return false }
            switch tokens[index - 1] {
            case .comma, .dot: return true
            case .word(let word, quoted: false): return ["select", "distinct", "all"].contains(word)
            default: return false
            }
        }
    }

    enum Token: Equatable {
        case word(String, quoted: Bool)
        case open, close, comma, dot, star, other
    }

    /// Words, quoted identifiers and the punctuation that matters; strings, numbers and comments skipped.
    static func tokenize(_ sql: String) -> [Token] {
        let characters = Array(sql.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        func isWordStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isWordPart(_ c: Unicode.Scalar) -> Bool { isWordStart(c) || c == "$" || ("0"..."9").contains(c) }
        while index < characters.count {
            let c = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch c {
            case "-" where next == "-":
                while index < characters.count, characters[index] != "\n" { index += 1 }
            case "/" where next == "*":
                index += 2
                while index + 1 < characters.count, !(characters[index] == "*" && characters[index + 1] == "/") { index += 1 }
                index += 2
            case "'":
                index += 1
                while index < characters.count {
                    if characters[index] == "'" {
                        if index + 1 < characters.count, characters[index + 1] == "'" { index += 2; continue }
                        break
                    }
                    index += 1
                }
                index += 1
            case "\"":
                var name = ""
                index += 1
                while index < characters.count {
                    if characters[index] == "\"" {
                        if index + 1 < characters.count, characters[index + 1] == "\"" { name.unicodeScalars.append("\""); index += 2; continue }
                        break
                    }
                    name.unicodeScalars.append(characters[index])
                    index += 1
                }
                tokens.append(.word(name, quoted: true))
                index += 1
            case "$" where next.map { $0 == "$" || isWordStart($0) } ?? false:
                // A dollar-quoted string: $tag$ … $tag$.
                var end = index + 1
                while end < characters.count, characters[end] != "$" { end += 1 }
                let tag = Array(characters[index...min(end, characters.count - 1)])
                index = end + 1
                while index < characters.count, !(index + tag.count <= characters.count && Array(characters[index..<(index + tag.count)]) == tag) {
                    index += 1
                }
                index += tag.count
            case "(": tokens.append(.open); index += 1
            case ")": tokens.append(.close); index += 1
            case ",": tokens.append(.comma); index += 1
            case ".": tokens.append(.dot); index += 1
            case "*": tokens.append(.star); index += 1
            default:
                if isWordStart(c) {
                    var word = ""
                    while index < characters.count, isWordPart(characters[index]) {
                        word.unicodeScalars.append(characters[index])
                        index += 1
                    }
                    tokens.append(.word(word.lowercased(), quoted: false))
                } else if ("0"..."9").contains(c) {
                    while index < characters.count, isWordPart(characters[index]) || characters[index] == "." { index += 1 }
                    tokens.append(.other)
                } else {
                    if !c.properties.isWhitespace { tokens.append(.other) }
                    index += 1
                }
            }
        }
        return tokens
    }
}
