import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A small XML document as a tree of local names, attributes and text: an AWS answer (the Query
/// protocol of CloudFormation and STS, EC2's protocol), or an xlsx workbook's directory and styles.
/// These are a few kilobytes, so one tree per document is simpler than a delegate per shape;
/// Foundation's XMLParser reads it (already linked for S3's listings).
public struct XMLTree: Sendable, Equatable {
    public var name: String
    public var text: String
    public var children: [XMLTree]
    /// As written, prefixes kept (`r:id`).
    public var attributes: [String: String]

    public init(name: String, text: String = "", children: [XMLTree] = [], attributes: [String: String] = [:]) {
        self.name = name
        self.text = text
        self.children = children
        self.attributes = attributes
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// The text at a path of child names, `tree["Stacks", "member", "StackStatus"]`; nil when absent.
    public subscript(path: String...) -> String? { descend(path)?.text }

    /// The node at a path of child names.
    public func descend(_ path: [String]) -> XMLTree? {
        var node = self
        for name in path {
            guard let next = node.child(name) else { return nil }
            node = next
        }
        return node
    }

    /// The items of a list: a Query list's `member`s or EC2's `item`s under `path`.
    public func list(_ path: String...) -> [XMLTree] {
        guard let node = descend(path) else { return [] }
        return node.children.filter { $0.name == "member" || $0.name == "item" }
    }

    /// The first node named `name` at any depth (an error's `Code`, wherever the protocol nests it).
    public func first(_ name: String) -> XMLTree? {
        if self.name == name { return self }
        for child in children { if let found = child.first(name) { return found } }
        return nil
    }

    /// Every descendant named `name`, in document order.
    public func all(_ name: String) -> [XMLTree] {
        children.flatMap { child in (child.name == name ? [child] : []) + child.all(name) }
    }

    /// Nil when `bytes` is not well-formed XML.
    public static func parse(_ bytes: [UInt8]) -> XMLTree? {
        let builder = Builder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        guard parser.parse(), let root = builder.stack.first?.children.first else { return nil }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack = [XMLTree(name: "")]

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
        ) {
            // Local names: the answers use default namespaces only.
            stack.append(XMLTree(name: name.split(separator: ":").last.map(String.init) ?? name, attributes: attributes))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { stack[stack.count - 1].text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            var node = stack.removeLast()
            if !node.children.isEmpty { node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            stack[stack.count - 1].children.append(node)
        }
    }
}
