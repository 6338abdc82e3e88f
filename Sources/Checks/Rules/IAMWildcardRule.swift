import SluiceCore

struct IAMWildcardRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL301", name: "iam-wildcard", severity: .error,
        summary: "No '*' action, and no '*' resource where the action supports a narrower one.",
        explanation: """
        A role may do what its workload needs and nothing more. Actions are named one by one ('s3:*' and '*' are refused). \
        Resources are the spec's buckets, prefixes, secrets, tables, topics and queues; '*' is accepted only for actions that AWS \
        gives no resource-level permissions (ec2:DescribeNetworkInterfaces and the other network-interface calls Lambda makes in \
        a VPC, cloudwatch:PutMetricData, xray:PutTraceSegments, …).
        """)

    /// Actions for which IAM offers no resource narrower than '*' (or which Lambda's VPC plumbing needs on '*').
    static let starOnlyActions: Set<String> = [
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
        "cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "s3:ListAllMyBuckets", "sts:GetCallerIdentity",
        "logs:DescribeLogGroups",
    ]

    func check(_ context: CheckContext) -> [Diagnostic] {
        var findings: [Diagnostic] = []
        for role in context.spec.identity.roles {
            for (index, statement) in role.statements.enumerated() where statement.effect == .allow {
                let label = statement.sid ?? "#\(index + 1)"
                for action in statement.actions where action == "*" || action.hasSuffix(":*") {
                    findings.append(finding("role '\(role.name)' allows every action '\(action)'", at: statement.location, subject: "role:\(role.name)",
                                            evidence: ["role '\(role.name)' (\(role.workload)) → statement \(label) → Action \(action)"]))
                }
                guard statement.resources.contains(.any) else { continue }
                let narrowable = statement.actions.filter { !Self.starOnlyActions.contains($0) }
                if !narrowable.isEmpty {
                    findings.append(finding("role '\(role.name)' grants \(narrowable.joined(separator: ", ")) on '*'; name the resources",
                                            at: statement.location, subject: "role:\(role.name)",
                                            evidence: ["role '\(role.name)' (\(role.workload)) → statement \(label) → Resource *"]))
                }
            }
        }
        return findings
    }
}
