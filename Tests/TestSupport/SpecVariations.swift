import SluiceCore
import SpecLoader
import YAML

/// Specs changed key by key along the schema: the tests that hold the decoder, the docs and the Swift
/// export to `SpecSchema` make their cases with these.
public enum SpecVariations {
    /// The tree with the pair whose key is written at `location` changed by `change` (nil removes it).
    /// Every copy changes when an alias repeats the pair.
    public static func changing(keyAt location: SourceLocation, in node: YAMLNode, _ change: (YAMLNode) -> YAMLNode?) -> YAMLNode {
        var node = node
        switch node.kind {
        case .scalar: return node
        case .sequence(let items):
            node.kind = .sequence(items.map { changing(keyAt: location, in: $0, change) })
        case .mapping(let pairs):
            node.kind = .mapping(
                pairs.compactMap { pair in
                    if pair.key.location == location { return change(pair.value).map { (pair.key, $0) } }
                    return (pair.key, changing(keyAt: location, in: pair.value, change))
                })
        }
        return node
    }

    /// A plain scalar written where `near` was.
    public static func scalar(_ text: String, near: YAMLNode) -> YAMLNode {
        YAMLNode(kind: .scalar(text, plain: true), location: near.location, expandedSize: 1)
    }

    /// A list of plain scalars written where `near` was.
    public static func list(_ texts: [String], near: YAMLNode) -> YAMLNode {
        YAMLNode(kind: .sequence(texts.map { scalar($0, near: near) }), location: near.location, expandedSize: texts.count + 1)
    }

    /// A variation of a spec that loaded: each key, with probability `rate`, takes another of the words
    /// its schema key allows, or (a scalar) is left out when the schema gives it a default. Whether the result
    /// still loads is for the caller to see: a default can make another key meaningless.
    public static func random(
        _ root: YAMLNode, occurrences: [KeyOccurrence], rate: Double, using generator: inout SplitMix64
    ) -> YAMLNode {
        var root = root
        for occurrence in occurrences where Double.random(in: 0..<1, using: &generator) < rate {
            let key = occurrence.section[occurrence.key]
            if !key.allowed.isEmpty, let word = key.allowed.randomElement(using: &generator) {
                root = changing(keyAt: occurrence.location, in: root) { value in
                    value.sequence != nil ? list([word], near: value) : scalar(word, near: value)
                }
            } else if case .defaults = key.absence {
                // Only scalars: leaving out a list or a section mostly leaves references dangling.
                root = changing(keyAt: occurrence.location, in: root) { value in value.scalar != nil ? nil : value }
            }
        }
        return root
    }
}
