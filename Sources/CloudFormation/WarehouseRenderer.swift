import SluiceCore

/// RDS or Aurora PostgreSQL for a managed warehouse; a self-managed one is its host.
enum WarehouseRenderer {
    static func render(into t: TemplateBuilder) {
        guard let warehouse = t.spec.warehouse, warehouse.engine.isManaged else { return }
        let secret = LogicalID.secret(warehouse.credentialsSecret)
        let subnetGroup = LogicalID.make("DbSubnetGroup", warehouse.name)
        t.resource(
            subnetGroup, "AWS::RDS::DBSubnetGroup",
            [
                ("DBSubnetGroupDescription", .string("Subnets of warehouse \(warehouse.name)")),
                ("SubnetIds", .list(warehouse.subnets.map { .ref(LogicalID.subnet($0)) })),
                ("Tags", t.tags(warehouse.name)),
            ])
        let groups: TemplateValue = .list(warehouse.securityGroups.map { .getAtt(LogicalID.securityGroup($0), "GroupId") })
        let username: TemplateValue = .sub("{{resolve:secretsmanager:${\(secret)}:SecretString:username}}")
        let password: TemplateValue = .sub("{{resolve:secretsmanager:${\(secret)}:SecretString:password}}")
        let keep: [(String, TemplateValue)] = [("DeletionPolicy", "Snapshot"), ("UpdateReplacePolicy", "Snapshot")]
        // Enhanced monitoring: per-process and OS metrics every minute, which the basic metrics lack.
        let monitoringRole = LogicalID.make("RoleMonitoring", warehouse.name)
        t.resource(
            monitoringRole, "AWS::IAM::Role",
            [
                (
                    "AssumeRolePolicyDocument",
                    .map([
                        ("Version", "2012-10-17"),
                        (
                            "Statement",
                            .list([
                                .map([
                                    ("Effect", "Allow"), ("Principal", .map([("Service", "monitoring.rds.amazonaws.com")])),
                                    ("Action", .list(["sts:AssumeRole"])),
                                ])
                            ])
                        ),
                    ])
                ),
                ("Description", .string("Enhanced monitoring of warehouse \(warehouse.name)")),
                ("ManagedPolicyArns", .list([.sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")])),
                ("Tags", t.tags("\(warehouse.name)-monitoring")),
            ])
        let monitoring: [(String, TemplateValue)] = [("MonitoringInterval", 60), ("MonitoringRoleArn", .getAtt(monitoringRole, "Arn"))]
        let target: String
        switch warehouse.engine {
        case .ec2: return
        case .rds(let instanceClass):
            target = LogicalID.database(warehouse.name)
            t.resource(
                target, "AWS::RDS::DBInstance",
                [
                    ("AllocatedStorage", "100"),
                    ("AutoMinorVersionUpgrade", true),
                    ("BackupRetentionPeriod", 7),
                    ("CopyTagsToSnapshot", true),
                    ("DBInstanceClass", .string(instanceClass)),
                    ("DBName", .string(warehouse.database)),
                    ("DBSubnetGroupName", .ref(subnetGroup)),
                    ("DeletionProtection", true),
                    ("EnableIAMDatabaseAuthentication", true),
                    ("Engine", "postgres"),
                    ("EngineVersion", "17.6"),
                    ("MasterUserPassword", password),
                    ("MasterUsername", username),
                ] + monitoring + [
                    ("MultiAZ", true),
                    ("Port", .string(String(warehouse.port))),
                    ("PubliclyAccessible", .bool(warehouse.publiclyAccessible)),
                    ("StorageEncrypted", true),
                    ("StorageType", "gp3"),
                    ("VPCSecurityGroups", groups),
                    ("Tags", t.tags(warehouse.name)),
                ], attributes: keep)
            t.output(
                LogicalID.make("", warehouse.name) + "Endpoint", .getAtt(target, "Endpoint.Address"),
                description: "Address of warehouse \(warehouse.name)")
        case .aurora(let instanceClass, let instances):
            target = LogicalID.databaseCluster(warehouse.name)
            t.resource(
                target, "AWS::RDS::DBCluster",
                [
                    ("BackupRetentionPeriod", 7),
                    ("CopyTagsToSnapshot", true),
                    ("DBSubnetGroupName", .ref(subnetGroup)),
                    ("DatabaseName", .string(warehouse.database)),
                    ("DeletionProtection", true),
                    ("EnableIAMDatabaseAuthentication", true),
                    ("Engine", "aurora-postgresql"),
                    ("EngineVersion", "17.6"),
                    ("MasterUserPassword", password),
                    ("MasterUsername", username),
                    ("Port", .int(warehouse.port)),
                    ("StorageEncrypted", true),
                    ("VpcSecurityGroupIds", groups),
                    ("Tags", t.tags(warehouse.name)),
                ], attributes: keep)
            for index in 1...max(instances, 1) {
                t.resource(
                    LogicalID.databaseInstance(warehouse.name, index), "AWS::RDS::DBInstance",
                    [
                        ("AutoMinorVersionUpgrade", true),
                        ("DBClusterIdentifier", .ref(target)),
                        ("DBInstanceClass", .string(instanceClass)),
                        ("Engine", "aurora-postgresql"),
                    ] + monitoring + [
                        ("PubliclyAccessible", .bool(warehouse.publiclyAccessible)),
                        ("Tags", t.tags("\(warehouse.name)-\(index)")),
                    ], attributes: [("DeletionPolicy", "Delete"), ("UpdateReplacePolicy", "Delete")])  // the cluster holds the data and its snapshot
            }
            t.output(
                LogicalID.make("", warehouse.name) + "Endpoint", .getAtt(target, "Endpoint.Address"),
                description: "Writer address of warehouse \(warehouse.name)")
        }
        // Lets Secrets Manager add host, port and engine to the secret, and rotate it later.
        t.resource(
            LogicalID.make("SecretAttachment", warehouse.credentialsSecret), "AWS::SecretsManager::SecretTargetAttachment",
            [
                ("SecretId", .ref(secret)),
                ("TargetId", .ref(target)),
                ("TargetType", .string(targetType(warehouse.engine))),
            ])
    }

    static func targetType(_ engine: WarehouseEngine) -> String {
        switch engine {
        case .aurora: return "AWS::RDS::DBCluster"
        default: return "AWS::RDS::DBInstance"
        }
    }
}
