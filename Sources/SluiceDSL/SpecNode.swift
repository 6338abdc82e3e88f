// The one thing a Swift spec produces: the same tree of mappings, lists and scalars a YAML spec
// is read into, each node with the file, line and column of the declaration that wrote it.
// Sluice decodes this tree with the YAML loader's own decoder, so both forms mean exactly the same.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a declaration was written: `#filePath`, `#line`, `#column` of its initializer's call.
struct DeclarationSite: Sendable, Hashable {
    let file: String
    let line: Int
    let column: Int

    init(file: String = #filePath, line: Int = #line, column: Int = #column) {
        self.file = file
        self.line = line
        self.column = column
    }
}

/// A node of the spec tree. Strings from Swift are quoted scalars (never null, never a number);
/// numbers and booleans are plain ones, as YAML would read them.
struct SpecNode: Sendable {
    enum Kind: Sendable {
        case scalar(String, plain: Bool)
        case list([SpecNode])
        case mapping([(key: String, value: SpecNode)])
    }

    var kind: Kind
    let site: DeclarationSite

    static func string(_ text: String, at site: DeclarationSite) -> SpecNode { SpecNode(kind: .scalar(text, plain: false), site: site) }
    static func plain(_ text: String, at site: DeclarationSite) -> SpecNode { SpecNode(kind: .scalar(text, plain: true), site: site) }
    static func list(_ items: [SpecNode], at site: DeclarationSite) -> SpecNode { SpecNode(kind: .list(items), site: site) }
    static func strings(_ items: [String], at site: DeclarationSite) -> SpecNode { .list(items.map { .string($0, at: site) }, at: site) }
    static func mapping(_ site: DeclarationSite) -> SpecNode { SpecNode(kind: .mapping([]), site: site) }
}

/// What one declaration adds to the mapping it is written in (opaque: a part made of other parts
/// forwards their contributions): a value under a key path, or an item
/// appended to the list under it (`Subnet` adds to `subnets`, `Ingress` to `ingress`).
public struct Contribution: Sendable {
    let path: [String]
    let node: SpecNode
    let appends: Bool

    static func set(_ path: String..., to node: SpecNode) -> Contribution { Contribution(path: path, node: node, appends: false) }
    static func append(_ path: String..., item node: SpecNode) -> Contribution { Contribution(path: path, node: node, appends: true) }
}

extension SpecNode {
    /// Adds a contribution. A key set twice is kept twice, so Sluice reports the duplicate at both sites.
    mutating func add(_ contribution: Contribution) {
        add(path: contribution.path[...], node: contribution.node, appends: contribution.appends)
    }

    mutating func add(_ contributions: [Contribution]) { contributions.forEach { add($0) } }

    private mutating func add(path: ArraySlice<String>, node: SpecNode, appends: Bool) {
        guard case .mapping(var pairs) = kind, let key = path.first else { return }
        let rest = path.dropFirst()
        let index = pairs.lastIndex { $0.key == key }
        if rest.isEmpty && !appends {
            pairs.append((key, node))
        } else if let index, rest.isEmpty, case .list(var items) = pairs[index].value.kind {
            items.append(node)
            pairs[index].value.kind = .list(items)
        } else if rest.isEmpty {
            pairs.append((key, .list([node], at: node.site)))
        } else if let index, case .mapping = pairs[index].value.kind {
            pairs[index].value.add(path: rest, node: node, appends: appends)
        } else {
            var child = SpecNode.mapping(node.site)
            child.add(path: rest, node: node, appends: appends)
            pairs.append((key, child))
        }
        kind = .mapping(pairs)
    }

    /// A mapping from optional key-value pairs; nil values are left out, so the loader's default applies.
    static func mapping(_ site: DeclarationSite, _ pairs: [(String, SpecNode?)]) -> SpecNode {
        SpecNode(kind: .mapping(pairs.compactMap { key, value in value.map { (key, $0) } }), site: site)
    }
}

// MARK: Values to nodes

extension DeclarationSite {
    func string(_ text: String?) -> SpecNode? { text.map { .string($0, at: self) } }
    func int(_ number: Int?) -> SpecNode? { number.map { .plain(String($0), at: self) } }
    func bool(_ flag: Bool?) -> SpecNode? { flag.map { .plain($0 ? "true" : "false", at: self) } }
    func strings(_ items: [String]?) -> SpecNode? { items.map { .strings($0, at: self) } }
    /// Lists the loader reads as "absent" when empty are left out when empty.
    func nonEmpty(_ items: [String]) -> SpecNode? { items.isEmpty ? nil : .strings(items, at: self) }
    func word<W: RawRepresentable>(_ word: W?) -> SpecNode? where W.RawValue == String { word.map { .string($0.rawValue, at: self) } }
    func words<W: RawRepresentable>(_ words: [W]?) -> SpecNode? where W.RawValue == String { words.map { .strings($0.map(\.rawValue), at: self) } }
    /// A string-to-string mapping, in key order (the loader sorts them anyway).
    func stringMap(_ map: [String: String]?) -> SpecNode? {
        guard let map else { return nil }
        return SpecNode(kind: .mapping(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value, at: self)) }), site: self)
    }
}

// MARK: The wire format sluice reads

extension SpecNode {
    /// JSON: `{"s": text, "p": plain}`, `{"l": [...]}` or `{"m": [[key, node], ...]}`, each with `"at": [file, line, column]`,
    /// files numbered in `files`. Written by hand so the library needs nothing but the standard library.
    func json(files: inout [String: Int], order: inout [String]) -> String {
        let fileIndex: Int
        if let known = files[site.file] {
            fileIndex = known
        } else {
            fileIndex = order.count
            files[site.file] = fileIndex
            order.append(site.file)
        }
        let at = "\"at\":[\(fileIndex),\(site.line),\(site.column)]"
        switch kind {
        case .scalar(let text, let plain):
            return "{\"s\":\(Self.quoted(text)),\"p\":\(plain),\(at)}"
        case .list(let items):
            return "{\"l\":[\(items.map { $0.json(files: &files, order: &order) }.joined(separator: ","))],\(at)}"
        case .mapping(let pairs):
            let body = pairs.map { "[\(Self.quoted($0.key)),\($0.value.json(files: &files, order: &order))]" }.joined(separator: ",")
            return "{\"m\":[\(body)],\(at)}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
