import SluiceCore

/// Lambda functions with their log groups, schedules and alarms; EC2 hosts.
enum ComputeRenderer {
    static func render(into t: TemplateBuilder) {
        let spec = t.spec
        if !spec.compute.functions.isEmpty {
            t.parameter("ArtifactBucket", description: "Bucket holding the functions' deployment packages.")
        }
        for function in spec.compute.functions {
            let id = LogicalID.function(function.name), logGroup = LogicalID.logGroup(function.name)
            let codeKey = LogicalID.make("CodeKey", function.name)
            t.parameter(codeKey, description: "Key of \(function.name)'s deployment package in ArtifactBucket.")
            t.resource(
                logGroup, "AWS::Logs::LogGroup",
                [
                    ("KmsKeyId", .getAtt(KeyRenderer.id, "Arn")),
                    ("LogGroupName", .sub("/sluice/${AWS::StackName}/\(function.name)")),
                    ("RetentionInDays", .int(function.logRetentionDays)),
                    ("Tags", t.tags(function.name)),
                ], attributes: [("DeletionPolicy", "Delete"), ("UpdateReplacePolicy", "Delete")])  // named: a retained group would block a redeploy
            var properties: [(String, TemplateValue)] = [
                ("Architectures", .list([.string(function.architecture)])),
                ("Code", .map([("S3Bucket", .ref("ArtifactBucket")), ("S3Key", .ref(codeKey))])),
                ("Description", .string("\(function.name) (\(spec.project.name))")),
                ("Handler", .string(function.handler)),
                ("KmsKeyArn", .getAtt(KeyRenderer.id, "Arn")),
                ("LoggingConfig", .map([("LogFormat", "JSON"), ("LogGroup", .ref(logGroup))])),
                ("MemorySize", .int(function.memoryMB)),
                ("Role", .getAtt(LogicalID.role(spec.identity.role(for: function.name)?.name ?? "\(function.name)-role"), "Arn")),
                ("Runtime", .string(function.runtime)),
                ("Timeout", .int(function.timeoutSeconds)),
                (
                    "VpcConfig",
                    .map([
                        ("SecurityGroupIds", .list(function.securityGroups.map { .getAtt(LogicalID.securityGroup($0), "GroupId") })),
                        ("SubnetIds", .list(function.subnets.map { .ref(LogicalID.subnet($0)) })),
                    ])
                ),
            ]
            if let concurrency = function.reservedConcurrency { properties.append(("ReservedConcurrentExecutions", .int(concurrency))) }
            var variables: [(String, TemplateValue)] = function.environment.map { ($0.key, .string($0.value)) }
            variables += warehouseVariables(for: function.name, spec)
            variables += bucketVariables(for: function.name, spec)
            if !variables.isEmpty {
                properties.append(("Environment", .map([("Variables", .map(variables.sorted { $0.0 < $1.0 }))])))
            }
            if let queue = function.deadLetterQueue {
                properties.append(("DeadLetterConfig", .map([("TargetArn", .getAtt(LogicalID.queue(queue), "Arn"))])))
            }
            properties.append(("Tags", t.tags(function.name)))
            t.resource(id, "AWS::Lambda::Function", properties)
        }
        for pipeline in spec.pipelines {
            guard spec.compute.function(pipeline.workload) != nil else { continue }
            let function = LogicalID.function(pipeline.workload)
            if let schedule = pipeline.schedule {
                let rule = LogicalID.schedule(pipeline.name)
                t.resource(
                    rule, "AWS::Events::Rule",
                    [
                        ("Description", .string("Runs pipeline \(pipeline.name)")),
                        ("ScheduleExpression", .string(schedule.expression)),
                        ("State", schedule.enabled ? "ENABLED" : "DISABLED"),
                        (
                            "Targets",
                            .list([
                                .map([
                                    ("Arn", .getAtt(function, "Arn")),
                                    ("Id", .string(LogicalID.make("Run", pipeline.name))),
                                    ("Input", .string("{\"pipeline\":\"\(pipeline.name)\"}")),
                                ])
                            ])
                        ),
                    ])
                t.resource(
                    LogicalID.make("Permission", "\(pipeline.name) schedule"), "AWS::Lambda::Permission",
                    [
                        ("Action", "lambda:InvokeFunction"),
                        ("FunctionName", .ref(function)),
                        ("Principal", "events.amazonaws.com"),
                        ("SourceArn", .getAtt(rule, "Arn")),
                    ])
            }
            if let alarms = pipeline.alarms {
                t.resource(
                    LogicalID.make("Alarm", "\(pipeline.name) errors"), "AWS::CloudWatch::Alarm",
                    [
                        ("AlarmDescription", .string("Pipeline \(pipeline.name): \(pipeline.workload) reported errors")),
                        ("AlarmActions", .list([.ref(LogicalID.topic(alarms.topic))])),
                        ("ComparisonOperator", "GreaterThanOrEqualToThreshold"),
                        ("Dimensions", .list([.map([("Name", "FunctionName"), ("Value", .ref(function))])])),
                        ("EvaluationPeriods", 1),
                        ("MetricName", "Errors"),
                        ("Namespace", "AWS/Lambda"),
                        ("Period", 300),
                        ("Statistic", "Sum"),
                        ("Threshold", .int(alarms.errorThreshold)),
                        ("TreatMissingData", "notBreaching"),
                    ])
                // The function reports each run's counts in the embedded metric format (namespace
                // Sluice, by FunctionName and Pipeline): a run that refused every record still succeeds
                // as an invocation, so these watch what Errors cannot.
                let dimensions: TemplateValue = .list([
                    .map([("Name", "FunctionName"), ("Value", .ref(function))]), .map([("Name", "Pipeline"), ("Value", .string(pipeline.name))]),
                ])
                func metric(_ id: String, _ name: String) -> TemplateValue {
                    .map([
                        ("Id", .string(id)),
                        (
                            "MetricStat",
                            .map([
                                ("Metric", .map([("Dimensions", dimensions), ("MetricName", .string(name)), ("Namespace", "Sluice")])),
                                ("Period", 3600), ("Stat", "Sum"),
                            ])
                        ),
                        ("ReturnData", false),
                    ])
                }
                t.resource(
                    LogicalID.make("Alarm", "\(pipeline.name) failed objects"), "AWS::CloudWatch::Alarm",
                    [
                        (
                            "AlarmDescription",
                            .string("Pipeline \(pipeline.name): objects failed to load (rolled back; the next run tries them again)")
                        ),
                        ("AlarmActions", .list([.ref(LogicalID.topic(alarms.topic))])),
                        ("ComparisonOperator", "GreaterThanOrEqualToThreshold"),
                        ("Dimensions", dimensions),
                        ("EvaluationPeriods", 1),
                        ("MetricName", "ObjectsFailed"),
                        ("Namespace", "Sluice"),
                        ("Period", 300),
                        ("Statistic", "Sum"),
                        ("Threshold", 1),
                        ("TreatMissingData", "notBreaching"),
                    ])
                let percent = alarms.quarantinePercent
                t.resource(
                    LogicalID.make("Alarm", "\(pipeline.name) quarantine rate"), "AWS::CloudWatch::Alarm",
                    [
                        (
                            "AlarmDescription",
                            .string(
                                "Pipeline \(pipeline.name): more than \(Self.percentText(percent)) of the records read in an hour were quarantined")
                        ),
                        ("AlarmActions", .list([.ref(LogicalID.topic(alarms.topic))])),
                        ("ComparisonOperator", "GreaterThanThreshold"),
                        ("EvaluationPeriods", 1),
                        (
                            "Metrics",
                            .list([
                                metric("quarantined", "RecordsQuarantined"), metric("read", "RecordsRead"),
                                .map([
                                    ("Expression", "IF(read > 0, 100 * quarantined / read, 0)"), ("Id", "rate"),
                                    ("Label", "Quarantined records (%)"), ("ReturnData", true),
                                ]),
                            ])
                        ),
                        ("Threshold", percent.rounded() == percent ? .int(Int(percent)) : .string(String(percent))),
                        ("TreatMissingData", "notBreaching"),
                    ])
            }
        }
        for host in spec.compute.hosts {
            let arm = Host.isGraviton(host.instanceType)
            let ami = arm ? "LatestAmiArm64" : "LatestAmiX8664"
            t.parameter(
                ami, type: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                description: "Amazon Linux 2023 image for \(arm ? "arm64" : "x86_64") hosts.",
                default: .string("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-\(arm ? "arm64" : "x86_64")"))
            let groups: TemplateValue = .list(host.securityGroups.map { .getAtt(LogicalID.securityGroup($0), "GroupId") })
            var properties: [(String, TemplateValue)] = [
                (
                    "BlockDeviceMappings",
                    .list([
                        .map([
                            ("DeviceName", "/dev/xvda"),
                            (
                                "Ebs",
                                .map([
                                    ("DeleteOnTermination", true), ("Encrypted", true),
                                    ("VolumeSize", 30),
                                    ("VolumeType", "gp3"),
                                ])
                            ),
                        ])
                    ])
                ),
                ("IamInstanceProfile", .ref(LogicalID.instanceProfile(host.name))),
                ("ImageId", .ref(ami)),
                ("InstanceType", .string(host.instanceType)),
                // IMDSv2 only: a request must first fetch a session token, which SSRF cannot.
                ("MetadataOptions", .map([("HttpEndpoint", "enabled"), ("HttpPutResponseHopLimit", 1), ("HttpTokens", "required")])),
                ("Monitoring", true),
            ]
            if host.publicIP {
                properties.append(
                    (
                        "NetworkInterfaces",
                        .list([
                            .map([
                                ("AssociatePublicIpAddress", true), ("DeviceIndex", "0"), ("GroupSet", groups),
                                ("SubnetId", .ref(LogicalID.subnet(host.subnet))),
                            ])
                        ])
                    ))
            } else {
                properties.append(("SecurityGroupIds", groups))
                properties.append(("SubnetId", .ref(LogicalID.subnet(host.subnet))))
            }
            properties.append(("Tags", t.tags(host.name)))
            if isWarehouseHost(host.name, spec), let warehouse = spec.warehouse {
                properties.append(
                    (
                        "UserData",
                        WarehouseHostBootstrap.userData(
                            spec, adminSecret: LogicalID.secret(warehouse.credentialsSecret), waitHandle: LogicalID.make("WaitHandle", host.name))
                    ))
            }
            t.resource(LogicalID.host(host.name), "AWS::EC2::Instance", properties)
            if isWarehouseHost(host.name, spec) { renderWarehouseData(host, t) }
            t.output(
                LogicalID.make("", host.name) + "PrivateIp", .getAtt(LogicalID.host(host.name), "PrivateIp"),
                description: "Private address of host \(host.name)")
        }
    }

