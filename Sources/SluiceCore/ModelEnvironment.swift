// MARK: - Environments

/// One stack of the spec (dev, staging, prod): the values it sets differently from the spec. An
/// environment changes values only — sizes, retention, whether a schedule runs — never which
/// resources exist or how they connect, so one template serves every environment and the network
/// and policy proofs made for the spec hold in each.
public struct DeploymentEnvironment: Named {
    public var name: String
    public var functions: [FunctionSettings]
    public var hosts: [HostSettings]
    /// The managed warehouse's instance class (rds and aurora).
    public var warehouseInstanceClass: String?
    public var pipelines: [PipelineSettings]
    public var location: SourceLocation

    public init(
        name: String, functions: [FunctionSettings] = [], hosts: [HostSettings] = [], warehouseInstanceClass: String? = nil,
        pipelines: [PipelineSettings] = [], location: SourceLocation = .unknown
    ) {
        self.name = name
        self.functions = functions
        self.hosts = hosts
        self.warehouseInstanceClass = warehouseInstanceClass
        self.pipelines = pipelines
        self.location = location
    }
}

public struct FunctionSettings: Sendable {
    public var name: String
    public var memoryMB: Int?
    public var timeoutSeconds: Int?
    public var reservedConcurrency: Int?
    public var logRetentionDays: Int?
    public init(name: String, memoryMB: Int? = nil, timeoutSeconds: Int? = nil, reservedConcurrency: Int? = nil, logRetentionDays: Int? = nil) {
        self.name = name
        self.memoryMB = memoryMB
        self.timeoutSeconds = timeoutSeconds
        self.reservedConcurrency = reservedConcurrency
        self.logRetentionDays = logRetentionDays
    }
}

public struct HostSettings: Sendable {
    public var name: String
    public var instanceType: String?
    public init(name: String, instanceType: String? = nil) {
        self.name = name
        self.instanceType = instanceType
    }
}

public struct PipelineSettings: Sendable {
    public var name: String
    /// A different expression, or `off` (the rule stays, disabled, so switching it on is an update).
    public var schedule: ScheduleSetting?
    public init(name: String, schedule: ScheduleSetting? = nil) {
        self.name = name
        self.schedule = schedule
    }
}

public enum ScheduleSetting: Hashable, Sendable {
    case off
    case expression(Schedule)
}

extension Spec {
    public func environment(_ name: String) -> DeploymentEnvironment? { environments.first { $0.name == name } }

    /// The spec as it deploys in one environment: its values in place of the spec's.
    public func applying(_ environment: DeploymentEnvironment) -> Spec {
        var spec = self
        for settings in environment.functions {
            guard let index = spec.compute.functions.firstIndex(where: { $0.name == settings.name }) else { continue }
            if let value = settings.memoryMB { spec.compute.functions[index].memoryMB = value }
            if let value = settings.timeoutSeconds { spec.compute.functions[index].timeoutSeconds = value }
            if let value = settings.reservedConcurrency { spec.compute.functions[index].reservedConcurrency = value }
            if let value = settings.logRetentionDays { spec.compute.functions[index].logRetentionDays = value }
        }
        for settings in environment.hosts {
            guard let index = spec.compute.hosts.firstIndex(where: { $0.name == settings.name }) else { continue }
            if let value = settings.instanceType { spec.compute.hosts[index].instanceType = value }
        }
        if let instanceClass = environment.warehouseInstanceClass, let engine = spec.warehouse?.engine {
            switch engine {
            case .ec2: break
            case .rds: spec.warehouse?.engine = .rds(instanceClass: instanceClass)
            case .aurora(_, let instances): spec.warehouse?.engine = .aurora(instanceClass: instanceClass, instances: instances)
            }
        }
        for settings in environment.pipelines {
            guard let index = spec.pipelines.firstIndex(where: { $0.name == settings.name }), let base = spec.pipelines[index].schedule
            else { continue }
            switch settings.schedule {
            case .off?: spec.pipelines[index].schedule = Schedule(expression: base.expression, enabled: false, location: base.location)
            case .expression(let schedule)?: spec.pipelines[index].schedule = schedule
            case nil: break
            }
        }
        spec.environments = []
        return spec
    }
}
