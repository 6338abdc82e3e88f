import SluiceCore

/// A spec fragment that shows what a rule finds, as SwiftLint's rules carry theirs: merged into a
/// small clean spec (`base`) the way `include` merges files (mappings by key, lists concatenated),
/// with `↓` written just before each place a finding must be reported. One test runs every rule's
/// examples: a triggering example must give exactly the marked findings, a non-triggering one none.
public struct RuleExample: Sendable, ExpressibleByStringLiteral {
    /// What the fragment is merged into.
    public enum Base: Sendable {
        /// A network, a bucket, a function `etl`, and a warehouse `dw` on an EC2 host with a table
        /// `events` (event_id uuid primary key, event_name text not null, created_at timestamptz
        /// not null default now()) that pipeline `events` loads from bucket `raw`.
        case warehouse
        /// The same network, bucket and function, without host, warehouse or pipelines: for examples
        /// that place the warehouse themselves.
        case network

        public var text: String {
            switch self {
            case .network: Self.networkText
            case .warehouse: Self.networkText + Self.warehouseAndPipelineText
            }
        }

        static let networkText = """
            project:
              name: mini
              region: eu-west-1
            network:
              vpc:
                cidr: 10.0.0.0/16
              internet_gateway: igw
              subnets:
                - { name: public, cidr: 10.0.0.0/24, az: a, type: public }
                - { name: etl-a, cidr: 10.0.1.0/24, az: a, type: isolated }
                - { name: etl-b, cidr: 10.0.2.0/24, az: b, type: isolated }
                - { name: db, cidr: 10.0.3.0/24, az: a, type: isolated }
              endpoints:
                - { name: s3, service: s3 }
                - { name: secretsmanager, service: secretsmanager, subnets: [etl-a, etl-b], security_groups: [endpoints] }
              security_groups:
                - name: etl
                  egress:
                    - { port: 443, prefix_list: s3 }
                    - { port: 443, security_group: endpoints }
                    - { port: 5432, security_group: dw }
                - name: dw
                  ingress:
                    - { port: 5432, security_group: etl }
                  egress: [{ port: 443, prefix_list: s3 }, { port: 443, security_group: endpoints }]
                - name: endpoints
                  ingress: [{ port: 443, security_group: etl }, { port: 443, security_group: dw }]
                  # the warehouse host reads its admin password here at first boot
                  egress: []
            storage:
              buckets:
                - { name: raw }
            messaging:
              secrets:
                - { name: dw-credentials, generate_for: admin }
            compute:
              functions:
                - { name: etl, subnets: [etl-a, etl-b], security_groups: [etl], uses: { read_buckets: [raw] } }

            """

        static let warehouseAndPipelineText = """
              hosts:
                - { name: warehouse, instance_type: r6i.large, subnet: db, security_groups: [dw] }
            warehouse:
              name: dw
              engine: ec2
              host: warehouse
              database: analytics
              credentials_secret: dw-credentials
              clients: [etl]
              tables:
                - name: events
                  columns:
                    - { name: event_id, type: uuid, primary_key: true }
                    - { name: event_name, type: text, not_null: true }
                    - { name: created_at, type: timestamptz, not_null: true, default: now() }
              roles:
                - name: etl_writer
                  grants:
                    - { privileges: [SELECT, INSERT, UPDATE], on: [public.events] }
            pipelines:
              - name: events
                workload: etl
                schedule: rate(1 hour)
                source: { bucket: raw, prefix: "events/{yyyy}/{MM}/{dd}/{HH}/", format: jsonl }
                fields:
                  event_id: { type: uuid, required: true }
                targets:
                  - table: events
                    columns:
                      event_id: event_id
                      event_name: name

            """
    }

    public var fragment: String
    public var base: Base

    public init(_ fragment: String, base: Base = .warehouse) {
        self.fragment = fragment
        self.base = base
    }

    public init(stringLiteral fragment: String) { self.init(fragment) }

    public static let marker: Character = "↓"
}

/// A rule's examples: each rule shows at least one spec it reports and one it accepts.
public struct RuleExamples: Sendable {
    public var triggering: [RuleExample]
    public var nonTriggering: [RuleExample]

    public init(triggering: [RuleExample], nonTriggering: [RuleExample]) {
        self.triggering = triggering
        self.nonTriggering = nonTriggering
    }
}
