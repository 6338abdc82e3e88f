import SluiceCore

/// One customer managed KMS key per stack for what AWS-managed keys cannot do or scanners rightly
/// ask for: CloudWatch alarms can publish only to topics encrypted with a customer managed key whose
/// policy admits them, and SNS can deliver only to queues whose key admits it. The key also encrypts
/// log groups, secrets, queues, DynamoDB tables and functions' environment variables.
enum KeyRenderer {
    static let id = "KeyData"

    /// Whether the spec has anything the key would encrypt.
    static func needed(_ spec: Spec) -> Bool {
        !spec.messaging.topics.isEmpty || !spec.messaging.queues.isEmpty || !spec.messaging.secrets.isEmpty
            || !spec.compute.functions.isEmpty || !spec.storage.dynamoTables.isEmpty || spec.warehouse != nil
    }

    static func render(into t: TemplateBuilder) {
        guard needed(t.spec) else { return }
        let project = t.spec.project.name
        let service: (String) -> TemplateValue = { .map([("Service", .string($0))]) }
        let use: TemplateValue = .list(["kms:Decrypt", "kms:GenerateDataKey*"])
        t.resource(
            id, "AWS::KMS::Key",
            [
                ("Description", .string("\(project): log groups, secrets, topics, queues, tables and function settings")),
                ("EnableKeyRotation", true),
                (
                    "KeyPolicy",
                    .map([
                        ("Version", "2012-10-17"),
                        (
                            "Statement",
                            .list([
                                // IAM policies of this account decide who else may use the key (the workload roles do).
                                .map([
                                    ("Sid", "AccountAdministersThroughIam"), ("Effect", "Allow"),
                                    ("Principal", .map([("AWS", .sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))])),
                                    ("Action", "kms:*"), ("Resource", "*"),
                                ]),
                                .map([
                                    ("Sid", "LogsEncryptThisProjectsGroups"), ("Effect", "Allow"), ("Principal", service("logs.amazonaws.com")),
                                    ("Action", .list(["kms:Decrypt", "kms:Describe*", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"])),
                                    ("Resource", "*"),
                                    (
                                        "Condition",
                                        .map([
                                            (
                                                "ArnLike",
                                                .map([
                                                    (
                                                        "kms:EncryptionContext:aws:logs:arn",
                                                        .sub(
                                                            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/sluice/${AWS::StackName}/*"
                                                        )
                                                    )
                                                ])
                                            )
                                        ])
                                    ),
                                ]),
                                .map([
                                    ("Sid", "AlarmsPublishToTopics"), ("Effect", "Allow"), ("Principal", service("cloudwatch.amazonaws.com")),
                                    ("Action", use), ("Resource", "*"),
                                    ("Condition", .map([("StringEquals", .map([("aws:SourceAccount", .ref("AWS::AccountId"))]))])),
                                ]),
                                .map([
                                    ("Sid", "TopicsAndBucketsDeliverToQueues"), ("Effect", "Allow"),
                                    ("Principal", .map([("Service", .list(["s3.amazonaws.com", "sns.amazonaws.com"]))])),
                                    ("Action", use), ("Resource", "*"),
                                    ("Condition", .map([("StringEquals", .map([("aws:SourceAccount", .ref("AWS::AccountId"))]))])),
                                ]),
                            ])
                        ),
                    ])
                ),
                ("PendingWindowInDays", 30),
                ("Tags", t.tags("data-key")),
            ], attributes: [("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain")])
        t.resource("KeyDataAlias", "AWS::KMS::Alias", [("AliasName", .sub("alias/sluice/${AWS::StackName}")), ("TargetKeyId", .ref(id))])
    }

    /// What a workload role needs to read and write through services that use the key.
    static func statement() -> TemplateValue {
        .map([
            ("Sid", "UseProjectKey"), ("Effect", "Allow"), ("Action", .list(["kms:Decrypt", "kms:GenerateDataKey"])),
            ("Resource", .list([.getAtt(id, "Arn")])),
        ])
    }
}
