import SluiceCore

struct WarehouseClientsOnlyRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL214", name: "warehouse-clients-only", severity: .error,
        summary: "Only the security groups named as warehouse clients can reach the database port.",
        explanation: """
            The warehouse lists its clients. Every other function, host and database interface of the spec is tested: if some \
            address of it could connect to the database port (routes, network ACLs and security groups, including CIDR rules that \
            cover its subnet), that is a path nobody declared. So is an ingress rule of the warehouse's groups that names a \
            security group outside 'clients', whether or not anything in the spec wears it, and a CIDR rule covering addresses of \
            the VPC beyond the clients' subnets: it admits every interface there, including ones Sluice does not see (the VPC's \
            default security group, interfaces added by hand). Admit clients by security group, not by CIDR, or add the group to \
            'clients' if the access is intended.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: vpc-wide
                      ingress:
                        - ↓{ port: 5432, cidr: 10.0.0.0/16 }
                      egress: []
                warehouse:
                  name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: rds
                  subnets: [etl-a, etl-b]
                  security_groups: [dw, vpc-wide]
                """, base: .network),
            RuleExample(
                """
                network:
                  security_groups:
                    - name: side-door
                      ingress:
                        - ↓{ port: 5432, security_group: endpoints }
                      egress: []
                warehouse:
                  name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: rds
                  subnets: [etl-a, etl-b]
                  security_groups: [dw, side-door]
                """, base: .network),
        ],
        nonTriggering: [
            RuleExample(
                """
                warehouse:
                  name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: rds
                  subnets: [etl-a, etl-b]
                  security_groups: [dw]
                """, base: .network)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        let targets = context.reachability.placements(ofWarehouse: warehouse)
        let hostName: String? = { if case .ec2(let host) = warehouse.engine { return host } else { return nil } }()
        var findings: [Diagnostic] = []
        // A rule naming a non-client group is an undeclared path even if nothing in the spec wears that group
        // (a load balancer or bastion managed elsewhere would).
        for groupName in warehouse.securityGroups {
            guard let group = context.spec.network.securityGroup(groupName) else { continue }
            for rule in group.ingress where rule.proto.matches(.tcp) && rule.ports.contains(port: warehouse.port) {
                guard case .securityGroup(let peer) = rule.peer, !warehouse.clients.contains(peer), !warehouse.securityGroups.contains(peer)
                else { continue }
                findings.append(
                    finding(
                        "security group '\(groupName)' admits security group '\(peer)' on port \(warehouse.port), which is not a declared client of warehouse '\(warehouse.name)'",
                        at: rule.location, subject: "warehouse:\(warehouse.name)",
                        evidence: [
                            "security group '\(groupName)' ingress \(rule.ports) from security group '\(peer)'",
                            "clients: \(warehouse.clients.joined(separator: ", "))",
                        ]))
            }
        }
        // A CIDR rule admits every network interface in its block, ones Sluice does not see among them
        // (anything on the VPC's default security group, an interface added by hand): beyond the
        // clients' own subnets it is a path nobody declared.
        let vpc = AddressSet(context.spec.network.vpc.cidr)
        let clientSubnets = context.reachability.allPlacements().filter { $0.securityGroups.contains(where: warehouse.clients.contains) }
            .reduce(AddressSet(.v4)) { $0.union(AddressSet($1.subnet.cidr)) }
        for groupName in warehouse.securityGroups {
            guard let group = context.spec.network.securityGroup(groupName) else { continue }
            for rule in group.ingress where rule.proto.matches(.tcp) && rule.proto.effectivePorts(rule.ports).contains(warehouse.port) {
                guard case .cidr(let block) = rule.peer, block.family == .v4 else { continue }
                let beyond = AddressSet(block).intersection(vpc).subtracting(clientSubnets)
                guard !beyond.isEmpty else { continue }
                let where_ = beyond.blocks.count == 1 ? "\(beyond)" : "it outside the clients' subnets"
                findings.append(
                    finding(
                        "security group '\(groupName)' admits \(block) on port \(warehouse.port): every network interface in \(where_) can connect, those on the VPC's default security group among them; admit the clients by security group",
                        at: rule.location, subject: "warehouse:\(warehouse.name)",
                        evidence: [
                            "security group '\(groupName)' ingress \(rule.ports) from \(block)",
                            "clients: \(warehouse.clients.joined(separator: ", "))",
                        ]))
            }
        }
        for source in context.reachability.allPlacements() {
            if source.kind == .warehouse || (source.kind == .host && source.name == hostName) { continue }
            if source.securityGroups.contains(where: warehouse.clients.contains) { continue }
            for target in targets {
                guard case .reachable(let path) = context.reachability.reach(from: source, to: target, port: warehouse.port, .some) else { continue }
                findings.append(
                    finding(
                        "\(source.owner) can reach warehouse '\(warehouse.name)' on port \(warehouse.port) but none of its security groups is a declared client",
                        at: warehouse.location, subject: "warehouse:\(warehouse.name)", evidence: path))
                break
            }
        }
        return findings
    }
}
