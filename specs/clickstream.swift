// The clickstream spec in Swift: the twin of clickstream.yaml, generating byte-identical generated/clickstream/.
// `sluice check specs/clickstream.swift` compiles this file against SluiceDSL (cached) and checks the spec it
// declares; a finding points at the declaration's line here. docs/dsl.md describes the DSL.
//
// Raw clickstream JSON lands in S3; an ETL function in isolated subnets reads it through an S3 gateway endpoint
// (no NAT, no internet route) and loads a PostgreSQL warehouse that admits 5432 only from the ETL function.
import SluiceDSL

/// The warehouse tables both database roles read; the writer also writes them.
let loadedTables = ["dim_users", "dim_products", "fact_events", "fact_sessions"].map { "analytics.\($0)" }

let spec = Spec {
    Project(
        "clickstream",
        region: "eu-west-1",
        account: "123456789012",
        tags: ["cost-center": "4711", "team": "analytics"]
    )

    VPC("analytics", cidr: "10.0.0.0/16") {
        InternetGateway("igw")
        Subnet("public", cidr: "10.0.1.0/24", az: "a", type: .public)
        Subnet("analytics", cidr: "10.0.2.0/24", az: "a", type: .isolated)
        // One ETL subnet per zone, so the function survives a zone outage.
        for (index, zone) in ["a", "b"].enumerated() {
            Subnet("etl-\(zone)", cidr: "10.0.\(3 + index).0/24", az: zone, type: .isolated)
        }
        GatewayEndpoint("s3", service: .s3, policy: .buckets(["raw"]))
        InterfaceEndpoint(
            "secretsmanager",
            service: .secretsManager,
            subnets: ["etl-a", "etl-b"],
            securityGroups: ["endpoints"]
        )
        SecurityGroup("etl", description: "ETL function") {
            Egress(.https, to: .prefixList("s3"), description: "raw events through the S3 gateway endpoint")
            Egress(.https, to: "endpoints", description: "Secrets Manager interface endpoint")
            Egress(.postgres, to: "dw", description: "warehouse loads")
        }
        SecurityGroup("dw", description: "Warehouse PostgreSQL") {
            Ingress(.postgres, from: "etl", description: "ETL loads")
            Ingress(.postgres, from: "dashboard", description: "dashboard queries")
            Egress(
                .https, to: .prefixList("s3"),
                description: "first boot, PostgreSQL packages and the stack signal through the S3 gateway endpoint")
            Egress(.https, to: "endpoints", description: "first boot, the admin password from the Secrets Manager endpoint")
        }
        SecurityGroup("dashboard", description: "R Shiny dashboard host") {
            Ingress(3838, from: "oltp", description: "Shiny, reached from the application host")
            Egress(.postgres, to: "dw", description: "dashboard queries")
        }
        SecurityGroup("oltp", description: "OLTP PostgreSQL application host") {
            Ingress(.https, from: .anywhere, description: "HTTPS from users")
            Egress(3838, to: "dashboard", description: "internal dashboard proxy")
            Egress(.https, to: .anywhere, description: "package updates")
        }
        SecurityGroup("endpoints", description: "Interface endpoints", outbound: .none) {
            Ingress(.https, from: "etl", description: "HTTPS from the ETL function")
            Ingress(.https, from: "dw", description: "HTTPS from the warehouse host at first boot")
        }
    }

    Bucket(
        "raw",
        purpose: "raw clickstream events",
        prefixes: ["events/"],
        versioning: true,
        lifecycle: [
            LifecycleRule(
                "raw-to-ia",
                prefix: "events/",
                transitions: [(days: 30, storageClass: .standardIA)],
                expireDays: 400
            ),
        ]
    )

    Topic("alerts", email: ["data-team@example.com"])
    Secret("dw-credentials", description: "warehouse master credentials", generateFor: "sluice_admin")

    Function(
        "etl",
        runtime: .providedAL2023,
        handler: "bootstrap",
        memory: 1024,
        timeout: 900,
        reservedConcurrency: 2,
        subnets: ["etl-a", "etl-b"],
        securityGroups: ["etl"],
        environment: ["SLUICE_PLAN": "plan.json"]
    )
    Host(
        "oltp",
        purpose: "OLTP PostgreSQL and the web application",
        instanceType: "t3.medium",
        subnet: "public",
        securityGroups: ["oltp"],
        publicIP: true
    )
    Host(
        "warehouse",
        purpose: "warehouse PostgreSQL",
        instanceType: "r6i.large",
        subnet: "analytics",
        securityGroups: ["dw"]
    )
    Host(
        "dashboard",
        purpose: "R Shiny dashboards",
        instanceType: "t3.large",
        subnet: "analytics",
        securityGroups: ["dashboard"]
    )

    Warehouse(
        "dw",
        engine: .ec2(host: "warehouse"),
        database: "analytics",
        credentialsSecret: "dw-credentials",
        clients: ["etl", "dashboard"],
        schemas: ["analytics"]
    ) {
        Table("dim_users") {
            Column("user_id", .text, primaryKey: true)
            Column("email_hash", .text)
            Column("country", .varchar(2))
            Column("first_seen_at", .timestamptz, notNull: true)
            Column("updated_at", .timestamptz, notNull: true, default: "now()")
        }
        Table("dim_products") {
            Column("product_id", .text, primaryKey: true)
            Column("name", .text)
            Column("category", .text)
            Column("price", .numeric(12, 2))
            Column("updated_at", .timestamptz, notNull: true, default: "now()")
        }
        Table("fact_events") {
            Column("event_id", .uuid, primaryKey: true)
            Column("event_timestamp", .timestamptz, notNull: true)
            Column("event_date", .date, notNull: true)
            Column("event_hour", .smallint, notNull: true)
            Column("event_name", .text, notNull: true)
            Column("user_id", .text, references: "dim_users.user_id")
            Column("session_id", .text)
            Column("client_id", .text)
            Column("product_id", .text, references: "dim_products.product_id")
            Column("page_url", .text)
            Column("traffic_source", .text)
            Column("source_object", .text)
            Column("created_at", .timestamptz, notNull: true, default: "now()")
            Check("event_hour_range", "event_hour BETWEEN 0 AND 23")
            Index(["event_date"], method: .brin)
            Index(["user_id"])
        }
        Table("fact_sessions") {
            Column("session_id", .text, primaryKey: true)
            Column("user_id", .text, references: "dim_users.user_id")
            Column("client_id", .text)
            Column("started_at", .timestamptz, notNull: true)
            Column("traffic_source", .text)
            Column("updated_at", .timestamptz, notNull: true, default: "now()")
        }
        MaterializedView(
            "daily_event_counts",
            uniqueKey: ["event_date", "event_name"],
            sql: """
                SELECT event_date, event_name, count(*) AS events
                FROM analytics.fact_events
                GROUP BY event_date, event_name

                """
        )
        DatabaseRole("etl_writer", grants: [Grant([.select, .insert, .update], on: loadedTables)])
        DatabaseRole("dashboard_reader", grants: [Grant([.select], on: loadedTables + ["analytics.daily_event_counts"])])
    }

    Pipeline("clickstream", workload: "etl", schedule: .rate(30, .minutes)) {
        BucketSource("raw", prefix: "events/{yyyy}/{MM}/{dd}/{HH}/", format: .jsonl, compression: .auto)
        Field("event_id", .uuid, required: true)
        Field("event_timestamp", .timestamp, required: true)
        Field("event_name", .string, required: true)
        Field("user.id", .string)
        Field("user.email", .email)
        Field("user.country", .string, pattern: "^[A-Z]{2}$")
        Field("session.id", .string)
        Field("context.page_url", .string)
        Field("product.price", .number)
        Derive("event_date", .date(of: "event_timestamp"))
        Derive("event_hour", .hour(of: "event_timestamp"))
        Filter("test traffic", field: "context.is_test", .equals("true"))
        Filter("internal QA users", field: "user.email", .matches(#"@qa\.example\.com$"#))
        DedupeKey("event_id")
        Target("dim_users", mode: .upsert(key: ["user_id"])) {
            Assign("user_id", "user.id")
            Assign("email_hash", "user.email", transform: [.trim, .lower], mask: .hash)
            Assign("country", "user.country")
            Assign("first_seen_at", "event_timestamp", merge: .min)  // the earliest event, whatever order they arrive in
        }
        Target("dim_products", mode: .upsert(key: ["product_id"])) {
            Assign("product_id", "product.id")
            Assign("name", "product.name")
            Assign("category", "product.category")
            Assign("price", "product.price")
        }
        Target("fact_sessions", mode: .upsert(key: ["session_id"])) {
            Assign("session_id", "session.id")
            Assign("user_id", "user.id")
            Assign("client_id", "context.client_id")
            Assign("started_at", "event_timestamp", merge: .min)
            Assign("traffic_source", "context.traffic_source")
        }
        Target("fact_events") {
            Assign("event_id", "event_id")
            Assign("event_timestamp", "event_timestamp")
            Assign("event_date", .derived("event_date"))
            Assign("event_hour", .derived("event_hour"))
            Assign(
                "event_name",
                "event_name",
                transform: [.trim, .lower],
                map: ["addtocart": "add_to_cart", "page-view": "page_view", "pageview": "page_view"]
            )
            Assign("user_id", "user.id")
            Assign("session_id", "session.id")
            Assign("client_id", "context.client_id")
            Assign("product_id", "product.id")
            Assign("page_url", "context.page_url")
            Assign("traffic_source", "context.traffic_source")
            Assign("source_object", .derived("object_key"))
        }
        Refresh("daily_event_counts")
        Alarms(topic: "alerts")
    }

    Suppression(
        "CKV_AWS_116",
        subject: "function:etl",
        reason: "A failed run leaves its objects out of sluice.manifest, so the next scheduled run loads them exactly once, and the errors alarm pages the team; a dead-letter queue would only collect the schedule's empty events."
    )
    Suppression(
        "CKV_AWS_18",
        subject: "bucket:raw",
        reason: "Object-level access is recorded by the organisation's CloudTrail S3 data events; server access logs would copy the same into yet another bucket."
    )
    Suppression(
        "CKV_AWS_88",
        subject: "host:oltp",
        reason: "The web application host is the public entry point; its security group admits only 443 from the internet, and SL215 proves no database or admin port is open."
    )

    // One template, one stack per environment: `sluice apply specs/clickstream.swift --stack clickstream-dev`
    // deploys dev. An environment changes values only; everything else, and every proof, is the spec's.
    Environment("dev") {
        FunctionSettings("etl", memory: 512, reservedConcurrency: 1, logRetentionDays: 7)
        HostSettings("warehouse", instanceType: "m6i.large")
        HostSettings("dashboard", instanceType: "t3.medium")
        PipelineSettings("clickstream", schedule: .off)
    }
    Environment("prod") {
        FunctionSettings("etl", logRetentionDays: 90)
    }
}
