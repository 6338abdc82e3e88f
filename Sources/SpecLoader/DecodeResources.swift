import SluiceCore
import YAML

extension SpecDecoder {
    // MARK: Identity

    func decodeIdentity(_ node: YAMLNode) -> [(name: String, workload: Located<String>, statements: [PolicyStatement])] {
        guard let r = MapReader(node, SpecSchema.identity, sink: sink) else { return [] }
        return r.list("roles").compactMap { node in
            guard let role = MapReader(node, SpecSchema.role, sink: sink) else { return nil }
            let name = self.name(role, kind: "role")
            let workload = role.string("workload", required: true)
            if let workload { refer("workload", workload, at: role.location(of: "workload")) }
            let statements = role.list("statements").compactMap(decodeStatement)
            guard let name, let workload else { return nil }
            return (name.value, Located(value: workload, location: role.location(of: "workload")), statements)
        }
    }

    func decodeStatement(_ node: YAMLNode) -> PolicyStatement? {
        guard
            let r = MapReader(node, SpecSchema.policyStatement, sink: sink)
        else { return nil }
        let effect = r.word("effect", as: RuleAction.self) ?? .allow
        let actions = r.strings("actions", required: true)
        for action in actions where !(action.value == "*" || Self.isIAMAction(action.value)) {
            sink.add(LoaderDiagnostics.invalid("'\(action.value)' is not an IAM action (service:Action, e.g. s3:GetObject)", at: action.location))
        }
        let resources = r.strings("resources", required: true).compactMap(decodeIAMResource)
        var conditions: [String: [String: [String]]] = [:]
        if let conditionNode = r.value("conditions") {
            for pair in conditionNode.mapping ?? [] {
                guard let op = pair.key.scalar, let inner = pair.value.mapping else {
                    sink.add(LoaderDiagnostics.wrongType(expected: "operator: {key: values}", found: pair.value, at: pair.value.location))
                    continue
                }
                for entry in inner {
                    guard let key = entry.key.scalar else { continue }
                    conditions[op, default: [:]][key] = Self.strings(entry.value, key: key, sink: sink).map(\.value)
                }
            }
        }
        return PolicyStatement(
            sid: r.string("sid"), effect: effect, actions: actions.map(\.value), resources: resources,
            conditions: conditions, location: r.location)
    }

