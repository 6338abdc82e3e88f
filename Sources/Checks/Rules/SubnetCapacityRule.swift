import SluiceCore

struct SubnetCapacityRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL207", name: "subnet-capacity", severity: .warning,
        summary: "A subnet has enough free addresses for what is placed in it.",
        explanation: """
            AWS keeps five addresses of every subnet. What the spec places in a subnet needs addresses: one per host, one per \
            interface endpoint and NAT gateway, one per database instance, and for a Lambda function, one per concurrent execution \
            it may spread onto the subnet when its reserved concurrency is set (ceil(reserved / subnets)), else one shared Hyperplane \
            network interface. A subnet without room makes functions fail to scale and deployments fail to place instances.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: small, cidr: ↓10.0.4.0/28, az: a, type: isolated }
                compute:
                  functions:
                    - { name: burst, subnets: [small], security_groups: [etl], reserved_concurrency: 24 }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: small, cidr: 10.0.4.0/28, az: a, type: isolated }
                compute:
                  functions:
                    - { name: burst, subnets: [small], security_groups: [etl], reserved_concurrency: 10 }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let spec = context.spec
        var need: [String: [(String, Int)]] = [:]
        for function in spec.compute.functions {
            let perSubnet = function.reservedConcurrency.map { ($0 + function.subnets.count - 1) / max(1, function.subnets.count) } ?? 1
            for subnet in function.subnets { need[subnet, default: []].append(("function '\(function.name)'", max(1, perSubnet))) }
        }
        for host in spec.compute.hosts { need[host.subnet, default: []].append(("host '\(host.name)'", 1)) }
        for nat in spec.network.natGateways { need[nat.subnet, default: []].append(("NAT gateway '\(nat.name)'", 1)) }
        for endpoint in spec.network.endpoints where endpoint.type == .interface {
            for subnet in endpoint.subnets { need[subnet, default: []].append(("endpoint '\(endpoint.name)'", 1)) }
        }
        if let warehouse = spec.warehouse {
            switch warehouse.engine {
            case .rds: for subnet in warehouse.subnets { need[subnet, default: []].append(("warehouse '\(warehouse.name)'", 1)) }
            case .aurora(_, let instances):
                for subnet in warehouse.subnets { need[subnet, default: []].append(("warehouse '\(warehouse.name)'", instances)) }
            case .ec2: break
            }
        }
        return spec.network.subnets.compactMap { subnet in
            let users = need[subnet.name] ?? []
            let total = users.reduce(0) { $0 + $1.1 }
            guard total > subnet.usableAddresses else { return nil }
            return finding(
                "subnet '\(subnet.name)' (\(subnet.cidr)) has \(subnet.usableAddresses) usable addresses but what is placed in it may need \(total)",
                at: subnet.cidrLocation, subject: "subnet:\(subnet.name)",
                evidence: users.map { "\($0.0): \($0.1)" } + ["AWS keeps 5 of \(subnet.cidr.addressCount) addresses"])
        }
    }
}
