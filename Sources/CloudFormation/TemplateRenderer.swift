import SluiceCore
import YAML

/// `generated/<spec>/cloudformation.yaml`: every resource the spec describes, in one template.
public enum TemplateRenderer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func template(spec: Spec) -> TemplateValue { builder(spec: spec).template }

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
        let template = builder.template
        // Multi-line strings (a host's user data) as `|` blocks, readable in review.
        return (template, try YAMLEmitter.emit(template, literalBlocks: true))
    }

    /// How many resources a template holds (CloudFormation takes at most 500 per stack).
    public static func resourceCount(_ template: TemplateValue) -> Int {
        guard case .map(let resources)? = template["Resources"] else { return 0 }
        return resources.count
    }
}