    static func isIAMAction(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && parts[0].allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "*") }
    }

    /// `bucket:raw`, `bucket:raw/events/*`, `secret:x`, `table:x`, `topic:x`, `queue:x`, an ARN, or `*`.
    private func decodeIAMResource(_ item: Located<String>) -> IAMResource? {
        let text = item.value
        if text == "*" { return .any }
        if text.hasPrefix("arn:") { return .arn(text) }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            sink.add(
                LoaderDiagnostics.invalid(
                    "'\(text)' is not a resource: write an ARN, '*', or bucket:NAME[/prefix*], secret:NAME, table:NAME, topic:NAME, queue:NAME",
                    at: item.location))
            return nil
        }
        let (kind, rest) = (parts[0], parts[1])
        switch kind {
        case "bucket":
            let bucketParts = rest.split(separator: "/", maxSplits: 1).map(String.init)
            refer("bucket", bucketParts[0], at: item.location)
            if bucketParts.count == 2 {
                let prefix = bucketParts[1].hasSuffix("*") ? String(bucketParts[1].dropLast()) : bucketParts[1]
                return .bucketObjects(bucketParts[0], prefix: prefix)
            }
            return .bucket(bucketParts[0])
        case "secret": refer("secret", rest, at: item.location); return .secret(rest)
        case "table": refer("DynamoDB table", rest, at: item.location); return .dynamoTable(rest)
        case "topic": refer("topic", rest, at: item.location); return .topic(rest)
        case "queue": refer("queue", rest, at: item.location); return .queue(rest)
        default:
            sink.add(
                LoaderDiagnostics.badWord(
                    kind, for: "resource kind", allowed: ["bucket", "secret", "table", "topic", "queue"],
                    at: item.location))
            return nil
        }
    }

    // MARK: Storage

    func decodeStorage(_ node: YAMLNode) -> Storage {
        guard let r = MapReader(node, SpecSchema.storage, sink: sink) else { return Storage() }
        return Storage(buckets: r.list("buckets").compactMap(decodeBucket), dynamoTables: r.list("dynamodb_tables").compactMap(decodeDynamoTable))
    }

    private func decodeBucket(_ node: YAMLNode) -> Bucket? {
        guard
            let r = MapReader(node, SpecSchema.bucket, sink: sink)
        else { return nil }
        let name = self.name(r, kind: "bucket")
        var encryption = Encryption.s3Managed
        switch r.word("encryption") {
        case nil, "sse-s3"?: encryption = .s3Managed
        case "sse-kms"?: encryption = .kms(keyARN: r.string("kms_key"))
        case "none"?: encryption = .none
        default: break
        }
        let lifecycle = r.list("lifecycle").enumerated().compactMap { decodeLifecycle($1, index: $0) }
        let notifications = r.list("notifications").compactMap(decodeNotification)
        guard let name else { return nil }
        return Bucket(
            name: name.value, purpose: r.string("purpose"), prefixes: r.strings("prefixes").map(\.value), encryption: encryption,
            versioning: r.bool("versioning") ?? true, blockPublicAccess: r.bool("block_public_access") ?? true,
            lifecycle: lifecycle, notifications: notifications, location: r.location)
    }

    private func decodeLifecycle(_ node: YAMLNode, index: Int) -> LifecycleRule? {
        guard
            let r = MapReader(node, SpecSchema.lifecycleRule, sink: sink)
        else { return nil }
        let transitions: [(days: Int, storageClass: String)] = r.list("transitions").compactMap { node in
            guard let t = MapReader(node, SpecSchema.transition, sink: sink),
                let days = t.int("days", in: 0...36500, required: true),
                let storageClass = t.word("storage_class", required: true)
            else { return nil }
            return (days, storageClass)
        }
        return LifecycleRule(
            id: r.string("id") ?? "rule-\(index + 1)", prefix: r.string("prefix") ?? "", transitions: transitions,
            expireDays: r.int("expire_days", in: 1...36500), noncurrentExpireDays: r.int("noncurrent_expire_days", in: 1...36500),
            location: r.location)
    }

    private func decodeNotification(_ node: YAMLNode) -> BucketNotification? {
        let targets = SpecSchema.bucketNotification.exactlyOne
        guard let r = MapReader(node, SpecSchema.bucketNotification, sink: sink)
        else { return nil }
        let events = r.strings("events")
        for event in events where !event.value.hasPrefix("s3:") {
            sink.add(LoaderDiagnostics.invalid("'\(event.value)' is not an S3 event type (e.g. s3:ObjectCreated:*)", at: event.location))
        }
        let given = targets.filter(r.has)
        guard given.count == 1, let targetName = r.string(given[0]) else {
            sink.add(LoaderDiagnostics.invalid("a notification needs exactly one target: function, queue or topic", at: r.location))
            return nil
        }
        let target: NotificationTarget
        switch given[0] {
        case "function": refer("function", targetName, at: r.location(of: "function")); target = .function(targetName)
        case "queue": refer("queue", targetName, at: r.location(of: "queue")); target = .queue(targetName)
        default: refer("topic", targetName, at: r.location(of: "topic")); target = .topic(targetName)
        }
        return BucketNotification(
            events: events.isEmpty ? ["s3:ObjectCreated:*"] : events.map(\.value), prefix: r.string("prefix"),
            suffix: r.string("suffix"), target: target, location: r.location)
    }

    private func decodeDynamoTable(_ node: YAMLNode) -> DynamoTable? {
        guard let r = MapReader(node, SpecSchema.dynamoTable, sink: sink)
        else { return nil }
        let name = self.name(r, kind: "DynamoDB table")
        func key(_ k: String, required: Bool) -> (name: String, type: String)? {
            guard let node = r.value(k, required: required),
                let m = MapReader(node, SpecSchema.dynamoKey, context: k, sink: sink),
                let keyName = m.string("name", required: true)
            else { return nil }
            if m.has("type"), m.word("type") == nil { return nil }
            return (keyName, m.string("type") ?? "S")
        }
        let partition = key("partition_key", required: true)
        let sort = key("sort_key", required: false)
        guard let name, let partition else { return nil }
        return DynamoTable(name: name.value, partitionKey: partition, sortKey: sort, ttlAttribute: r.string("ttl_attribute"), location: r.location)
    }

    // MARK: Messaging

    func decodeMessaging(_ node: YAMLNode) -> Messaging {
        guard let r = MapReader(node, SpecSchema.messaging, sink: sink) else { return Messaging() }
        let topics: [Topic] = r.list("topics").compactMap { node in
            guard let t = MapReader(node, SpecSchema.topic, sink: sink), let name = self.name(t, kind: "topic")
            else { return nil }
            let emails = t.strings("email")
            for email in emails where !Self.looksLikeEmail(email.value) {
                sink.add(LoaderDiagnostics.invalid("'\(email.value)' is not an e-mail address", at: email.location))
            }
            let queues = t.strings("queues")
            refer("queue", queues)
            return Topic(name: name.value, emailSubscribers: emails.map(\.value), queueSubscribers: queues.map(\.value), location: t.location)
        }
        let queues: [Queue] = r.list("queues").compactMap { node in
            guard
                let q = MapReader(node, SpecSchema.queue, sink: sink), let name = self.name(q, kind: "queue")
            else { return nil }
            var deadLetter: (queue: String, maxReceiveCount: Int)?
            if let dl = q.value("dead_letter"), let d = MapReader(dl, SpecSchema.deadLetter, sink: sink),
                let target = d.string("queue", required: true)
            {
                refer("queue", target, at: d.location(of: "queue"))
                deadLetter = (target, d.int("max_receive_count", in: 1...1000) ?? 5)
            }
            return Queue(
                name: name.value, visibilityTimeout: q.int("visibility_timeout", in: 0...43200) ?? 30,
                retentionSeconds: q.int("retention_seconds", in: 60...1_209_600) ?? 345_600, deadLetter: deadLetter, location: q.location)
        }
        let secrets: [Secret] = r.list("secrets").compactMap { node in
            guard let s = MapReader(node, SpecSchema.secret, sink: sink),
                let name = self.name(s, kind: "secret")
            else { return nil }
            if s.contains("value") {
                sink.add(
                    LoaderDiagnostics.invalid(
                        "secrets are never written in a spec; use 'generate_for: USER' and let Secrets Manager generate the password",
                        at: s.keyLocation(of: "value")))
            }
            return Secret(name: name.value, description: s.string("description"), generatedFor: s.string("generate_for"), location: s.location)
        }
        return Messaging(topics: topics, queues: queues, secrets: secrets)
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@")
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(" ")
    }

    // MARK: Compute

    func decodeCompute(_ node: YAMLNode) -> Compute {
        guard let r = MapReader(node, SpecSchema.compute, sink: sink) else { return Compute() }
        return Compute(functions: r.list("functions").compactMap(decodeFunction), hosts: r.list("hosts").compactMap(decodeHost))
    }

    private func decodeUses(_ r: MapReader) -> Uses {
        guard let node = r.value("uses"),
            let u = MapReader(node, SpecSchema.uses, sink: sink)
        else { return Uses() }
        let read = u.strings("read_buckets"), write = u.strings("write_buckets"), tables = u.strings("dynamodb_tables")
        let topics = u.strings("topics"), queues = u.strings("queues"), secrets = u.strings("secrets")
        refer("bucket", read + write)
        refer("DynamoDB table", tables)
        refer("topic", topics)
        refer("queue", queues)
        refer("secret", secrets)
        return Uses(
            readBuckets: read.map(\.value), writeBuckets: write.map(\.value), dynamoTables: tables.map(\.value),
            topics: topics.map(\.value), queues: queues.map(\.value), secrets: secrets.map(\.value))
    }

    private func decodeFunction(_ node: YAMLNode) -> Function? {
        guard
            let r = MapReader(node, SpecSchema.function, sink: sink)
        else { return nil }
        let name = self.name(r, kind: "function")
        if let name { define("workload", name.value, at: name.location) }
        let subnets = r.strings("subnets", required: true)
        let groups = r.strings("security_groups", required: true)
        refer("subnet", subnets)
        refer("security group", groups)
        let architecture = r.word("architecture") ?? "arm64"
        let deadLetter = r.string("dead_letter_queue")
        if let deadLetter { refer("queue", deadLetter, at: r.location(of: "dead_letter_queue")) }
        let retention = logRetentionDays(r) ?? 30
        let environment = r.stringMap("environment").map { (key: $0.key, value: $0.value) }
        let uses = decodeUses(r)
        guard let name else { return nil }
        return Function(
            name: name.value, runtime: r.string("runtime") ?? "provided.al2023", handler: r.string("handler") ?? "bootstrap",
            architecture: architecture, memoryMB: r.int("memory", in: 128...10240) ?? 1024,
            timeoutSeconds: r.int("timeout", in: 1...900) ?? 300, reservedConcurrency: r.int("reserved_concurrency", in: 0...10000),
            subnets: subnets.map(\.value), securityGroups: groups.map(\.value), environment: environment, uses: uses,
            deadLetterQueue: deadLetter, logRetentionDays: retention, location: r.location)
    }

    private func decodeHost(_ node: YAMLNode) -> Host? {
        guard
            let r = MapReader(node, SpecSchema.host, sink: sink)
        else { return nil }
        let name = self.name(r, kind: "host")
        if let name { define("workload", name.value, at: name.location) }
        let subnet = r.string("subnet", required: true)
        if let subnet { refer("subnet", subnet, at: r.location(of: "subnet")) }
        let groups = r.strings("security_groups", required: true)
        refer("security group", groups)
        let instanceType = self.instanceType(r, required: true)
        let uses = decodeUses(r)
        guard let name, let subnet, let instanceType else { return nil }
        return Host(
            name: name.value, purpose: r.string("purpose"), instanceType: instanceType, subnet: subnet, securityGroups: groups.map(\.value),
            publicIP: r.bool("public_ip") ?? false, uses: uses, location: r.location)
    }

    /// `log_retention_days`: one of the periods CloudWatch Logs offers.
    func logRetentionDays(_ r: MapReader) -> Int? {
        guard let retention = r.int("log_retention_days", in: 1...3653) else { return nil }
        let allowedRetention = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
        if !allowedRetention.contains(retention) {
            sink.add(
                LoaderDiagnostics.invalid(
                    "CloudWatch Logs keeps logs for one of \(allowedRetention.map(String.init).joined(separator: ", ")) days, not \(retention)",
                    at: r.location(of: "log_retention_days")))
        }
        return retention
    }

    /// `instance_type`: `family.size`.
    func instanceType(_ r: MapReader, required: Bool = false) -> String? {
        let instanceType = r.string("instance_type", required: required)
        if let instanceType, !(instanceType.split(separator: ".").count == 2) {
            sink.add(
                LoaderDiagnostics.invalid(
                    "'\(instanceType)' is not an EC2 instance type (family.size, e.g. t3.medium)", at: r.location(of: "instance_type")))
        }
        return instanceType
    }
}
