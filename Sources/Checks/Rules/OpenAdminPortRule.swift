import SluiceCore

struct OpenAdminPortRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL215", name: "open-admin-port", severity: .error,
        summary: "No ingress from 0.0.0.0/0 or ::/0 on a database or administration port.",
        explanation: """
        Database ports (PostgreSQL 5432, MySQL 3306, SQL Server 1433, Oracle 1521, Redshift 5439, Redis 6379, MongoDB 27017, \
        Elasticsearch 9200, Memcached 11211) and administration ports (SSH 22, RDP 3389) open to the whole internet are scanned \
        within minutes. Admit them from security groups or narrow CIDRs; use SSM Session Manager instead of open SSH.
        """)

    static let sensitivePorts: [Int: String] = [22: "SSH", 3389: "RDP", 5432: "PostgreSQL", 3306: "MySQL", 1433: "SQL Server", 1521: "Oracle",
                                                5439: "Redshift", 6379: "Redis", 27017: "MongoDB", 9200: "Elasticsearch", 11211: "Memcached"]

    func check(_ context: CheckContext) -> [Diagnostic] {
        context.spec.network.securityGroups.flatMap { group in
            group.ingress.compactMap { rule -> Diagnostic? in
                guard case .cidr(let block) = rule.peer, block.isDefault, rule.proto != .icmp else { return nil }
                let exposed = Self.sensitivePorts.keys.sorted().filter { rule.ports.contains(port: $0) }
                guard !exposed.isEmpty else { return nil }
                let names = exposed.map { "\($0) (\(Self.sensitivePorts[$0]!))" }.joined(separator: ", ")
                return finding("security group '\(group.name)' admits \(block) on \(names)", at: rule.location, subject: "security_group:\(group.name)",
                               evidence: ["security group '\(group.name)' ingress \(rule.proto.rawValue) \(rule.ports) from \(block)"])
            }
        }
    }
}
