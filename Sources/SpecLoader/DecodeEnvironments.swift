import SluiceCore
import YAML

extension SpecDecoder {
    /// An environment changes values only; each is checked here against the part it changes, so a
    /// value no template could hold (a host moved to another architecture, a property the spec does
    /// not render) is refused where it is written.
    func decodeEnvironment(_ node: YAMLNode, compute: Compute, warehouse: Warehouse?, pipelines: [Pipeline]) -> DeploymentEnvironment? {
        guard let r = MapReader(node, SpecSchema.environment, sink: sink) else { return nil }
        let name = self.name(r, kind: "environment")
        if let name, name.value.contains("_") {
            // The environment names its stack, and stack names take letters, digits and hyphens only.
            sink.add(
                LoaderDiagnostics.invalid(
                    "environment name '\(name.value)' names a stack, and stack names take only letters, digits and '-'", at: name.location))
        }
        var named = Set<String>()
        func once(_ kind: String, _ item: MapReader) -> String? {
            guard let name = item.string("name", required: true) else { return nil }
            let location = item.location(of: "name")
            refer(kind, name, at: location)
            guard named.insert("\(kind) \(name)").inserted else {
                sink.add(LoaderDiagnostics.invalid("\(kind) '\(name)' is set twice in this environment", at: location))
                return nil
            }
            return name
        }

        let functions: [FunctionSettings] = r.list("functions").compactMap { node in
            guard let f = MapReader(node, SpecSchema.environmentFunction, sink: sink), let name = once("function", f) else { return nil }
            let concurrency = f.int("reserved_concurrency", in: 0...10000)
            if concurrency != nil, let base = compute.function(name), base.reservedConcurrency == nil {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "function '\(name)' declares no reserved_concurrency, so an environment cannot change it (an environment changes values, not which properties exist); declare one on the function",
                        at: f.location(of: "reserved_concurrency")))
            }
            return FunctionSettings(
                name: name, memoryMB: f.int("memory", in: 128...10240), timeoutSeconds: f.int("timeout", in: 1...900),
                reservedConcurrency: concurrency, logRetentionDays: logRetentionDays(f))
        }

        let hosts: [HostSettings] = r.list("hosts").compactMap { node in
            guard let h = MapReader(node, SpecSchema.environmentHost, sink: sink), let name = once("host", h) else { return nil }
            let instanceType = self.instanceType(h)
            if let instanceType, let base = compute.host(name), Host.isGraviton(instanceType) != Host.isGraviton(base.instanceType) {
                let architecture = { Host.isGraviton($0) ? "arm64" : "x86_64" }
                sink.add(
                    LoaderDiagnostics.invalid(
                        "'\(instanceType)' is \(architecture(instanceType)) but host '\(name)' is \(base.instanceType), \(architecture(base.instanceType)); an environment may change a host's size, not the architecture its image is built for",
                        at: h.location(of: "instance_type")))
            }
            return HostSettings(name: name, instanceType: instanceType)
        }

        var instanceClass: String?
        if let node = r.value("warehouse"), let w = MapReader(node, SpecSchema.environmentWarehouse, sink: sink) {
            instanceClass = w.string("instance_class")
            if instanceClass != nil {
                switch warehouse?.engine {
                case .rds?, .aurora?: break
                case .ec2(let host)?:
                    sink.add(
                        LoaderDiagnostics.invalid(
                            "the warehouse runs on host '\(host)': set that host's instance_type in the environment's hosts instead",
                            at: w.location(of: "instance_class")))
                    instanceClass = nil
                case nil:
                    sink.add(LoaderDiagnostics.invalid("the spec declares no warehouse", at: w.location(of: "instance_class")))
                    instanceClass = nil
                }
            }
        }

        let pipelineSettings: [PipelineSettings] = r.list("pipelines").compactMap { node in
            guard let p = MapReader(node, SpecSchema.environmentPipeline, sink: sink), let name = once("pipeline", p) else { return nil }
            guard let text = p.string("schedule") else { return PipelineSettings(name: name) }
            let location = p.location(of: "schedule")
            if let base = pipelines.first(where: { $0.name == name }) {
                if base.schedule == nil {
                    sink.add(
                        LoaderDiagnostics.invalid(
                            "pipeline '\(name)' has no schedule to change; give it one in the spec and switch it off where it should not run",
                            at: location))
                    return nil
                }
                if compute.function(base.workload) == nil {
                    sink.add(
                        LoaderDiagnostics.invalid(
                            "pipeline '\(name)' runs on host '\(base.workload)'; only a function's schedule is an EventBridge rule an environment can change",
                            at: location))
                    return nil
                }
            }
            let setting: ScheduleSetting = text == "off" ? .off : .expression(Schedule(expression: text, location: location))
            return PipelineSettings(name: name, schedule: setting)
        }

        guard let name else { return nil }
        return DeploymentEnvironment(
            name: name.value, functions: functions, hosts: hosts, warehouseInstanceClass: instanceClass, pipelines: pipelineSettings,
            location: r.location)
    }
}
