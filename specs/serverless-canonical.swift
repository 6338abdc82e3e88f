// The serverless-canonical spec in Swift, as `sluice export --swift specs/serverless-canonical.yaml` writes it:
// the twin of serverless-canonical.yaml, generating byte-identical generated/serverless-canonical/.
import SluiceDSL

let spec = Spec {
    Project(
        "canonical",
        region: "us-east-1",
        account: "210987654321",
        tags: ["data-classification": "confidential", "team": "integration"]
    )

    VPC(cidr: "10.20.0.0/16") {
        Subnet("app-a", cidr: "10.20.1.0/24", az: "a", type: .isolated)
        Subnet("app-b", cidr: "10.20.2.0/24", az: "b", type: .isolated)
        Subnet("db-a", cidr: "10.20.11.0/24", az: "a", type: .isolated)
        Subnet("db-b", cidr: "10.20.12.0/24", az: "b", type: .isolated)
        GatewayEndpoint("s3", service: .s3)
        GatewayEndpoint("dynamodb", service: .dynamodb)
        InterfaceEndpoint(
            "secretsmanager",
            service: .secretsManager,
            subnets: ["app-a", "app-b"],
            securityGroups: ["endpoints"]
        )
        InterfaceEndpoint("sns", service: .sns, subnets: ["app-a", "app-b"], securityGroups: ["endpoints"])
        SecurityGroup("loader", description: "canonical loader function") {
            Egress(.https, to: .prefixList("s3"), description: "exports from S3")
            Egress(.https, to: .prefixList("dynamodb"), description: "job tracking and cache")
            Egress(.https, to: "endpoints", description: "Secrets Manager and SNS endpoints")
            Egress(.postgres, to: "database", description: "canonical upserts")
        }
        SecurityGroup("database", description: "RDS PostgreSQL", outbound: .none) {
            Ingress(.postgres, from: "loader", description: "canonical upserts")
        }
        SecurityGroup("endpoints", description: "interface endpoints", outbound: .none) {
            Ingress(.https, from: "loader", description: "HTTPS from the loader")
        }
    }

    Bucket(
        "exports",
        purpose: "raw CRM and ERP exports",
        prefixes: ["crm/", "erp/"],
        encryption: .sseKMS,
        lifecycle: [
            LifecycleRule(
                "archive-exports",
                transitions: [(days: 30, storageClass: .standardIA), (days: 180, storageClass: .glacierIR)],
                noncurrentExpireDays: 30
            ),
        ],
        notifications: [
            BucketNotification(.function("loader"), events: ["s3:ObjectCreated:*"], prefix: "crm/"),
            BucketNotification(.function("loader"), events: ["s3:ObjectCreated:*"], prefix: "erp/"),
        ]
    )
    DynamoDBTable("jobs", partitionKey: "job_id", .string, ttlAttribute: "expires_at")
    DynamoDBTable("lookup-cache", partitionKey: "cache_key", .string, ttlAttribute: "expires_at")

    Topic("load-notifications", email: ["integration-oncall@example.com"])
    Queue("loader-dlq", retentionSeconds: 1209600)
    Secret("canonical-db", description: "RDS master credentials", generateFor: "canonical_admin")

    Function(
        "loader",
        memory: 2048,
        timeout: 600,
        reservedConcurrency: 4,
        subnets: ["app-a", "app-b"],
        securityGroups: ["loader"],
        environment: ["CACHE_TABLE": "lookup-cache", "JOBS_TABLE": "jobs"],
        uses: Uses(dynamoDBTables: ["jobs", "lookup-cache"], topics: ["load-notifications"]),
        deadLetterQueue: "loader-dlq"
    )

    Warehouse(
        "canonical",
        engine: .rds(instanceClass: "db.t4g.large"),
        subnets: ["db-a", "db-b"],
        securityGroups: ["database"],
        database: "canonical",
        credentialsSecret: "canonical-db",
        clients: ["loader"],
        schemas: ["canonical"]
    ) {
        Table("customers", description: "one row per customer across CRM and ERP") {
            Column("customer_id", .text, primaryKey: true)
            Column("source_system", .text, notNull: true)
            Column("display_name", .text, notNull: true)
            Column("email_hash", .text)
            Column("country", .char(2))
            Column("attributes", .jsonb, notNull: true, default: "'{}'::jsonb")
            Column("version", .bigint, notNull: true)
            Column("created_at", .timestamptz, notNull: true, default: "now()")
            Column("updated_at", .timestamptz, notNull: true, default: "now()")
            Check("source_system_known", "source_system IN ('crm', 'erp')")
            Index(["attributes"], method: .gin)
        }
        Table("orders") {
            Column("order_id", .text, primaryKey: true)
            Column("customer_id", .text, notNull: true, references: "customers.customer_id")
            Column("status", .text, notNull: true)
            Column("total", .numeric(14, 2), notNull: true)
            Column("currency", .char(3), notNull: true)
            Column("ordered_at", .timestamptz, notNull: true)
            Column("attributes", .jsonb, notNull: true, default: "'{}'::jsonb")
            Column("version", .bigint, notNull: true)
            Column("created_at", .timestamptz, notNull: true, default: "now()")
            Column("updated_at", .timestamptz, notNull: true, default: "now()")
            Index(["customer_id"])
            Index(["ordered_at"], method: .brin)
        }
        DatabaseRole(
            "loader_writer",
            grants: [
                Grant([.select, .insert, .update], on: ["canonical.customers", "canonical.orders"]),
            ]
        )
    }

    Pipeline("crm-customers", workload: "loader", schedule: .rate(1, .hours)) {
        BucketSource("exports", prefix: "crm/{yyyy}/{MM}/{dd}/", format: .jsonArray)
        Field("id", .string, required: true)
        Field("name", .string, required: true)
        Field("email", .email)
        Field("country", .string, pattern: "^[A-Z]{2}$")
        Field("revision", .integer, required: true)
        DedupeKey("id", "revision")
        Target("customers", mode: .versionedUpsert(key: ["customer_id"], versionColumn: "version")) {
            Assign("customer_id", "id", transform: [.trim])
            Assign("source_system", .constant("crm"))
            Assign("display_name", "name", transform: [.trim])
            Assign("email_hash", "email", transform: [.trim, .lower], mask: .hash)
            Assign("country", "country")
            Assign("attributes", .record)
            Assign("version", "revision")
        }
        Alarms(topic: "load-notifications")
    }

    Pipeline("erp-orders", workload: "loader", schedule: .rate(15, .minutes)) {
        BucketSource("exports", prefix: "erp/{yyyy}/{MM}/{dd}/{HH}/", format: .jsonl, compression: .gzip)
        Field("order_no", .string, required: true)
        Field("customer_ref", .string, required: true)
        Field("status", .string, required: true, allowed: ["open", "paid", "shipped", "cancelled"])
        Field("amount", .number, required: true)
        Field("currency", .string, required: true, pattern: "^[A-Z]{3}$")
        Field("ordered", .timestamp, required: true)
        Field("seq", .integer, required: true)
        DedupeKey("order_no", "seq")
        Target("orders", mode: .versionedUpsert(key: ["order_id"], versionColumn: "version")) {
            Assign("order_id", "order_no")
            Assign("customer_id", "customer_ref")
            Assign("status", "status", transform: [.lower])
            Assign("total", "amount")
            Assign("currency", "currency")
            Assign("ordered_at", "ordered")
            Assign("attributes", .record)
            Assign("version", "seq")
        }
        Alarms(topic: "load-notifications")
    }

    Suppression(
        "CKV_AWS_18",
        subject: "bucket:exports",
        reason: "Object-level access is recorded by the organisation's CloudTrail S3 data events; server access logs would copy the same into yet another bucket."
    )
}
