import SluiceCore

/// IAM policy documents: role policies, endpoint policies, bucket policies. Spec resources become
/// ARNs of the template's own resources (`Fn::GetAtt`, `Ref`), never wildcards.
struct PolicyRenderer {
    let spec: Spec

    func arn(_ resource: IAMResource) -> TemplateValue {
        switch resource {
        // Built from the bucket's name, not its GetAtt: a bucket that notifies a function would
        // otherwise depend, through the function's role, on itself.
        case .bucket(let name): return .sub("arn:${AWS::Partition}:s3:::\(StorageRenderer.bucketName(name, spec))")
        case .bucketObjects(let name, let prefix): return .sub("arn:${AWS::Partition}:s3:::\(StorageRenderer.bucketName(name, spec))/\(prefix)*")
        case .secret(let name): return .ref(LogicalID.secret(name))
        case .logGroup(let function): return .getAtt(LogicalID.logGroup(function), "Arn")
        case .dynamoTable(let name): return .getAtt(LogicalID.dynamoTable(name), "Arn")
        case .topic(let name): return .ref(LogicalID.topic(name))
        case .queue(let name): return .getAtt(LogicalID.queue(name), "Arn")
        case .arn(let text): return .string(text)
        case .databaseUser(let role): return Self.databaseUserARN(role, spec)
        case .any: return "*"
        }
    }

    /// `arn:…:rds-db:REGION:ACCOUNT:dbuser:RESOURCE-ID/ROLE`: the resource ID is the instance's
    /// `DbiResourceId` or the cluster's `DBClusterResourceId`, never its name.
    static func databaseUserARN(_ role: String, _ spec: Spec) -> TemplateValue {
        let resourceID: String
        switch spec.warehouse?.engine {
        case .aurora: resourceID = "${\(LogicalID.databaseCluster(spec.warehouse!.name)).DBClusterResourceId}"
        case .rds: resourceID = "${\(LogicalID.database(spec.warehouse!.name)).DbiResourceId}"
        case .ec2, nil: return .string("*")  // not rendered: only managed warehouses take IAM logins
        }
        return .sub("arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:\(resourceID)/\(role)")
    }

    func statement(_ statement: PolicyStatement, principal: TemplateValue? = nil) -> TemplateValue {
        var entries: [(String, TemplateValue)] = []
        if let sid = statement.sid { entries.append(("Sid", .string(sid))) }
        entries.append(("Effect", statement.effect == .allow ? "Allow" : "Deny"))
        if let principal { entries.append(("Principal", principal)) }
        entries.append(("Action", .list(statement.actions.map(TemplateValue.string))))
        entries.append(("Resource", .list(statement.resources.map(arn))))
        if !statement.conditions.isEmpty {
            entries.append(
                (
                    "Condition",
                    .map(
                        statement.conditions.sorted { $0.key < $1.key }.map { op, keys in
                            (op, .map(keys.sorted { $0.key < $1.key }.map { ($0.key, .list($0.value.map(TemplateValue.string))) }))
                        })
                ))
        }
        return .map(entries)
    }

    func document(_ statements: [TemplateValue]) -> TemplateValue {
        .map([("Version", "2012-10-17"), ("Statement", .list(statements))])
    }

    /// A gateway or interface endpoint's policy: only the spec's buckets or tables, only the actions
    /// the workloads use. Full access is AWS's default, so it is left out.
    func endpointPolicy(_ endpoint: Endpoint) -> TemplateValue? {
        switch endpoint.policy {
        case .derived, .fullAccess: return nil
        case .statements(let statements): return document(statements.map { statement($0, principal: "*") })
        case .resources(let names, _):
            guard !names.isEmpty else { return nil }
            if endpoint.service == "dynamodb" {
                return document([
                    statement(
                        PolicyStatement(
                            sid: "SpecTablesOnly",
                            actions: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                            resources: names.map(IAMResource.dynamoTable)), principal: "*")
                ])
            }
            return document(
                [
                    statement(
                        PolicyStatement(sid: "SpecBucketsOnly", actions: ["s3:ListBucket"], resources: names.map(IAMResource.bucket)), principal: "*"),
                    statement(
                        PolicyStatement(
                            sid: "SpecObjectsOnly", actions: ["s3:GetObject", "s3:PutObject"],
                            resources: names.map { .bucketObjects($0, prefix: "") }), principal: "*"),
                ] + warehouseHostStatements(endpoint))
        }
    }

    /// What the self-managed warehouse's host fetches through the S3 gateway endpoint at first boot:
    /// packages from AWS's AL2023 repository bucket (read anonymously by dnf: no principal condition,
    /// or it is refused) and its wait condition's presigned URL in CloudFormation's bucket.
    func warehouseHostStatements(_ endpoint: Endpoint) -> [TemplateValue] {
        guard endpoint.service == "s3", let warehouse = spec.warehouse, case .ec2(let hostName) = warehouse.engine,
            let host = spec.compute.host(hostName), let table = spec.network.routeTable(for: host.subnet),
            endpoint.routeTables.contains(table.name)
        else { return [] }
        func allow(_ sid: String, _ action: String, _ bucket: String) -> TemplateValue {
            .map([
                ("Sid", .string(sid)), ("Effect", "Allow"), ("Principal", "*"), ("Action", .list([.string(action)])),
                ("Resource", .list([.sub("arn:${AWS::Partition}:s3:::\(bucket)/*")])),
            ])
        }
        return [
            allow("WarehouseHostPackages", "s3:GetObject", WarehouseHostBootstrap.repositoryBucket),
            allow("WarehouseHostSignal", "s3:PutObject", WarehouseHostBootstrap.waitConditionBucket),
        ]
    }
}
