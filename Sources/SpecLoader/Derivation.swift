import SluiceCore

/// What the compiler fills in when the spec leaves it implicit. Derived values are ordinary
/// model values, so the checks prove properties of exactly what will be rendered.
extension SpecDecoder {
    func deriveNetwork(_ network: Network, pipelines: [Pipeline], compute: Compute) -> Network {
        var network = network
        let hasPublic = network.subnets.contains { $0.type == .public }
        if network.internetGateway == nil, hasPublic {
            network.internetGateway = InternetGateway(name: "igw", location: network.vpc.location)
        }
        network.routeTables += derivedRouteTables(network)
        // Gateway endpoints attach, by default, to every private and isolated route table.
        let privateTables = network.routeTables.filter { table in
            table.subnets.contains { name in network.subnet(name).map { $0.type != .public } ?? false }
        }.map(\.name)
        for index in network.endpoints.indices where network.endpoints[index].type == .gateway {
            if network.endpoints[index].routeTables.isEmpty { network.endpoints[index].routeTables = privateTables }
            if network.endpoints[index].policy == .derived {
                network.endpoints[index].policy = derivedEndpointPolicy(network.endpoints[index], compute: compute, pipelines: pipelines)
            }
        }
        return network
    }

    /// Subnets in no explicit table get one by type, as AWS CDK does: one shared public table
    /// (default routes to the internet gateway), one private table per AZ (default route to a NAT
    /// gateway in that AZ, else the first), one shared isolated table (local routes only).
    private func derivedRouteTables(_ network: Network) -> [RouteTable] {
        let explicit = Set(network.routeTables.flatMap(\.subnets))
        let loose = network.subnets.filter { !explicit.contains($0.name) }
        var tables: [RouteTable] = []
        let publicSubnets = loose.filter { $0.type == .public }
        if !publicSubnets.isEmpty, let igw = network.internetGateway {
            var routes = [Route(destination: .anyIPv4, target: .internetGateway(igw.name), location: igw.location)]
            if network.vpc.ipv6 != nil { routes.append(Route(destination: .anyIPv6, target: .internetGateway(igw.name), location: igw.location)) }
            tables.append(
                RouteTable(
                    name: "public", subnets: publicSubnets.map(\.name), routes: routes, derived: true,
                    location: publicSubnets[0].location))
        }
        let privateSubnets = loose.filter { $0.type == .private }
        for az in Set(privateSubnets.map(\.availabilityZone)).sorted() {
            let subnets = privateSubnets.filter { $0.availabilityZone == az }
            let natInZone = network.natGateways.first { network.subnet($0.subnet)?.availabilityZone == az } ?? network.natGateways.first
            let routes = natInZone.map { [Route(destination: .anyIPv4, target: .natGateway($0.name), location: $0.location)] } ?? []
            tables.append(
                RouteTable(
                    name: "private-\(az.suffix(1))", subnets: subnets.map(\.name), routes: routes, derived: true,
                    location: subnets[0].location))
        }
        let isolatedSubnets = loose.filter { $0.type == .isolated }
        if !isolatedSubnets.isEmpty {
            tables.append(
                RouteTable(
                    name: "isolated", subnets: isolatedSubnets.map(\.name), routes: [], derived: true,
                    location: isolatedSubnets[0].location))
        }
        for table in tables where defined["route table"]?[table.name] != nil {
            sink.add(LoaderDiagnostics.duplicateName("route table", table.name, at: defined["route table"]![table.name]!, first: table.location))
        }
        return tables
    }

    /// Least privilege for a gateway endpoint: exactly the buckets (or DynamoDB tables) that the
    /// spec's workloads read or write.
    private func derivedEndpointPolicy(_ endpoint: Endpoint, compute: Compute, pipelines: [Pipeline]) -> EndpointPolicy {
        var names: [String] = []
        let workloads = compute.functions.map(\.uses) + compute.hosts.map(\.uses)
        if endpoint.service == "dynamodb" {
            names = workloads.flatMap(\.dynamoTables)
        } else {
            names =
                workloads.flatMap { $0.readBuckets + $0.writeBuckets }
                + pipelines.compactMap(\.sourceBucket) + pipelines.compactMap(\.quarantine.bucket)
        }
        var seen = Set<String>()
        return .resources(names.filter { seen.insert($0).inserted }, location: endpoint.location)
    }