    /// The self-managed warehouse's data volume, apart from the host so that a replaced host keeps
    /// the data (a snapshot is taken when the stack deletes or replaces it), and the wait condition
    /// the host's bootstrap signals once PostgreSQL is up: the stack is complete only then.
    static func renderWarehouseData(_ host: Host, _ t: TemplateBuilder) {
        let volume = LogicalID.make("Volume", host.name)
        let attachment = LogicalID.make("VolumeAttachment", host.name)
        let handle = LogicalID.make("WaitHandle", host.name)
        t.resource(
            volume, "AWS::EC2::Volume",
            [
                ("AvailabilityZone", .getAtt(LogicalID.subnet(host.subnet), "AvailabilityZone")), ("Encrypted", true),
                ("KmsKeyId", .getAtt(KeyRenderer.id, "Arn")), ("Size", .int(WarehouseHostBootstrap.dataVolumeGiB)), ("VolumeType", "gp3"),
                ("Tags", t.tags("\(host.name)-data")),
            ], attributes: [("DeletionPolicy", "Snapshot"), ("UpdateReplacePolicy", "Snapshot")])
        t.resource(
            attachment, "AWS::EC2::VolumeAttachment",
            [("Device", .string(WarehouseHostBootstrap.dataDevice)), ("InstanceId", .ref(LogicalID.host(host.name))), ("VolumeId", .ref(volume))])
        t.resource(handle, "AWS::CloudFormation::WaitConditionHandle", [])
        t.resource(
            LogicalID.make("WaitCondition", host.name), "AWS::CloudFormation::WaitCondition",
            [("Count", 1), ("Handle", .ref(handle)), ("Timeout", .string(String(WarehouseHostBootstrap.timeoutSeconds)))],
            dependsOn: [LogicalID.host(host.name), attachment])
    }

