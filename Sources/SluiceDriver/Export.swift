import SpecExport

/// `sluice export`: a spec's tree written in the other spec language.
public enum SpecTranslation {
    public enum Language: Sendable { case swift, yaml }

    /// The compilation's tree (the one its clean model was decoded from) as `language`; nil when the
    /// spec did not load.
    public static func render(_ compilation: Compilation, as language: Language, source name: String) throws -> String? {
        guard let root = compilation.root else { return nil }
        switch language {
        case .swift: return try SwiftExport.render(root, source: name)
        case .yaml: return try YAMLExport.render(root, source: name)
        }
    }
}
