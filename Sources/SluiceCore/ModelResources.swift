// MARK: - Identity

/// What an IAM statement's Resource names. Typed so that least-privilege checks and the
/// CloudFormation renderer both know exactly which spec object is meant.
public enum IAMResource: Hashable, Sendable, CustomStringConvertible {
    case bucket(String)
    /// Objects under a prefix of a bucket (`""` for the whole bucket).
    case bucketObjects(String, prefix: String)
    case secret(String)
    case logGroup(function: String)
    case dynamoTable(String)
    case topic(String)
    case queue(String)
    /// The warehouse's database user ROLE, for `rds-db:connect` (IAM database authentication).
    case databaseUser(String)
    /// A literal ARN written in the spec.
    case arn(String)
    /// `*`: allowed only for actions that support no resource-level permissions.
    case any

    public var description: String {
        switch self {
        case .bucket(let b): return "bucket '\(b)'"
        case .bucketObjects(let b, let p): return p.isEmpty ? "objects of bucket '\(b)'" : "objects under '\(p)' of bucket '\(b)'"
        case .secret(let s): return "secret '\(s)'"
        case .logGroup(let f): return "log group of function '\(f)'"
        case .dynamoTable(let t): return "DynamoDB table '\(t)'"
        case .topic(let t): return "topic '\(t)'"
        case .queue(let q): return "queue '\(q)'"
        case .databaseUser(let role): return "database user '\(role)'"
        case .arn(let a): return a
        case .any: return "*"
        }
    }
}

public struct PolicyStatement: Hashable, Sendable {
    public var sid: String?
    public var effect: RuleAction
    public var actions: [String]
    public var resources: [IAMResource]
    /// Condition operator -> key -> values, e.g. StringLike / s3:prefix / ["events/*"].
    public var conditions: [String: [String: [String]]]
    public var location: SourceLocation
    public init(
        sid: String? = nil, effect: RuleAction = .allow, actions: [String], resources: [IAMResource],
        conditions: [String: [String: [String]]] = [:], location: SourceLocation = .unknown
    ) {
        self.sid = sid
        self.effect = effect
        self.actions = actions
        self.resources = resources
        self.conditions = conditions
        self.location = location
    }
}

/// A role for one workload: statements derived from what it touches, plus explicit ones.
public struct Role: Named {
    public var name: String
    /// The function or host that assumes it.
    public var workload: String
    public var service: String
    public var statements: [PolicyStatement]
    public var location: SourceLocation
    public init(
        name: String, workload: String, service: String, statements: [PolicyStatement],
        location: SourceLocation = .unknown
    ) {
        self.name = name
        self.workload = workload
        self.service = service
        self.statements = statements
        self.location = location
    }
}

public struct Identity: Sendable {
    public var roles: [Role]
    public init(roles: [Role] = []) { self.roles = roles }
    public func role(for workload: String) -> Role? { roles.first { $0.workload == workload } }
}

// MARK: - Storage

public enum Encryption: Hashable, Sendable {
    case none
    case s3Managed
    case kms(keyARN: String?)
}

public struct LifecycleRule: Hashable, Sendable {
    public var id: String
    public var prefix: String
    public var transitions: [(days: Int, storageClass: String)]
    public var expireDays: Int?
    public var noncurrentExpireDays: Int?
    public var location: SourceLocation
    public init(
        id: String, prefix: String, transitions: [(days: Int, storageClass: String)] = [], expireDays: Int? = nil,
        noncurrentExpireDays: Int? = nil, location: SourceLocation = .unknown
    ) {
        self.id = id
        self.prefix = prefix
        self.transitions = transitions
        self.expireDays = expireDays
        self.noncurrentExpireDays = noncurrentExpireDays
        self.location = location
    }
    public static func == (a: LifecycleRule, b: LifecycleRule) -> Bool {
        a.id == b.id && a.prefix == b.prefix && a.expireDays == b.expireDays && a.noncurrentExpireDays == b.noncurrentExpireDays
            && a.transitions.map(\.days) == b.transitions.map(\.days)
            && a.transitions.map(\.storageClass) == b.transitions.map(\.storageClass)
    }
    public func hash(into h: inout Hasher) { h.combine(id); h.combine(prefix) }
}

public enum NotificationTarget: Hashable, Sendable {
    case function(String), queue(String), topic(String)
}