    /// Where a function that runs a pipeline finds the warehouse once deployed: the credentials
    /// secret's ARN and the database's address, which only the deployed stack knows.
    static func warehouseVariables(for function: String, _ spec: Spec) -> [(String, TemplateValue)] {
        guard let warehouse = spec.warehouse, spec.pipelines.contains(where: { $0.workload == function }) else { return [] }
        let host: TemplateValue
        switch warehouse.engine {
        case .ec2(let name): host = .getAtt(LogicalID.host(name), "PrivateIp")
        case .rds: host = .getAtt(LogicalID.database(warehouse.name), "Endpoint.Address")
        case .aurora: host = .getAtt(LogicalID.databaseCluster(warehouse.name), "Endpoint.Address")
        }
        let admin: TemplateValue = .ref(LogicalID.secret(warehouse.credentialsSecret))
        var variables: [(String, TemplateValue)] = [
            ("SLUICE_WAREHOUSE_ADMIN_SECRET", admin),
            ("SLUICE_WAREHOUSE_DATABASE", .string(warehouse.database)),
            ("SLUICE_WAREHOUSE_HOST", host),
            ("SLUICE_WAREHOUSE_PORT", .string(String(warehouse.port))),
        ]
        if let login = spec.warehouseLogin(forWorkload: function) {
            variables.append(("SLUICE_WAREHOUSE_LOGIN", .string(login.method.rawValue)))
            if let secret = login.secret { variables.append(("SLUICE_WAREHOUSE_SECRET", .ref(LogicalID.secret(secret)))) }
            variables.append(("SLUICE_WAREHOUSE_USER", .string(login.role)))
        }
        if let secret = spec.maskKeySecret, spec.pipelines.contains(where: { $0.workload == function && $0.hashesValues }) {
            variables.append(("SLUICE_MASK_KEY_SECRET", .ref(LogicalID.secret(secret))))
        }
        // The secrets whose strings the function's API sources send: the spec's name → the deployed ARN.
        let apiSecrets = Set(spec.pipelines.filter { $0.workload == function }.compactMap(\.source.api?.auth?.secret))
        for secret in apiSecrets.sorted() {
            variables.append((APISecretVariable.name(secret), .ref(LogicalID.secret(secret))))
        }
        return variables
    }

    /// The deployed names of the buckets a function's pipelines read and quarantine into
    /// (`SLUICE_BUCKETS=raw=…,…`): the packaged plan knows them only when the spec names the account.
    static func bucketVariables(for function: String, _ spec: Spec) -> [(String, TemplateValue)] {
        let pipelines = spec.pipelines.filter { $0.workload == function }
        let buckets = Set(pipelines.flatMap { [$0.sourceBucket, $0.quarantine.bucket].compactMap { $0 } }).sorted()
        guard !buckets.isEmpty else { return [] }
        // The name as the bucket's own BucketName writes it, not a Ref: a bucket that notifies the
        // function already depends on it, and a Ref back would be a circular dependency.
        return [("SLUICE_BUCKETS", .sub(buckets.map { "\($0)=\(StorageRenderer.bucketName($0, spec))" }.joined(separator: ",")))]
    }

    static func percentText(_ percent: Double) -> String {
        (percent.rounded() == percent ? String(Int(percent)) : String(percent)) + "%"
    }

    /// The host a self-managed warehouse runs on gets room for its data.
    static func isWarehouseHost(_ name: String, _ spec: Spec) -> Bool {
        if case .ec2(let host)? = spec.warehouse?.engine { return host == name }
        return false
    }
}
