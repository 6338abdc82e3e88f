import SluiceCore

/// One template for every environment of a spec. Each environment's template is rendered; where
/// their values differ, the value becomes `Fn::FindInMap` on the `Environment` parameter, and the
/// values go into one mapping. Review reads one template with every environment's values side by
/// side, and each stack is created with its environment's name.
enum EnvironmentValues {
    static let parameter = "Environment"
    static let mapping = "EnvironmentValues"

    static func merge(spec: Spec, render: (Spec) -> TemplateValue) throws -> TemplateValue {
        guard !spec.environments.isEmpty else { return render(spec) }
        let templates = spec.environments.map { render(spec.applying($0)) }
        var merger = Merger(environments: spec.environments.map(\.name))
        guard case .map(var entries) = try merger.merge(templates, at: []) else { return render(spec) }

        let names = spec.environments.map(\.name)
        let declaration: TemplateValue = .map([
            ("Type", "String"),
            ("Description", .string("The environment this stack is: \(names.joined(separator: ", ")).")),
            ("AllowedValues", .list(names.map(TemplateValue.string))),
        ])
        if let index = entries.firstIndex(where: { $0.0 == "Parameters" }), case .map(let parameters) = entries[index].1 {
            entries[index].1 = .map([(parameter, declaration)] + parameters)
        } else {
            let afterDescription = (entries.firstIndex { $0.0 == "Description" } ?? 0) + 1
            entries.insert(("Parameters", .map([(parameter, declaration)])), at: afterDescription)
        }
        if !merger.values.isEmpty {
            let table: TemplateValue = .map(
                names.enumerated().map { index, environment in
                    (environment, .map(merger.values.map { ($0.key, $0.perEnvironment[index]) }))
                })
            let resources = entries.firstIndex { $0.0 == "Resources" } ?? entries.endIndex
            entries.insert(("Mappings", .map([(mapping, table)])), at: resources)
        }
        let output: (String, TemplateValue) = (
            parameter, .map([("Description", "The environment this stack was deployed as."), ("Value", .ref(parameter))])
        )
        if let index = entries.firstIndex(where: { $0.0 == "Outputs" }), case .map(let outputs) = entries[index].1 {
            entries[index].1 = .map(outputs + [output])
        } else {
            entries.append(("Outputs", .map([output])))
        }
        return .map(entries)
    }

    /// Walks the environments' templates together. They have one shape (an environment changes
    /// values, never which resources or properties exist: the loader refuses the rest), so any
    /// difference is a literal at the same path.
    struct Merger {
        let environments: [String]
        private(set) var values: [(key: String, perEnvironment: [TemplateValue])] = []

        init(environments: [String]) { self.environments = environments }

        mutating func merge(_ nodes: [TemplateValue], at path: [String]) throws -> TemplateValue {
            let first = nodes[0]
            if nodes.allSatisfy({ $0 == first }) { return first }
            switch first {
            case .map(let entries):
                var merged: [(String, TemplateValue)] = []
                for (index, entry) in entries.enumerated() {
                    let children = try nodes.map { node -> TemplateValue in
                        guard case .map(let others) = node, others.count == entries.count, others[index].0 == entry.0 else {
                            throw shapeChanged(path + [entry.0])
                        }
                        return others[index].1
                    }
                    merged.append((entry.0, try merge(children, at: path + [entry.0])))
                }
                return .map(merged)
            case .list(let items):
                var merged: [TemplateValue] = []
                for index in items.indices {
                    let children = try nodes.map { node -> TemplateValue in
                        guard case .list(let others) = node, others.count == items.count else { throw shapeChanged(path + ["\(index)"]) }
                        return others[index]
                    }
                    merged.append(try merge(children, at: path + ["\(index)"]))
                }
                return .list(merged)
            case .string, .int, .bool:
                // A mapping holds literals; a value inside an intrinsic function (a Sub's text) cannot vary.
                guard path.first == "Resources", !path.contains(where: { $0.hasPrefix("Fn::") || $0 == "Ref" }),
                    nodes.allSatisfy({ if case .map = $0 { false } else if case .list = $0 { false } else { true } })
                else { throw shapeChanged(path) }
                let key = uniqueKey(for: path)
                values.append((key, nodes))
                return .map([("Fn::FindInMap", .list([.string(EnvironmentValues.mapping), .ref(EnvironmentValues.parameter), .string(key)]))])
            }
        }

        /// `FunctionEtlMemorySize` for `Resources.FunctionEtl.Properties.MemorySize`: the mapping's
        /// second-level keys must be alphanumeric.
        private func uniqueKey(for path: [String]) -> String {
            let parts = path.dropFirst().filter { $0 != "Properties" }
            let base = parts.map { $0.filter { $0.isASCII && ($0.isLetter || $0.isNumber) } }.joined()
            var key = base, suffix = 2
            while values.contains(where: { $0.key == key }) {
                key = "\(base)\(suffix)"
                suffix += 1
            }
            return key
        }

        private func shapeChanged(_ path: [String]) -> TemplateRenderer.Failure {
            TemplateRenderer.Failure(
                description:
                    "the environments (\(environments.joined(separator: ", "))) render different template shapes at \(path.joined(separator: ".")); an environment may change values only"
            )
        }
    }
}
