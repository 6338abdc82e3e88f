import SluiceCore

struct IAMWildcardRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL301", name: "iam-wildcard", severity: .error,
        summary: "No '*' action, and no '*' resource where the action supports a narrower one.",
        explanation: """
            A role may do what its workload needs and nothing more. Actions are named one by one ('s3:*', '*' and patterns such as \
            's3:Get*' are refused). ARNs name resources: a wildcard account or a wildcard in place of a name ('arn:aws:s3:::*/*', \
            'arn:aws:iam::*:role/*') is refused. \
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

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                identity:
                  roles:
                    - name: etl-extra
                      workload: etl
                      statements:
                        - ↓{ sid: Everything, actions: ["*"], resources: ["bucket:raw/*"] }
                        - ↓{ sid: Reads, actions: ["s3:Get*"], resources: ["bucket:raw/*"] }
                        - ↓{ sid: AnyBucket, actions: ["s3:GetObject"], resources: ["arn:aws:s3:::*/*"] }
                        - ↓{ sid: Unscoped, actions: ["s3:GetObject"], resources: ["*"] }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                identity:
                  roles:
                    - name: etl-extra
                      workload: etl
                      statements:
                        - { sid: Reads, actions: ["s3:GetObject"], resources: ["bucket:raw/*"] }
                        - { sid: Token, actions: ["sts:GetCallerIdentity"], resources: ["*"] }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        var findings: [Diagnostic] = []
        for role in context.spec.identity.roles {
            for (index, statement) in role.statements.enumerated() where statement.effect == .allow {
                let label = statement.sid ?? "#\(index + 1)"
                for action in statement.actions where action == "*" || action.hasSuffix(":*") {
                    findings.append(
                        finding(
                            "role '\(role.name)' allows every action '\(action)'", at: statement.location, subject: "role:\(role.name)",
                            evidence: ["role '\(role.name)' (\(role.workload)) → statement \(label) → Action \(action)"]))
                }
                // IAM matches `*` and `?` anywhere in an action: `s3:Get*` is every read, today's and tomorrow's.
                for action in statement.actions where action != "*" && !action.hasSuffix(":*") && (action.contains("*") || action.contains("?")) {
                    findings.append(
                        finding(
                            "role '\(role.name)' allows the actions matching '\(action)'; name the ones it needs",
                            at: statement.location, subject: "role:\(role.name)",
                            evidence: ["role '\(role.name)' (\(role.workload)) → statement \(label) → Action \(action)"]))
                }
                for resource in statement.resources {
                    guard case .arn(let arn) = resource, let wider = Self.widerThanAResource(arn) else { continue }
                    findings.append(
                        finding(
                            "role '\(role.name)' grants \(statement.actions.joined(separator: ", ")) on '\(arn)', which matches \(wider); \(Self.suggestion(for: arn, in: context.spec))",
                            at: statement.location, subject: "role:\(role.name)",
                            evidence: ["role '\(role.name)' (\(role.workload)) → statement \(label) → Resource \(arn)"]))
                }
                guard statement.resources.contains(.any) else { continue }
                let narrowable = statement.actions.filter { !Self.starOnlyActions.contains($0) }
                if !narrowable.isEmpty {
                    findings.append(
                        finding(
                            "role '\(role.name)' grants \(narrowable.joined(separator: ", ")) on '*'; name the resources",
                            at: statement.location, subject: "role:\(role.name)",
                            evidence: ["role '\(role.name)' (\(role.workload)) → statement \(label) → Resource *"]))
                }
            }
        }
        return findings
    }

    /// Why an ARN pattern covers more than one named resource: a wildcard account, or a wildcard
    /// where the resource's name goes (`arn:aws:s3:::*/*`, `arn:aws:iam::123456789012:role/*`).
    /// A wildcard after a named S3 bucket (its objects, or a prefix of them) is a name.
    static func widerThanAResource(_ arn: String) -> String? {
        let fields = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 6 else { return nil }
        let (service, account, resource) = (fields[2], fields[4], fields[5])
        if account.contains("*") || account.contains("?") { return "resources of every account" }
        if service == "s3" {
            let bucket = resource.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? resource
            return bucket.contains("*") || bucket.contains("?") ? "every bucket" : nil
        }
        // `type/name`, `type:name` or a bare name: the name is what must not be a pattern.
        let name = resource.split(whereSeparator: { $0 == "/" || $0 == ":" }).dropFirst(resource.contains("/") || resource.contains(":") ? 1 : 0)
            .joined(separator: "/")
        guard name.hasPrefix("*") || name.hasPrefix("?") || resource == "*" else { return nil }
        return "every \(service) resource\(resource.contains("/") || resource.contains(":") ? " of its type" : "")"
    }

    static func suggestion(for arn: String, in spec: Spec) -> String {
        if arn.split(separator: ":").dropFirst(2).first == "s3", !spec.storage.buckets.isEmpty {
            return "name the spec's buckets instead (\(spec.storage.buckets.prefix(3).map { "bucket:\($0.name)/*" }.joined(separator: ", ")))"
        }
        return "name the resources"
    }
}