public struct BucketNotification: Hashable, Sendable {
    public var events: [String]
    public var prefix: String?
    public var suffix: String?
    public var target: NotificationTarget
    public var location: SourceLocation
    public init(
        events: [String], prefix: String? = nil, suffix: String? = nil, target: NotificationTarget,
        location: SourceLocation = .unknown
    ) {
        self.events = events
        self.prefix = prefix
        self.suffix = suffix
        self.target = target
        self.location = location
    }
}

public struct Bucket: Named {
    public var name: String
    /// The role of the bucket in the design: raw, quarantine, results, …; free text.
    public var purpose: String?
    public var prefixes: [String]
    public var encryption: Encryption
    public var versioning: Bool
    public var blockPublicAccess: Bool
    public var lifecycle: [LifecycleRule]
    public var notifications: [BucketNotification]
    public var location: SourceLocation
    public init(
        name: String, purpose: String? = nil, prefixes: [String] = [], encryption: Encryption = .s3Managed,
        versioning: Bool = true, blockPublicAccess: Bool = true, lifecycle: [LifecycleRule] = [],
        notifications: [BucketNotification] = [], location: SourceLocation = .unknown
    ) {
        self.name = name
        self.purpose = purpose
        self.prefixes = prefixes
        self.encryption = encryption
        self.versioning = versioning
        self.blockPublicAccess = blockPublicAccess
        self.lifecycle = lifecycle
        self.notifications = notifications
        self.location = location
    }
}

public struct DynamoTable: Named {
    public var name: String
    public var partitionKey: (name: String, type: String)
    public var sortKey: (name: String, type: String)?
    public var ttlAttribute: String?
    public var location: SourceLocation
    public init(
        name: String, partitionKey: (name: String, type: String), sortKey: (name: String, type: String)? = nil,
        ttlAttribute: String? = nil, location: SourceLocation = .unknown
    ) {
        self.name = name
        self.partitionKey = partitionKey
        self.sortKey = sortKey
        self.ttlAttribute = ttlAttribute
        self.location = location
    }
}

public struct Storage: Sendable {
    public var buckets: [Bucket]
    public var dynamoTables: [DynamoTable]
    public init(buckets: [Bucket] = [], dynamoTables: [DynamoTable] = []) {
        self.buckets = buckets
        self.dynamoTables = dynamoTables
    }
    public func bucket(_ name: String) -> Bucket? { buckets.first { $0.name == name } }
}

// MARK: - Messaging and secrets

public struct Topic: Named {
    public var name: String
    public var emailSubscribers: [String]
    /// Queues of the spec subscribed to the topic (SNS fan-out to SQS).
    public var queueSubscribers: [String]
    public var location: SourceLocation
    public init(name: String, emailSubscribers: [String] = [], queueSubscribers: [String] = [], location: SourceLocation = .unknown) {
        self.name = name
        self.emailSubscribers = emailSubscribers
        self.queueSubscribers = queueSubscribers
        self.location = location
    }
}

public struct Queue: Named {
    public var name: String
    public var visibilityTimeout: Int
    public var retentionSeconds: Int
    /// Another queue of the spec that receives messages after `maxReceiveCount` failures.
    public var deadLetter: (queue: String, maxReceiveCount: Int)?
    public var location: SourceLocation
    public init(
        name: String, visibilityTimeout: Int = 30, retentionSeconds: Int = 345_600,
        deadLetter: (queue: String, maxReceiveCount: Int)? = nil, location: SourceLocation = .unknown
    ) {
        self.name = name
        self.visibilityTimeout = visibilityTimeout
        self.retentionSeconds = retentionSeconds
        self.deadLetter = deadLetter
        self.location = location
    }
}

/// A Secrets Manager secret. Database credentials are generated by AWS, never written in a spec.
public struct Secret: Named {
    public var name: String
    public var description: String?
    /// The user name to generate a password for, for database credentials.
    public var generatedFor: String?
    public var location: SourceLocation
    public init(name: String, description: String? = nil, generatedFor: String? = nil, location: SourceLocation = .unknown) {
        self.name = name
        self.description = description
        self.generatedFor = generatedFor
        self.location = location
    }
}

public struct Messaging: Sendable {
    public var topics: [Topic]
    public var queues: [Queue]
    public var secrets: [Secret]
    public init(topics: [Topic] = [], queues: [Queue] = [], secrets: [Secret] = []) {
        self.topics = topics
        self.queues = queues
        self.secrets = secrets
    }
}

// MARK: - Compute

