import SluiceCore

/// One IAM role per workload, its policy derived from what the workload does, and an instance
/// profile for each host.
enum IdentityRenderer {
    static func render(into t: TemplateBuilder, policies: PolicyRenderer) {
        for role in t.spec.identity.roles {
            let id = LogicalID.role(role.name)
            var properties: [(String, TemplateValue)] = [
                ("AssumeRolePolicyDocument", policies.document([.map([
                    ("Effect", "Allow"), ("Principal", .map([("Service", .string(role.service))])), ("Action", .list(["sts:AssumeRole"])),
                ])])),
                ("Description", .string("Role of \(role.workload), derived by Sluice from what it does")),
            ]
            if !role.statements.isEmpty {
                properties.append(("Policies", .list([.map([
                    ("PolicyName", .string(LogicalID.make("", role.name))),
                    ("PolicyDocument", policies.document(role.statements.map { policies.statement($0) })),
                ])])))
            }
            properties.append(("Tags", t.tags(role.name)))
            t.resource(id, "AWS::IAM::Role", properties)
            if t.spec.compute.host(role.workload) != nil {
                t.resource(LogicalID.make("InstanceProfile", role.workload), "AWS::IAM::InstanceProfile", [("Roles", .list([.ref(id)]))])
            }
        }
    }
}
