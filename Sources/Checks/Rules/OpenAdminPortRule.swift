import SluiceCore

struct OpenAdminPortRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL215", name: "open-admin-port", severity: .error,
        summary: "No ingress from the internet (0.0.0.0/0, ::/0, or rules adding up to a wide share of it) on a database or administration port.",
        explanation: """
            Database ports (PostgreSQL 5432, MySQL 3306, SQL Server 1433, Oracle 1521, Redshift 5439, Redis 6379, MongoDB 27017, \
            Elasticsearch 9200, Memcached 11211, and the warehouse's own port) and administration ports (SSH 22, RDP 3389) open to \
            the internet are scanned within minutes. The rules of a group are taken together, as AWS does: two /1 halves are the \
            whole internet, and a rule for all protocols opens every port whatever its port says. A share of a /8 (IPv4) or a /32 \
            (IPv6) of internet addresses or more counts. Admit them from security groups or narrow CIDRs; use SSM Session Manager \
            instead of open SSH.
            """)

    static let sensitivePorts: [Int: String] = [
        22: "SSH", 3389: "RDP", 5432: "PostgreSQL", 3306: "MySQL", 1433: "SQL Server", 1521: "Oracle",
        5439: "Redshift", 6379: "Redis", 27017: "MongoDB", 9200: "Elasticsearch", 11211: "Memcached",
    ]

    /// A share of the internet this large is "the world" for a scanner: a /8 of IPv4, a /32 of IPv6.
    static func isWide(_ addresses: AddressSet) -> Bool {
        addresses.addressCount >= (addresses.family == .v4 ? UInt128(1) << 24 : UInt128(1) << 96)
    }

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: admin
                      ingress:
                        - ↓{ port: 22, cidr: 0.0.0.0/0 }
                """),
            RuleExample(
                """
                network:
                  security_groups:
                    - name: admin
                      ingress:
                        - ↓{ port: 5432, cidr: 0.0.0.0/1 }
                        - { port: 5432, cidr: 128.0.0.0/1 }
                """),
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: web
                      ingress:
                        - { port: 443, cidr: 0.0.0.0/0 }
                        - { port: 22, cidr: 198.51.100.7/32 }
                """)
        ])

    /// The union of a group's TCP ingress rules, port by port (a rule for all protocols opens every
    /// port): two /1 halves on 22 are the whole internet on 22.
    func check(_ context: CheckContext) -> [Diagnostic] {
        var ports = Self.sensitivePorts
        if let warehouse = context.spec.warehouse { ports[warehouse.port] = ports[warehouse.port] ?? "warehouse '\(warehouse.name)'" }
        var findings: [Diagnostic] = []
        for group in context.spec.network.securityGroups {
            // (family, port) → the rules admitting internet addresses there, and those addresses.
            var exposed: [String: (rules: [SecurityGroupRule], addresses: AddressSet, port: Int)] = [:]
            for rule in group.ingress where rule.proto.matches(.tcp) {
                guard case .cidr(let block) = rule.peer else { continue }
                let onInternet = AddressSet(block).intersection(.internet(block.family))
                guard !onInternet.isEmpty else { continue }
                for port in ports.keys.sorted() where rule.proto.effectivePorts(rule.ports).contains(port) {
                    let key = "\(block.family.rawValue) \(port)"
                    let before = exposed[key] ?? ([], AddressSet(block.family), port)
                    exposed[key] = (before.rules + [rule], before.addresses.union(onInternet), port)
                }
            }
            // One finding per family and set of rules, naming every port they open.
            var byRules: [[SecurityGroupRule]: (ports: [Int], addresses: AddressSet)] = [:]
            for (_, value) in exposed where Self.isWide(value.addresses) {
                let before = byRules[value.rules] ?? ([], value.addresses)
                byRules[value.rules] = (before.ports + [value.port], before.addresses)
            }
            for (rules, value) in byRules.sorted(by: {
                $0.key[0].location < $1.key[0].location || ($0.key[0].location == $1.key[0].location && $0.value.ports.min()! < $1.value.ports.min()!)
            }) {
                let names = value.ports.sorted().map { "\($0) (\(ports[$0]!))" }.joined(separator: ", ")
                let family = value.addresses.family
                let peers = rules.map(Self.peer).joined(separator: " + ")
                let whom = value.addresses.isSuperset(of: .internet(family)) && rules.count > 1 ? "the whole internet (\(peers))" : peers
                findings.append(
                    finding(
                        "security group '\(group.name)' admits \(whom) on \(names)", at: rules[0].location, subject: "security_group:\(group.name)",
                        evidence: rules.map {
                            "security group '\(group.name)' ingress \($0.proto.rawValue) \($0.proto == .all ? "all ports" : "\($0.ports)") from \($0.peer)"
                        }))
            }
        }
        return findings
    }

    static func peer(_ rule: SecurityGroupRule) -> String { "\(rule.peer)" }
}