    /// One role per function (always) and per host that touches AWS APIs. Statements are built
    /// from the pipelines a workload runs and its `uses`, each naming the narrowest resource.
    func deriveRoles(
        compute: Compute, pipelines: [Pipeline], warehouse: Warehouse?,
        explicit: [(name: String, workload: Located<String>, statements: [PolicyStatement])]
    ) -> [Role] {
        var roles: [Role] = []
        for function in compute.functions {
            var statements = [
                PolicyStatement(
                    sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources: [.logGroup(function: function.name)], location: function.location),
                // Lambda creates its VPC network interfaces through these; EC2 grants them no resource-level scoping.
                PolicyStatement(
                    sid: "ManageVpcNetworkInterfaces",
                    actions: [
                        "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                        "ec2:DescribeNetworkInterfaces", "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources: [.any], location: function.location),
            ]
            statements += pipelineStatements(for: function.name, pipelines: pipelines, warehouse: warehouse)
            statements += usesStatements(function.uses, at: function.location)
            if let queue = function.deadLetterQueue {
                statements.append(
                    PolicyStatement(
                        sid: "SendToDeadLetterQueue", actions: ["sqs:SendMessage"], resources: [.queue(queue)],
                        location: function.location))
            }
            roles.append(
                Role(
                    name: "\(function.name)-role", workload: function.name, service: "lambda.amazonaws.com",
                    statements: statements, location: function.location))
        }
        for host in compute.hosts {
            var statements =
                pipelineStatements(for: host.name, pipelines: pipelines, warehouse: warehouse) + usesStatements(host.uses, at: host.location)
            // The self-managed warehouse's host sets the admin's password from the generated secret at first boot.
            if let warehouse, case .ec2(host.name) = warehouse.engine {
                statements.append(
                    PolicyStatement(
                        sid: "ReadWarehouseAdminSecret", actions: ["secretsmanager:GetSecretValue"],
                        resources: [.secret(warehouse.credentialsSecret)],
                        location: warehouse.location))
            }
            roles.append(
                Role(
                    name: "\(host.name)-role", workload: host.name, service: "ec2.amazonaws.com", statements: statements,
                    location: host.location))
        }
        for role in explicit {
            guard let index = roles.firstIndex(where: { $0.workload == role.workload.value }) else { continue }
            roles[index].name = role.name
            roles[index].statements += role.statements
        }
        return roles
    }

    private func pipelineStatements(for workload: String, pipelines: [Pipeline], warehouse: Warehouse?) -> [PolicyStatement] {
        var statements: [PolicyStatement] = []
        for pipeline in pipelines where pipeline.workload == workload {
            let id = Self.sidPart(pipeline.name)
            if let bucket = pipeline.sourceBucket {
                let prefix = pipeline.source.staticPrefix
                statements.append(
                    PolicyStatement(
                        sid: "\(id)ReadSource", actions: ["s3:GetObject"],
                        resources: [.bucketObjects(bucket, prefix: prefix)], location: pipeline.source.location))
                statements.append(
                    PolicyStatement(
                        sid: "\(id)ListSource", actions: ["s3:ListBucket"], resources: [.bucket(bucket)],
                        conditions: prefix.isEmpty ? [:] : ["StringLike": ["s3:prefix": ["\(prefix)*"]]],
                        location: pipeline.source.location))
            }
            if let api = pipeline.source.api, let bucket = pipeline.sourceBucket {
                // Pages are written under the landing prefix; an interrupted fetch's pages beyond
                // the ones fetched again are removed, so they are never loaded.
                statements.append(
                    PolicyStatement(
                        sid: "\(id)LandPages", actions: ["s3:DeleteObject", "s3:PutObject"],
                        resources: [.bucketObjects(bucket, prefix: pipeline.source.staticPrefix)], location: api.location))
                if let auth = api.auth {
                    statements.append(
                        PolicyStatement(
                            sid: "\(id)ReadAPICredential", actions: ["secretsmanager:GetSecretValue"], resources: [.secret(auth.secret)],
                            location: api.location))
                }
            }
            if let bucket = pipeline.quarantine.bucket {
                statements.append(
                    PolicyStatement(
                        sid: "\(id)WriteQuarantine", actions: ["s3:PutObject"],
                        resources: [.bucketObjects(bucket, prefix: pipeline.quarantine.prefix)], location: pipeline.location))
            }
            if pipeline.hashesValues, let secret = WarehouseLogin.maskKeySecret(pipelines) {
                statements.append(
                    PolicyStatement(
                        sid: "\(id)ReadMaskKey", actions: ["secretsmanager:GetSecretValue"], resources: [.secret(secret)],
                        location: pipeline.location))
            }
        }
        guard let warehouse, pipelines.contains(where: { $0.workload == workload }) else { return statements }
        // The admin's credentials migrate the warehouse (the function's migrate request, from inside
        // the VPC); the pipelines log in as their writer role.
        let login = WarehouseLogin.of(workload: workload, pipelines: pipelines, warehouse: warehouse)
        statements.append(
            PolicyStatement(
                sid: "ReadWarehouseCredentials", actions: ["secretsmanager:GetSecretValue"],
                resources: [.secret(warehouse.credentialsSecret)] + (login?.secret.map { [.secret($0)] } ?? []), location: warehouse.location))
        if let login, login.method == .iam {
            statements.append(
                PolicyStatement(
                    sid: "ConnectAsWriter", actions: ["rds-db:connect"], resources: [.databaseUser(login.role)], location: warehouse.location))
        }
        return statements
    }

    private func usesStatements(_ uses: Uses, at location: SourceLocation) -> [PolicyStatement] {
        var statements: [PolicyStatement] = []
        if !uses.readBuckets.isEmpty {
            statements.append(
                PolicyStatement(
                    sid: "ReadBuckets", actions: ["s3:GetObject"],
                    resources: uses.readBuckets.map { .bucketObjects($0, prefix: "") }, location: location))
            statements.append(
                PolicyStatement(
                    sid: "ListBuckets", actions: ["s3:ListBucket"], resources: uses.readBuckets.map(IAMResource.bucket),
                    location: location))
        }
        if !uses.writeBuckets.isEmpty {
            statements.append(
                PolicyStatement(
                    sid: "WriteBuckets", actions: ["s3:PutObject"],
                    resources: uses.writeBuckets.map { .bucketObjects($0, prefix: "") }, location: location))
        }
        if !uses.dynamoTables.isEmpty {
            statements.append(
                PolicyStatement(
                    sid: "UseDynamoTables",
                    actions: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                    resources: uses.dynamoTables.map(IAMResource.dynamoTable), location: location))
        }
        if !uses.topics.isEmpty {
            statements.append(
                PolicyStatement(sid: "PublishTopics", actions: ["sns:Publish"], resources: uses.topics.map(IAMResource.topic), location: location))
        }
        if !uses.queues.isEmpty {
            statements.append(
                PolicyStatement(
                    sid: "UseQueues",
                    actions: [
                        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                        "sqs:ReceiveMessage", "sqs:SendMessage",
                    ],
                    resources: uses.queues.map(IAMResource.queue), location: location))
        }
        if !uses.secrets.isEmpty {
            statements.append(
                PolicyStatement(
                    sid: "ReadSecrets", actions: ["secretsmanager:GetSecretValue"], resources: uses.secrets.map(IAMResource.secret),
                    location: location))
        }
        return statements
    }

    /// IAM statement IDs are alphanumeric.
    static func sidPart(_ name: String) -> String {
        name.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
