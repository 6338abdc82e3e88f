import SluiceCore

/// One IAM role per workload, its policy derived from what the workload does, and an instance
/// profile for each host.
enum IdentityRenderer {
    static func render(into t: TemplateBuilder, policies: PolicyRenderer) {
        for role in t.spec.identity.roles {
            let id = LogicalID.role(role.name)
            var properties: [(String, TemplateValue)] = [
                (
                    "AssumeRolePolicyDocument",
                    policies.document([
                        .map([
                            ("Effect", "Allow"), ("Principal", .map([("Service", .string(role.service))])), ("Action", .list(["sts:AssumeRole"])),
                        ])
                    ])
                ),
                ("Description", .string("Role of \(role.workload), derived by Sluice from what it does")),
            ]
            var statements = role.statements.map { policies.statement($0) }
            // Secrets, queues, topics, tables and the function's own settings are encrypted with the
            // project key: a workload that touches any of them decrypts through it.
            let touchesKey =
                t.spec.compute.function(role.workload) != nil
                || role.statements.contains { statement in
                    statement.resources.contains { resource in
                        switch resource {
                        case .secret, .queue, .topic, .dynamoTable: return true
                        default: return false
                        }
                    }
                }
            if touchesKey, t.hasResource(KeyRenderer.id) { statements.append(KeyRenderer.statement()) }
            if !statements.isEmpty {
                properties.append(
                    (
                        "Policies",
                        .list([
                            .map([
                                ("PolicyName", .string(LogicalID.make("", role.name))),
                                ("PolicyDocument", policies.document(statements)),
                            ])
                        ])
                    ))
            }
            properties.append(("Tags", t.tags(role.name)))
            t.resource(id, "AWS::IAM::Role", properties)
            if t.spec.compute.host(role.workload) != nil {
                t.resource(LogicalID.instanceProfile(role.workload), "AWS::IAM::InstanceProfile", [("Roles", .list([.ref(id)]))])
            }
        }
    }
}
