/// `environments:` — one stack of the spec (dev, staging, prod) and the values it sets differently.
///
/// ```swift
/// Environment("dev") {
///     FunctionSettings("etl", memory: 512, logRetentionDays: 7)
///     PipelineSettings("clickstream", schedule: .off)
/// }
/// ```
public struct Environment: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, file: String = #filePath, line: Int = #line, column: Int = #column,
        @EnvironmentBuilder _ content: () -> [any EnvironmentPart] = { [] }
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        var environment = SpecNode.mapping(at, [("name", at.string(name))])
        environment.add(content().flatMap(\.contributions))
        contributions = [.append("environments", item: environment)]
    }
}

/// A function's values in one environment; those left out are the function's.
public struct FunctionSettings: EnvironmentPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, memory: Int? = nil, timeout: Int? = nil, reservedConcurrency: Int? = nil, logRetentionDays: Int? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "functions",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("memory", at.int(memory)), ("timeout", at.int(timeout)),
                        ("reserved_concurrency", at.int(reservedConcurrency)), ("log_retention_days", at.int(logRetentionDays)),
                    ]))
        ]
    }
}

/// A host's instance type in one environment (same architecture as the host's).
public struct HostSettings: EnvironmentPart {
    public let contributions: [Contribution]

    public init(_ name: String, instanceType: String? = nil, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append("hosts", item: .mapping(at, [("name", at.string(name)), ("instance_type", at.string(instanceType))]))
        ]
    }
}

/// The managed warehouse's instance class in one environment.
public struct WarehouseSettings: EnvironmentPart {
    public let contributions: [Contribution]

    public init(instanceClass: String? = nil, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [.set("warehouse", to: .mapping(at, [("instance_class", at.string(instanceClass))]))]
    }
}

/// A pipeline's schedule in one environment: another expression, or `.off`.
public struct PipelineSettings: EnvironmentPart {
    public let contributions: [Contribution]

    public init(_ name: String, schedule: Schedule? = nil, file: String = #filePath, line: Int = #line, column: Int = #column) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append("pipelines", item: .mapping(at, [("name", at.string(name)), ("schedule", at.string(schedule?.expression))]))
        ]
    }
}
