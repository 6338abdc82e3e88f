/// Collects the declarations inside a `{ … }` block. `if`, `if let`, `switch` and `for` work, so a
/// spec can compute its subnets or tables; a function returning `[Part]` can be used as one line.
@resultBuilder
public enum PartsBuilder<Part> {
    public static func buildExpression(_ part: Part) -> [Part] { [part] }
    public static func buildExpression(_ parts: [Part]) -> [Part] { parts }
    public static func buildBlock(_ parts: [Part]...) -> [Part] { parts.flatMap { $0 } }
    public static func buildOptional(_ parts: [Part]?) -> [Part] { parts ?? [] }
    public static func buildEither(first parts: [Part]) -> [Part] { parts }
    public static func buildEither(second parts: [Part]) -> [Part] { parts }
    public static func buildArray(_ parts: [[Part]]) -> [Part] { parts.flatMap { $0 } }
    public static func buildLimitedAvailability(_ parts: [Part]) -> [Part] { parts }
}

/// A declaration at the top of a spec: `Project`, `VPC`, a bucket, a function, the warehouse, a pipeline…
public protocol SpecPart: Sendable { var contributions: [Contribution] { get } }
/// A declaration inside `VPC { … }`: subnets, gateways, route tables, endpoints, security groups, ACLs.
public protocol NetworkPart: Sendable { var contributions: [Contribution] { get } }
/// A declaration inside `Warehouse { … }`: tables, views, materialized views, database roles.
public protocol WarehousePart: Sendable { var contributions: [Contribution] { get } }
/// A declaration inside `Table { … }`: columns, keys, checks, indexes.
public protocol TablePart: Sendable { var contributions: [Contribution] { get } }
/// A declaration inside `Pipeline { … }`: source, field rules, derived fields, filters, targets, steps.
public protocol PipelinePart: Sendable { var contributions: [Contribution] { get } }

/// A declaration inside `Environment { … }`: the values one environment sets differently.
public protocol EnvironmentPart: Sendable { var contributions: [Contribution] { get } }

public typealias SpecBuilder = PartsBuilder<any SpecPart>
public typealias NetworkBuilder = PartsBuilder<any NetworkPart>
public typealias WarehouseBuilder = PartsBuilder<any WarehousePart>
public typealias TableBuilder = PartsBuilder<any TablePart>
public typealias PipelineBuilder = PartsBuilder<any PipelinePart>
public typealias EnvironmentBuilder = PartsBuilder<any EnvironmentPart>
