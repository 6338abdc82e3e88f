import SluiceCore

/// `generated/<spec>/cloudformation.yaml`: every resource the spec describes, in one template.
public enum TemplateRenderer {
    public static func template(spec: Spec) -> TemplateValue {
        let builder = TemplateBuilder(spec: spec)
        let policies = PolicyRenderer(spec: spec)
        NetworkRenderer.render(into: builder, policies: policies)
        StorageRenderer.render(into: builder, policies: policies)
        MessagingRenderer.render(into: builder, policies: policies)
        IdentityRenderer.render(into: builder, policies: policies)
        ComputeRenderer.render(into: builder)
        WarehouseRenderer.render(into: builder)
        return builder.template
    }

    public static func render(spec: Spec) throws -> String {
        try YAMLEmitter.emit(template(spec: spec))
    }
}