/// What a workload touches besides its pipeline; drives its derived IAM role.
public struct Uses: Hashable, Sendable {
    public var readBuckets: [String] = []
    public var writeBuckets: [String] = []
    public var dynamoTables: [String] = []
    public var topics: [String] = []
    public var queues: [String] = []
    public var secrets: [String] = []
    public init(
        readBuckets: [String] = [], writeBuckets: [String] = [], dynamoTables: [String] = [], topics: [String] = [],
        queues: [String] = [], secrets: [String] = []
    ) {
        self.readBuckets = readBuckets
        self.writeBuckets = writeBuckets
        self.dynamoTables = dynamoTables
        self.topics = topics
        self.queues = queues
        self.secrets = secrets
    }
}

public struct Function: Named {
    public var name: String
    public var runtime: String
    public var handler: String
    public var architecture: String
    public var memoryMB: Int
    public var timeoutSeconds: Int
    public var reservedConcurrency: Int?
    public var subnets: [String]
    public var securityGroups: [String]
    /// Sorted by key for deterministic output.
    public var environment: [(key: String, value: String)]
    public var uses: Uses
    public var deadLetterQueue: String?
    public var logRetentionDays: Int
    public var location: SourceLocation
    public init(
        name: String, runtime: String, handler: String, architecture: String = "arm64", memoryMB: Int = 1024,
        timeoutSeconds: Int = 300, reservedConcurrency: Int? = nil, subnets: [String], securityGroups: [String],
        environment: [(key: String, value: String)] = [], uses: Uses = .init(), deadLetterQueue: String? = nil,
        logRetentionDays: Int = 30, location: SourceLocation = .unknown
    ) {
        self.name = name
        self.runtime = runtime
        self.handler = handler
        self.architecture = architecture
        self.memoryMB = memoryMB
        self.timeoutSeconds = timeoutSeconds
        self.reservedConcurrency = reservedConcurrency
        self.subnets = subnets
        self.securityGroups = securityGroups
        self.environment = environment
        self.uses = uses
        self.deadLetterQueue = deadLetterQueue
        self.logRetentionDays = logRetentionDays
        self.location = location
    }
}

public struct Host: Named {
    public var name: String
    /// warehouse, dashboard, proxy, oltp, …; free text used in diagrams.
    public var purpose: String?
    public var instanceType: String
    public var subnet: String
    public var securityGroups: [String]
    public var publicIP: Bool
    public var uses: Uses
    public var location: SourceLocation
    public init(
        name: String, purpose: String? = nil, instanceType: String, subnet: String, securityGroups: [String],
        publicIP: Bool = false, uses: Uses = .init(), location: SourceLocation = .unknown
    ) {
        self.name = name
        self.purpose = purpose
        self.instanceType = instanceType
        self.subnet = subnet
        self.securityGroups = securityGroups
        self.publicIP = publicIP
        self.uses = uses
        self.location = location
    }
}

extension Host {
    /// Graviton types carry a `g` after the generation digit: t4g, r6g, m7gd, c7gn. The host's image
    /// is chosen by it, so an environment may change a host's size but not this.
    public static func isGraviton(_ instanceType: String) -> Bool {
        let family = instanceType.split(separator: ".").first.map(String.init) ?? instanceType
        guard let digit = family.firstIndex(where: \.isNumber) else { return false }
        return family[family.index(after: digit)...].hasPrefix("g")
    }
}

public struct Compute: Sendable {
    public var functions: [Function]
    public var hosts: [Host]
    public init(functions: [Function] = [], hosts: [Host] = []) {
        self.functions = functions
        self.hosts = hosts
    }
    public func function(_ name: String) -> Function? { functions.first { $0.name == name } }
    public func host(_ name: String) -> Host? { hosts.first { $0.name == name } }
}

// MARK: - Suppressions

/// A finding the team accepted, with the reason written down. Output lists every one.
public struct Suppression: Sendable {
    public var rule: String
    /// `kind:name` of the subject (e.g. `security_group:proxy`); nil matches every finding of the rule.
    public var subject: String?
    public var reason: String
    public var location: SourceLocation
    public init(rule: String, subject: String? = nil, reason: String, location: SourceLocation = .unknown) {
        self.rule = rule
        self.subject = subject
        self.reason = reason
        self.location = location
    }
}

extension Suppression {
    /// A suppression of a policy scanner's check (checkov's `CKV_AWS_18`) rather than of a Sluice
    /// rule: the renderer writes it into the flagged resource's Metadata, with the reason.
    public var isForScanner: Bool {
        (rule.hasPrefix("CKV_AWS_") || rule.hasPrefix("CKV2_AWS_")) && rule.split(separator: "_").last.map { Int($0) != nil } == true
    }
}
