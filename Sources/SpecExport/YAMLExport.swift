import SpecLoader
import YAML

/// A spec tree (from a Swift spec) written as a YAML spec. Plain scalars stay plain (`port: 5432`);
/// strings are quoted only where a YAML reader would take them for something else; SQL stays a `|` block.
public enum YAMLExport {
    public static func render(_ root: YAMLNode, source: String) throws -> String {
        let header = "# Exported by `sluice export --yaml` from \(source). Both forms give the same model and the same generated/ output.\n"
        return header + (try YAMLEmitter.emit(value(root), literalBlocks: true))
    }

    static func value(_ node: YAMLNode) -> YAMLValue {
        switch node.kind {
        case .scalar(let text, let plain):
            if plain, let number = Int(text), String(number) == text { return .int(number) }
            if plain, text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        case .sequence(let items): return .list(items.map(value))
        case .mapping(let pairs): return .map(pairs.map { ($0.key.scalar ?? "", value($0.value)) })
        }
    }
}
