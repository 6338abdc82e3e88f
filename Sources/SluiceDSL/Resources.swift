// Storage, messaging and compute: what the workloads run on and touch.

public enum BucketEncryption: String, Sendable {
    case sseS3 = "sse-s3"
    case sseKMS = "sse-kms"
    /// No encryption at all: finding SL402. (Not `.none`, which Swift would read as "not given".)
    case unencrypted = "none"
}

public enum StorageClass: String, Sendable {
    case standardIA = "STANDARD_IA", oneZoneIA = "ONEZONE_IA", intelligentTiering = "INTELLIGENT_TIERING"
    case glacierIR = "GLACIER_IR", glacier = "GLACIER", deepArchive = "DEEP_ARCHIVE"
}

/// A lifecycle rule: transitions after so many days, expiry, expiry of noncurrent versions.
public struct LifecycleRule: Sendable {
    let node: SpecNode

    public init(
        _ id: String? = nil, prefix: String? = nil, transitions: [(days: Int, storageClass: StorageClass)] = [],
        expireDays: Int? = nil, noncurrentExpireDays: Int? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        node = .mapping(
            at,
            [
                ("id", at.string(id)), ("prefix", at.string(prefix)),
                (
                    "transitions",
                    transitions.isEmpty
                        ? nil
                        : .list(
                            transitions.map {
                                .mapping(at, [("days", at.int($0.days)), ("storage_class", at.word($0.storageClass))])
                            }, at: at)
                ),
                ("expire_days", at.int(expireDays)), ("noncurrent_expire_days", at.int(noncurrentExpireDays)),
            ])
    }
}

/// Where a bucket notification goes.
public enum NotificationTarget: Sendable {
    case function(String), queue(String), topic(String)

    var pair: (String, String) {
        switch self {
        case .function(let name): return ("function", name)
        case .queue(let name): return ("queue", name)
        case .topic(let name): return ("topic", name)
        }
    }
}

public struct BucketNotification: Sendable {
    let node: SpecNode

    /// No `events` means `s3:ObjectCreated:*`.
    public init(
        _ target: NotificationTarget, events: [String]? = nil, prefix: String? = nil, suffix: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        node = .mapping(
            at,
            [
                ("events", at.strings(events)), ("prefix", at.string(prefix)), ("suffix", at.string(suffix)),
                (target.pair.0, at.string(target.pair.1)),
            ])
    }
}

/// `storage.buckets`: encrypted, versioned and private unless said otherwise (and then flagged).
public struct Bucket: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, purpose: String? = nil, prefixes: [String]? = nil, encryption: BucketEncryption? = nil,
        kmsKey: String? = nil, versioning: Bool? = nil, blockPublicAccess: Bool? = nil,
        lifecycle: [LifecycleRule] = [], notifications: [BucketNotification] = [],
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "storage", "buckets",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("purpose", at.string(purpose)), ("prefixes", at.strings(prefixes)),
                        ("encryption", at.word(encryption)), ("kms_key", at.string(kmsKey)), ("versioning", at.bool(versioning)),
                        ("block_public_access", at.bool(blockPublicAccess)),
                        ("lifecycle", lifecycle.isEmpty ? nil : .list(lifecycle.map(\.node), at: at)),
                        ("notifications", notifications.isEmpty ? nil : .list(notifications.map(\.node), at: at)),
                    ]))
        ]
    }
}

public enum DynamoKeyType: String, Sendable { case string = "S", number = "N", binary = "B" }

/// `storage.dynamodb_tables`.
public struct DynamoDBTable: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, partitionKey: String, _ partitionType: DynamoKeyType? = nil,
        sortKey: String? = nil, _ sortType: DynamoKeyType? = nil, ttlAttribute: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "storage", "dynamodb_tables",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)),
                        ("partition_key", .mapping(at, [("name", at.string(partitionKey)), ("type", at.word(partitionType))])),
                        ("sort_key", sortKey.map { .mapping(at, [("name", at.string($0)), ("type", at.word(sortType))]) }),
                        ("ttl_attribute", at.string(ttlAttribute)),
                    ]))
        ]
    }
}

/// `messaging.topics`: e-mail and SQS subscribers.
public struct Topic: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, email: [String]? = nil, queues: [String]? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "messaging", "topics",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("email", at.strings(email)), ("queues", at.strings(queues)),
                    ]))
        ]
    }
}

