import SluiceCore

/// Policy-scanner findings the spec accepts, written into the flagged resource's `Metadata` with the
/// spec's reason, in the form checkov reads (`checkov: skip: [{id, comment}]`). Suppressions for a
/// scanner name its check (`CKV_AWS_18`) and a subject (`bucket:raw`).
public enum ScannerSuppressions {
    /// Scanner suppressions whose subject names nothing in the template.
    public static func unmatched(_ spec: Spec) -> [Suppression] {
        spec.suppressions.filter { $0.isForScanner && resources(for: $0.subject ?? "", in: spec).isEmpty }
    }

    /// The template resources a subject stands for; empty when it names nothing the template has.
    public static func resources(for subject: String, in spec: Spec) -> [String] {
        guard let colon = subject.firstIndex(of: ":") else { return [] }
        let kind = String(subject[..<colon]), name = String(subject[subject.index(after: colon)...])
        switch kind {
        case "bucket": return spec.storage.buckets.contains { $0.name == name } ? [LogicalID.bucket(name)] : []
        case "function": return spec.compute.function(name) != nil ? [LogicalID.function(name)] : []
        case "log_group": return spec.compute.function(name) != nil ? [LogicalID.logGroup(name)] : []
        case "host": return spec.compute.host(name) != nil ? [LogicalID.host(name)] : []
        case "role": return spec.identity.roles.contains { $0.name == name } ? [LogicalID.role(name)] : []
        case "queue": return spec.messaging.queues.contains { $0.name == name } ? [LogicalID.queue(name)] : []
        case "topic": return spec.messaging.topics.contains { $0.name == name } ? [LogicalID.topic(name)] : []
        case "secret": return spec.messaging.secrets.contains { $0.name == name } ? [LogicalID.secret(name)] : []
        case "dynamodb_table": return spec.storage.dynamoTables.contains { $0.name == name } ? [LogicalID.dynamoTable(name)] : []
        case "security_group": return spec.network.securityGroup(name) != nil ? [LogicalID.securityGroup(name)] : []
        case "warehouse":
            guard let warehouse = spec.warehouse, warehouse.name == name else { return [] }
            switch warehouse.engine {
            case .ec2(let host): return [LogicalID.host(host)]
            case .rds: return [LogicalID.database(name)]
            case .aurora(_, let instances):
                return [LogicalID.databaseCluster(name)] + (1...max(instances, 1)).map { LogicalID.databaseInstance(name, $0) }
            }
        default: return []
        }
    }

    /// Sluice's own decisions a scanner flags, with the reason, on every template that has them.
    static func builtIn(_ spec: Spec) -> [(resource: String, check: String, reason: String)] {
        spec.identity.roles.filter { role in role.statements.contains { $0.sid == "ManageVpcNetworkInterfaces" } }.map { role in
            (
                LogicalID.role(role.name), "CKV_AWS_111",
                "Lambda places the function in its VPC with ec2:CreateNetworkInterface and friends, which EC2 cannot scope to a resource; AWS's own AWSLambdaVPCAccessExecutionRole grants the same. Every other statement names its resource."
            )
        }
    }

    static func apply(to builder: TemplateBuilder) {
        for item in builtIn(builder.spec) where builder.hasResource(item.resource) {
            builder.skip(item.resource, check: item.check, reason: item.reason)
        }
        for suppression in builder.spec.suppressions where suppression.isForScanner {
            for resource in resources(for: suppression.subject ?? "", in: builder.spec) where builder.hasResource(resource) {
                builder.skip(resource, check: suppression.rule, reason: suppression.reason)
            }
        }
    }
}
