import SluiceCore

/// S3 buckets (with their TLS-only policy) and DynamoDB tables.
enum StorageRenderer {
    /// Buckets get a name (`<project>-<bucket>-<account>-<region>`): bucket notifications need a
    /// Lambda permission naming the bucket, which cannot use the bucket's own ARN without a cycle.
    static func bucketName(_ bucket: String, _ spec: Spec) -> String {
        "${AWS::StackName}-\(bucket.lowercased())-${AWS::AccountId}-${AWS::Region}"
    }

    static func render(into t: TemplateBuilder, policies: PolicyRenderer) {
        for bucket in t.spec.storage.buckets {
            let id = LogicalID.bucket(bucket.name)
            var properties: [(String, TemplateValue)] = [("BucketName", .sub(bucketName(bucket.name, t.spec)))]
            switch bucket.encryption {
            case .none, .s3Managed:
                // S3 encrypts every object since 2023; saying so keeps scanners and readers certain.
                properties.append(
                    (
                        "BucketEncryption",
                        .map([
                            (
                                "ServerSideEncryptionConfiguration",
                                .list([
                                    .map([
                                        ("ServerSideEncryptionByDefault", .map([("SSEAlgorithm", "AES256")]))
                                    ])
                                ])
                            )
                        ])
                    ))
            case .kms(let key):
                var byDefault: [(String, TemplateValue)] = [("SSEAlgorithm", "aws:kms")]
                if let key { byDefault.append(("KMSMasterKeyID", .string(key))) }
                properties.append(
                    (
                        "BucketEncryption",
                        .map([
                            (
                                "ServerSideEncryptionConfiguration",
                                .list([
                                    .map([
                                        ("BucketKeyEnabled", true), ("ServerSideEncryptionByDefault", .map(byDefault)),
                                    ])
                                ])
                            )
                        ])
                    ))
            }
            if bucket.blockPublicAccess {
                properties.append(
                    (
                        "PublicAccessBlockConfiguration",
                        .map([
                            ("BlockPublicAcls", true), ("BlockPublicPolicy", true), ("IgnorePublicAcls", true), ("RestrictPublicBuckets", true),
                        ])
                    ))
            }
            properties.append(("OwnershipControls", .map([("Rules", .list([.map([("ObjectOwnership", "BucketOwnerEnforced")])]))])))
            properties.append(("VersioningConfiguration", .map([("Status", bucket.versioning ? "Enabled" : "Suspended")])))
            if !bucket.lifecycle.isEmpty {
                properties.append(
                    (
                        "LifecycleConfiguration",
                        .map([
                            (
                                "Rules",
                                .list(
                                    bucket.lifecycle.map { rule in
                                        var entry: [(String, TemplateValue)] = [("Id", .string(rule.id)), ("Status", "Enabled")]
                                        if !rule.prefix.isEmpty { entry.append(("Prefix", .string(rule.prefix))) }
                                        if !rule.transitions.isEmpty {
                                            entry.append(
                                                (
                                                    "Transitions",
                                                    .list(
                                                        rule.transitions.map {
                                                            .map([("StorageClass", .string($0.storageClass)), ("TransitionInDays", .int($0.days))])
                                                        })
                                                ))
                                        }
                                        if let days = rule.expireDays { entry.append(("ExpirationInDays", .int(days))) }
                                        if let days = rule.noncurrentExpireDays {
                                            entry.append(("NoncurrentVersionExpiration", .map([("NoncurrentDays", .int(days))])))
                                        }
                                        // Uploads that never finish cost money and are invisible in listings.
                                        entry.append(("AbortIncompleteMultipartUpload", .map([("DaysAfterInitiation", 7)])))
                                        return .map(entry)
                                    })
                            )
                        ])
                    ))
            }
            var dependsOn: [String] = []
            if !bucket.notifications.isEmpty {
                var lambdas: [TemplateValue] = [], queues: [TemplateValue] = [], topics: [TemplateValue] = []
                for notification in bucket.notifications {
                    var rules: [TemplateValue] = []
                    if let prefix = notification.prefix { rules.append(.map([("Name", "prefix"), ("Value", .string(prefix))])) }
                    if let suffix = notification.suffix { rules.append(.map([("Name", "suffix"), ("Value", .string(suffix))])) }
                    for event in notification.events {
                        var entry: [(String, TemplateValue)] = [("Event", .string(event))]
                        if !rules.isEmpty { entry.append(("Filter", .map([("S3Key", .map([("Rules", .list(rules))]))]))) }
                        switch notification.target {
                        case .function(let name):
                            entry.append(("Function", .getAtt(LogicalID.function(name), "Arn")))
                            lambdas.append(.map(entry))
                            let permission = LogicalID.make("Permission", "\(bucket.name) invokes \(name)")
                            if !t.hasResource(permission) {
                                t.resource(
                                    permission, "AWS::Lambda::Permission",
                                    [
                                        ("Action", "lambda:InvokeFunction"),
                                        ("FunctionName", .ref(LogicalID.function(name))),
                                        ("Principal", "s3.amazonaws.com"),
                                        ("SourceAccount", .ref("AWS::AccountId")),
                                        ("SourceArn", .sub("arn:${AWS::Partition}:s3:::\(bucketName(bucket.name, t.spec))")),
                                    ])
                                dependsOn.append(permission)
                            }
                        case .queue(let name):
                            entry.append(("Queue", .getAtt(LogicalID.queue(name), "Arn")))
                            queues.append(.map(entry))
                        case .topic(let name):
                            entry.append(("Topic", .ref(LogicalID.topic(name))))
                            topics.append(.map(entry))
                        }
                    }
                }
                var configuration: [(String, TemplateValue)] = []
                if !lambdas.isEmpty { configuration.append(("LambdaConfigurations", .list(lambdas))) }
                if !queues.isEmpty { configuration.append(("QueueConfigurations", .list(queues))) }
                if !topics.isEmpty { configuration.append(("TopicConfigurations", .list(topics))) }
                properties.append(("NotificationConfiguration", .map(configuration)))
            }
            properties.append(("Tags", t.tags(bucket.name)))
            t.resource(
                id, "AWS::S3::Bucket", properties, dependsOn: dependsOn,
                attributes: [("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain")])
            t.resource(
                LogicalID.make("BucketPolicy", bucket.name), "AWS::S3::BucketPolicy",
                [
                    ("Bucket", .ref(id)),
                    (
                        "PolicyDocument",
                        policies.document([
                            .map([
                                ("Sid", "DenyInsecureTransport"), ("Effect", "Deny"), ("Principal", "*"), ("Action", "s3:*"),
                                ("Resource", .list([.getAtt(id, "Arn"), .sub("${\(id).Arn}/*")])),
                                ("Condition", .map([("Bool", .map([("aws:SecureTransport", "false")]))])),
                            ])
                        ])
                    ),
                ])
            t.output(LogicalID.make("", bucket.name) + "BucketName", .ref(id), description: "Name of bucket \(bucket.name)")
        }
        for table in t.spec.storage.dynamoTables {
            var attributes: [TemplateValue] = [
                .map([("AttributeName", .string(table.partitionKey.name)), ("AttributeType", .string(table.partitionKey.type))])
            ]
            var keys: [TemplateValue] = [.map([("AttributeName", .string(table.partitionKey.name)), ("KeyType", "HASH")])]
            if let sort = table.sortKey {
                attributes.append(.map([("AttributeName", .string(sort.name)), ("AttributeType", .string(sort.type))]))
                keys.append(.map([("AttributeName", .string(sort.name)), ("KeyType", "RANGE")]))
            }
            var properties: [(String, TemplateValue)] = [
                ("BillingMode", "PAY_PER_REQUEST"),
                ("AttributeDefinitions", .list(attributes)),
                ("KeySchema", .list(keys)),
                ("PointInTimeRecoverySpecification", .map([("PointInTimeRecoveryEnabled", true)])),
                ("SSESpecification", .map([("KMSMasterKeyId", .ref(KeyRenderer.id)), ("SSEEnabled", true), ("SSEType", "KMS")])),
            ]
            if let ttl = table.ttlAttribute {
                properties.append(("TimeToLiveSpecification", .map([("AttributeName", .string(ttl)), ("Enabled", true)])))
            }
            properties.append(("Tags", t.tags(table.name)))
            t.resource(
                LogicalID.dynamoTable(table.name), "AWS::DynamoDB::Table", properties,
                attributes: [("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain")])
        }
    }
}
