import SluiceCore

/// SNS topics and subscriptions, SQS queues, Secrets Manager secrets.
enum MessagingRenderer {
    static func render(into t: TemplateBuilder, policies: PolicyRenderer) {
        let messaging = t.spec.messaging
        for queue in messaging.queues {
            var properties: [(String, TemplateValue)] = [
                ("MessageRetentionPeriod", .int(queue.retentionSeconds)),
                ("KmsMasterKeyId", .ref(KeyRenderer.id)),
                ("VisibilityTimeout", .int(queue.visibilityTimeout)),
            ]
            if let deadLetter = queue.deadLetter {
                properties.append(
                    (
                        "RedrivePolicy",
                        .map([
                            ("deadLetterTargetArn", .getAtt(LogicalID.queue(deadLetter.queue), "Arn")),
                            ("maxReceiveCount", .int(deadLetter.maxReceiveCount)),
                        ])
                    ))
            }
            properties.append(("Tags", t.tags(queue.name)))
            // Messages in flight are not the system of record; the stack may take them along.
            t.resource(
                LogicalID.queue(queue.name), "AWS::SQS::Queue", properties,
                attributes: [("DeletionPolicy", "Delete"), ("UpdateReplacePolicy", "Delete")])
        }
        for topic in messaging.topics {
            let id = LogicalID.topic(topic.name)
            t.resource(id, "AWS::SNS::Topic", [("KmsMasterKeyId", .ref(KeyRenderer.id)), ("Tags", t.tags(topic.name))])
            for (index, address) in topic.emailSubscribers.enumerated() {
                t.resource(
                    LogicalID.make("Subscription", "\(topic.name) email \(index + 1)"), "AWS::SNS::Subscription",
                    [
                        ("Endpoint", .string(address)), ("Protocol", "email"), ("TopicArn", .ref(id)),
                    ])
            }
            for queue in topic.queueSubscribers {
                t.resource(
                    LogicalID.make("Subscription", "\(topic.name) \(queue)"), "AWS::SNS::Subscription",
                    [
                        ("Endpoint", .getAtt(LogicalID.queue(queue), "Arn")), ("Protocol", "sqs"), ("RawMessageDelivery", true),
                        ("TopicArn", .ref(id)),
                    ])
                // The queue admits this topic only.
                t.resource(
                    LogicalID.make("QueuePolicy", "\(queue) from \(topic.name)"), "AWS::SQS::QueuePolicy",
                    [
                        ("Queues", .list([.ref(LogicalID.queue(queue))])),
                        (
                            "PolicyDocument",
                            policies.document([
                                .map([
                                    ("Sid", "AllowTopic"), ("Effect", "Allow"), ("Principal", .map([("Service", "sns.amazonaws.com")])),
                                    ("Action", .list(["sqs:SendMessage"])), ("Resource", .list([.getAtt(LogicalID.queue(queue), "Arn")])),
                                    ("Condition", .map([("ArnEquals", .map([("aws:SourceArn", .ref(id))]))])),
                                ])
                            ])
                        ),
                    ])
            }
        }
        var secrets = messaging.secrets
        if let warehouse = t.spec.warehouse, !secrets.contains(where: { $0.name == warehouse.credentialsSecret }) {
            secrets.append(
                Secret(name: warehouse.credentialsSecret, description: "Credentials of warehouse \(warehouse.name)", generatedFor: "sluice_admin"))
        }
        // Each writer role that logs in with a password has its own: the pipelines never use the admin's.
        let logins = Set(t.spec.pipelines.compactMap { t.spec.warehouseLogin(forWorkload: $0.workload) })
        for login in logins.sorted(by: { $0.role < $1.role }) {
            guard let name = login.secret, !secrets.contains(where: { $0.name == name }) else { continue }
            secrets.append(Secret(name: name, description: "Login of database role \(login.role)", generatedFor: login.role))
        }
        // An API's credential is the API's to issue: the secret is created empty, and filled once by
        // whoever holds the token (put-secret-value); a generated password would only look like one.
        let apiCredentials = Set(t.spec.pipelines.compactMap(\.source.api?.auth?.secret))
        for secret in secrets {
            // Generated here, never written in the spec or the template.
            let username = secret.generatedFor ?? "sluice"
            let generated: [(String, TemplateValue)] =
                apiCredentials.contains(secret.name) && secret.generatedFor == nil
                ? []
                : [
                    (
                        "GenerateSecretString",
                        .map([
                            ("ExcludeCharacters", "\"@/\\' "),
                            ("GenerateStringKey", "password"),
                            ("PasswordLength", 32),
                            ("SecretStringTemplate", .string("{\"username\":\"\(username)\"}")),
                        ])
                    )
                ]
            t.resource(
                LogicalID.secret(secret.name), "AWS::SecretsManager::Secret",
                [("Description", .string(secret.description ?? "\(secret.name) (\(t.spec.project.name))"))] + generated + [
                    ("KmsKeyId", .ref(KeyRenderer.id)),
                    ("Tags", t.tags(secret.name)),
                ], attributes: [("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain")])  // credentials outlive a stack that keeps snapshots
        }
        // The HMAC key of `mask: hash` columns: 64 random letters and digits, read by the functions
        // that hash. Kept with the data: a new key would make every hash a new value.
        if let name = t.spec.maskKeySecret {
            t.resource(
                LogicalID.secret(name), "AWS::SecretsManager::Secret",
                [
                    ("Description", .string("Key of the masked (hashed) columns (\(t.spec.project.name))")),
                    ("GenerateSecretString", .map([("ExcludePunctuation", true), ("PasswordLength", 64)])),
                    ("KmsKeyId", .ref(KeyRenderer.id)),
                    ("Tags", t.tags(name)),
                ], attributes: [("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain")])
        }
    }
}
