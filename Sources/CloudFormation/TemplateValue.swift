import YAML

/// A CloudFormation template as a tree: what the renderers build and the emitter writes.
public typealias TemplateValue = YAMLValue

extension YAMLValue {
    // Intrinsic functions, always in their long form (`Ref:`, `Fn::GetAtt:`): short-form tags
    // (`!Ref`) are YAML-only and trip up generic YAML tooling.
    public static func ref(_ logicalID: String) -> TemplateValue { .map([("Ref", .string(logicalID))]) }
    public static func getAtt(_ logicalID: String, _ attribute: String) -> TemplateValue {
        .map([("Fn::GetAtt", .list([.string(logicalID), .string(attribute)]))])
    }
    public static func sub(_ template: String) -> TemplateValue { .map([("Fn::Sub", .string(template))]) }
    public static func select(_ index: Int, _ list: TemplateValue) -> TemplateValue {
        .map([("Fn::Select", .list([.int(index), list]))])
    }
}
