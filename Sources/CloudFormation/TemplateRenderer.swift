import SluiceCore
import YAML

/// `generated/<spec>/cloudformation.yaml`: every resource the spec describes, in one template.
public enum TemplateRenderer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The template, with each environment's values where the spec declares environments.
    public static func template(spec: Spec) throws -> TemplateValue {
        try EnvironmentValues.merge(spec: spec) { builder(spec: $0).template }
    }

    static func builder(spec: Spec) -> TemplateBuilder {
        let builder = TemplateBuilder(spec: spec)
        let policies = PolicyRenderer(spec: spec)
        KeyRenderer.render(into: builder)
        NetworkRenderer.render(into: builder, policies: policies)
        StorageRenderer.render(into: builder, policies: policies)
        MessagingRenderer.render(into: builder, policies: policies)
        IdentityRenderer.render(into: builder, policies: policies)
        ComputeRenderer.render(into: builder)
        WarehouseRenderer.render(into: builder)
        ScannerSuppressions.apply(to: builder)
        return builder
    }

    public static func render(spec: Spec) throws -> String { try rendered(spec: spec).text }

    /// The template as a tree (what `sluice plan` diffs) and as the YAML written to generated/.
    public static func rendered(spec: Spec) throws -> (template: TemplateValue, text: String) {
        let builder = builder(spec: spec)
        if !builder.duplicates.isEmpty {
            throw Failure(
                description:
                    "\(spec.file): two names in the spec become the same CloudFormation logical ID (\(builder.duplicates.joined(separator: ", "))); "
                    + "names that differ only in punctuation or case must be renamed")
        }
        let template = spec.environments.isEmpty ? builder.template : try Self.template(spec: spec)
        // Multi-line strings (a host's user data) as `|` blocks, readable in review.
        return (template, try YAMLEmitter.emit(template, literalBlocks: true))
    }

    /// The parameter a stack of a spec with environments is created with: the environment's name.
    public static let environmentParameter = EnvironmentValues.parameter

    /// The template as one environment's stack sees it: each `Fn::FindInMap` on the environment
    /// replaced by that environment's value from the template's own mapping. Unchanged without one.
    public static func resolving(_ template: TemplateValue, environment: String?) -> TemplateValue {
        guard let environment, case .map(let values)? = template["Mappings"]?[EnvironmentValues.mapping]?[environment] else { return template }
        func resolve(_ value: TemplateValue) -> TemplateValue {
            switch value {
            case .map(let entries):
                if entries.count == 1, entries[0].0 == "Fn::FindInMap", case .list(let arguments) = entries[0].1, arguments.count == 3,
                    arguments[0] == .string(EnvironmentValues.mapping), arguments[1] == .ref(EnvironmentValues.parameter),
                    case .string(let key) = arguments[2], let found = values.first(where: { $0.0 == key })
                {
                    return found.1
                }
                return .map(entries.map { ($0.0, resolve($0.1)) })
            case .list(let items): return .list(items.map(resolve))
            default: return value
            }
        }
        return resolve(template)
    }

    /// How many resources a template holds (CloudFormation takes at most 500 per stack).
    public static func resourceCount(_ template: TemplateValue) -> Int {
        guard case .map(let resources)? = template["Resources"] else { return 0 }
        return resources.count
    }
}