/// `messaging.queues`, with an optional redrive to a dead-letter queue.
public struct Queue: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, visibilityTimeout: Int? = nil, retentionSeconds: Int? = nil,
        deadLetter: String? = nil, maxReceiveCount: Int? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "messaging", "queues",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("visibility_timeout", at.int(visibilityTimeout)), ("retention_seconds", at.int(retentionSeconds)),
                        ("dead_letter", deadLetter.map { .mapping(at, [("queue", at.string($0)), ("max_receive_count", at.int(maxReceiveCount))]) }),
                    ]))
        ]
    }
}

/// `messaging.secrets`. There is no way to write a secret's value: Secrets Manager generates it.
public struct Secret: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, description: String? = nil, generateFor user: String? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "messaging", "secrets",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("description", at.string(description)), ("generate_for", at.string(user)),
                    ]))
        ]
    }
}

/// What a workload touches besides its pipelines; it drives the derived role and SL212.
public struct Uses: Sendable {
    let readBuckets, writeBuckets, dynamoDBTables, topics, queues, secrets: [String]

    public init(
        readBuckets: [String] = [], writeBuckets: [String] = [], dynamoDBTables: [String] = [],
        topics: [String] = [], queues: [String] = [], secrets: [String] = []
    ) {
        self.readBuckets = readBuckets
        self.writeBuckets = writeBuckets
        self.dynamoDBTables = dynamoDBTables
        self.topics = topics
        self.queues = queues
        self.secrets = secrets
    }

    func node(_ at: DeclarationSite) -> SpecNode {
        .mapping(
            at,
            [
                ("read_buckets", at.nonEmpty(readBuckets)), ("write_buckets", at.nonEmpty(writeBuckets)),
                ("dynamodb_tables", at.nonEmpty(dynamoDBTables)), ("topics", at.nonEmpty(topics)), ("queues", at.nonEmpty(queues)),
                ("secrets", at.nonEmpty(secrets)),
            ])
    }
}

public enum Architecture: String, Sendable { case arm64, x86_64 }

/// A Lambda runtime identifier. Any works; the common ones are spelled out.
public struct LambdaRuntime: RawRepresentable, ExpressibleByStringLiteral, Sendable, Hashable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public static let providedAL2023: LambdaRuntime = "provided.al2023"
    public static let python312: LambdaRuntime = "python3.12"
    public static let python313: LambdaRuntime = "python3.13"
    public static let nodejs22: LambdaRuntime = "nodejs22.x"
    public static let java21: LambdaRuntime = "java21"
}

/// `compute.functions`: a Lambda function in the VPC.
public struct Function: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, runtime: LambdaRuntime? = nil, handler: String? = nil, architecture: Architecture? = nil,
        memory: Int? = nil, timeout: Int? = nil, reservedConcurrency: Int? = nil,
        subnets: [String], securityGroups: [String], environment: [String: String]? = nil, uses: Uses? = nil,
        deadLetterQueue: String? = nil, logRetentionDays: Int? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "compute", "functions",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("runtime", at.string(runtime?.rawValue)), ("handler", at.string(handler)),
                        ("architecture", at.word(architecture)), ("memory", at.int(memory)), ("timeout", at.int(timeout)),
                        ("reserved_concurrency", at.int(reservedConcurrency)), ("subnets", at.strings(subnets)),
                        ("security_groups", at.strings(securityGroups)), ("environment", at.stringMap(environment)), ("uses", uses?.node(at)),
                        ("dead_letter_queue", at.string(deadLetterQueue)), ("log_retention_days", at.int(logRetentionDays)),
                    ]))
        ]
    }
}

/// `compute.hosts`: an EC2 instance.
public struct Host: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, purpose: String? = nil, instanceType: String, subnet: String, securityGroups: [String],
        publicIP: Bool? = nil, uses: Uses? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "compute", "hosts",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("purpose", at.string(purpose)), ("instance_type", at.string(instanceType)),
                        ("subnet", at.string(subnet)), ("security_groups", at.strings(securityGroups)), ("public_ip", at.bool(publicIP)),
                        ("uses", uses?.node(at)),
                    ]))
        ]
    }
}
