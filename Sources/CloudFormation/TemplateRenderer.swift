import SluiceCore

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

    public static func render(spec: Spec) throws -> String {
        let builder = builder(spec: spec)
        if !builder.duplicates.isEmpty {
            throw Failure(description: "\(spec.file): two names in the spec become the same CloudFormation logical ID (\(builder.duplicates.joined(separator: ", "))); "
                          + "names that differ only in punctuation or case must be renamed")
        }
        return try YAMLEmitter.emit(builder.template)
    }
}
