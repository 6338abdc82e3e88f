import AWSServices
import Foundation
import SluiceDriver
import TestSupport
import Testing

/// `sluice bootstrap`, `plan --stack`, `apply --stack` and `destroy` against moto's CloudFormation,
/// S3, EC2 and STS (the instance that checks signatures and permissions), and against a stand-in of
/// the CloudFormation API for the failure paths moto cannot produce.
@Suite(.serialized) struct StackDeployTests {
    /// The clickstream spec, its function on this machine's architecture, in a fresh folder.
    func project(_ name: String) throws -> URL {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("stack-\(name)-\(UUID().uuidString.prefix(8))")
        _ = try LambdaPackageTests.spec(in: folder)
        return folder
    }

    func environment(_ moto: MotoServer.Instance, extra: [String: String] = [:]) -> [String: String] {
        [
            "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey, "SLUICE_POLL_SECONDS": "0.2",
        ].merging(extra) { _, new in new }
    }

    static let removed = ["AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"]

    func sluice(_ arguments: [String], in folder: URL, _ environment: [String: String]) throws -> CLI.Result {
        try CLI.run(arguments, in: folder, environment: environment, removing: Self.removed)
    }

    func json(_ text: String) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }

    func edit(_ folder: URL, _ old: String, _ new: String) throws {
        let file = folder.appendingPathComponent("clickstream.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
    }

    @Test func aStackIsCreatedUpdatedRefusedLeftAloneAndDestroyedBesideAnotherEnvironment() throws {
        let moto = try MotoServer.shared.get()
        let env = environment(moto)
        let folder = try project("lifecycle")

        let bootstrap = try sluice(["bootstrap", "--region", "eu-west-1", "--auto-approve", "--format", "json"], in: folder, env)
        #expect(bootstrap.status == 0, "\(bootstrap.stderr)")
        #expect(json(bootstrap.stdout)["artifactBucket"] as? String == "sluice-artifacts-123456789012-eu-west-1")
        #expect(
            try sluice(["bootstrap", "--region", "eu-west-1", "--auto-approve", "--format", "json"], in: folder, env).stdout.contains(
                "\"upToDate\" : true"))

        // Create: the package is uploaded, the stack's names include the environment.
        let created = try sluice(["apply", "clickstream.yaml", "--stack", "cs-dev", "--auto-approve", "--no-migrate"], in: folder, env)
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        #expect(created.stdout.contains("to be created"))
        #expect(created.stdout.contains(".zip (uploaded)"))
        #expect(created.stdout.contains("stack cs-dev: CREATE_COMPLETE"))
        #expect(created.stdout.contains("RawBucketName = cs-dev-raw-123456789012-eu-west-1"))
        // The spec's SQL was checked in a throwaway cluster started for it, and stopped after it.
        #expect(!Self.serverRunning(in: folder), "a check leaves no PostgreSQL running")
        // The stack is the spec's dev environment: its parameter says so, and its values are dev's.
        #expect(created.stdout.contains("stack cs-dev (eu-west-1, environment dev): to be created"))
        #expect(created.stdout.contains("Environment = dev"))
        let devStack = try Blocking.run {
            try await CloudFormationAPI(region: "eu-west-1", credentials: moto.credentials, environment: env).stack("cs-dev")
        }
        #expect(devStack?.parameters["Environment"] == "dev")

        // Nothing changed: no package uploaded, no change set executed.
        let again = try sluice(
            ["apply", "clickstream.yaml", "--stack", "cs-dev", "--auto-approve", "--no-migrate", "--format", "json"], in: folder, env)
        #expect(again.status == 0, "\(again.stderr)")
        let proposal = json(again.stdout)["proposal"] as? [String: Any] ?? [:]
        #expect(proposal["upToDate"] as? Bool == true)
        #expect(proposal["changeSet"] == nil)
        #expect((proposal["packages"] as? [[String: Any]])?.first?["present"] as? Bool == true)
        #expect((json(again.stdout)["outcome"] as? [String: Any])?["status"] as? String == "CREATE_COMPLETE")

        // A changed security-group rule: the change set and the security table show it; nothing is replaced.
        try edit(folder, "description: warehouse loads\n", "description: warehouse loads, batched\n")
        let planned = try sluice(["plan", "clickstream.yaml", "--stack", "cs-dev", "--format", "json", "--detailed-exitcode"], in: folder, env)
        #expect(planned.status == 2, "\(planned.stderr)")
        let stack = ((json(planned.stdout)["specs"] as? [[String: Any]])?.first?["stack"] as? [String: Any]) ?? [:]
        let changes = stack["changes"] as? [[String: Any]] ?? []
        let rule = changes.first { $0["id"] as? String == "SecurityGroupEtlEgress3Dw5432" }
        #expect(rule?["action"] as? String == "Modify")
        #expect(rule?["replacement"] as? String == "False")
        #expect(rule?["paths"] as? [String] == ["Properties.Description"])
        #expect(!changes.contains { $0["destructive"] as? Bool == true })
        let security = ((stack["cloudformation"] as? [String: Any])?["security"] as? [[String: Any]] ?? []).compactMap { $0["row"] as? String }
        #expect(security.contains("security group etl egress tcp 5432-5432 to security group dw (warehouse loads, batched)"))
        #expect(security.contains("security group etl egress tcp 5432-5432 to security group dw (warehouse loads)"))
        // The plan deleted its change set and changed nothing.
        let updated = try sluice(["apply", "clickstream.yaml", "--stack", "cs-dev", "--auto-approve", "--no-migrate"], in: folder, env)
        #expect(updated.status == 0, "\(updated.stdout)\(updated.stderr)")
        #expect(updated.stdout.contains("~ SecurityGroupEtlEgress3Dw5432"))
        #expect(updated.stdout.contains("stack cs-dev: UPDATE_COMPLETE"))

        // Moving the warehouse host replaces it: refused without --allow-destructive, and the stack is left as it was.
        try edit(folder, "instance_type: r6i.large\n      subnet: analytics", "instance_type: r6i.large\n      subnet: etl-a")
        let refused = try sluice(["apply", "clickstream.yaml", "--stack", "cs-dev", "--auto-approve", "--no-migrate"], in: folder, env)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("host warehouse (InstanceWarehouse) AWS::EC2::Instance: Properties.SubnetId.Ref [replacement: True"))
        #expect(refused.stdout.contains("DESTRUCTIVE"))
        #expect(
            refused.stderr.contains(
                "error: refused: the change set replaces or removes resources that hold data (host warehouse (InstanceWarehouse))"))
        let after = try sluice(["plan", "clickstream.yaml", "--stack", "cs-dev", "--format", "json"], in: folder, env)
        let afterStack = ((json(after.stdout)["specs"] as? [[String: Any]])?.first?["stack"] as? [String: Any]) ?? [:]
        #expect(afterStack["status"] as? String == "UPDATE_COMPLETE")
        try edit(folder, "instance_type: r6i.large\n      subnet: etl-a", "instance_type: r6i.large\n      subnet: analytics")

        // A second environment of the same spec deploys beside the first.
        let prod = try sluice(["apply", "clickstream.yaml", "--stack", "cs-prod", "--auto-approve", "--no-migrate"], in: folder, env)
        #expect(prod.status == 0, "\(prod.stdout)\(prod.stderr)")
        #expect(prod.stdout.contains("RawBucketName = cs-prod-raw-123456789012-eu-west-1"))
        #expect(prod.stdout.contains("(already uploaded)"))
        #expect(prod.stdout.contains("Environment = prod"))
        // Each stack holds its environment's values (moto resolves Fn::FindInMap as CloudFormation does).
        let retention = try Self.logRetention(moto, env)
        #expect(retention["/sluice/cs-dev/etl"] == 7)
        #expect(retention["/sluice/cs-prod/etl"] == 90)

        // A value changed for dev only: dev's stack would change, prod's diff has nothing (each side read with the stack's values).
        try edit(folder, "{ name: etl, memory: 512,", "{ name: etl, memory: 768,")
        func templateChanges(_ stack: String) throws -> [String: Any] {
            let plan = try sluice(["plan", "clickstream.yaml", "--stack", stack, "--format", "json"], in: folder, env)
            #expect(plan.status == 0, "\(plan.stderr)")
            let proposal = (json(plan.stdout)["specs"] as? [[String: Any]])?.first?["stack"] as? [String: Any] ?? [:]
            #expect(proposal["environment"] as? String == String(stack.dropFirst(3)))
            return proposal["cloudformation"] as? [String: Any] ?? [:]
        }
        let devChanges = try templateChanges("cs-dev")["modified"] as? [[String: Any]] ?? []
        #expect(
            devChanges.contains { $0["id"] as? String == "FunctionEtl" && $0["paths"] as? [String] == ["Properties.MemorySize"] }, "\(devChanges)")
        let prodChanges = try templateChanges("cs-prod")["modified"] as? [[String: Any]] ?? []
        #expect(!prodChanges.contains { $0["id"] as? String == "FunctionEtl" }, "\(prodChanges)")

        // Destroy lists what it keeps first. (moto cannot delete a stack with a VPC — DependencyViolation, a gap
        // of its CloudFormation — so the deletion itself is followed against the stand-in, below.)
        let destroyed = try sluice(["destroy", "clickstream.yaml", "--stack", "cs-dev", "--auto-approve"], in: folder, env)
        #expect(destroyed.stdout.contains("stack cs-dev (UPDATE_COMPLETE) will be deleted. Retained, and left in the account:"))
        #expect(destroyed.stdout.contains("bucket raw (BucketRaw) AWS::S3::Bucket: cs-dev-raw-123456789012-eu-west-1 [Retain]"))
        #expect(destroyed.stdout.contains("KeyData AWS::KMS::Key: "))
        #expect(destroyed.status == 0 || destroyed.stderr.contains("DependencyViolation"), "\(destroyed.stderr)")
    }

    /// Whether a PostgreSQL server runs with its data under `folder` (the throwaway cluster of a command run there).
    static func serverRunning(in folder: URL) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        process.arguments = ["-f", "postgres -D \(folder.path)"]
        process.standardOutput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Each log group's retention in days, as CloudWatch Logs (moto's) has it.
    static func logRetention(_ moto: MotoServer.Instance, _ env: [String: String]) throws -> [String: Int] {
        let logs = AWSService(
            name: "CloudWatch Logs", signingName: "logs", host: "logs.eu-west-1.amazonaws.com", environmentKey: "CLOUDWATCH_LOGS",
            region: "eu-west-1", credentials: moto.credentials, environment: env)
        let response = try Blocking.run {
            try await logs.send(
                "DescribeLogGroups", method: "POST", path: "/",
                headers: [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "Logs_20140328.DescribeLogGroups")], body: Array("{}".utf8)
            )
        }
        let groups = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["logGroups"] as? [[String: Any]] ?? []
        return Dictionary(groups.compactMap { group in (group["logGroupName"] as? String).map { ($0, group["retentionInDays"] as? Int ?? 0) } }) {
            a, _ in a
        }
    }

    /// CloudFormation takes at most 51,200 bytes of template in a request: a larger one is uploaded to
    /// the artifact bucket under its hash and passed by URL.
    @Test func aTemplateOverTheBodyLimitGoesThroughTheArtifactBucket() async throws {
        let moto = try MotoServer.shared.get()
        let folder = try project("large")
        let buckets = (0..<16).map { "    - { name: archive\($0), prefixes: [data/] }\n" }.joined()
        try edit(folder, "storage:\n  buckets:\n", "storage:\n  buckets:\n" + buckets)
        let env = environment(moto)
        #expect(try sluice(["bootstrap", "--region", "eu-west-1", "--auto-approve"], in: folder, env).status == 0)
        let applied = try sluice(
            ["apply", "clickstream.yaml", "--stack", "cs-large", "--environment", "dev", "--auto-approve", "--no-migrate", "--format", "json"],
            in: folder, env)
        #expect(applied.status == 0, "\(applied.stderr)")
        let report = json(applied.stdout)
        let url = (report["proposal"] as? [String: Any])?["templateURL"] as? String ?? ""
        #expect(url.hasPrefix("https://sluice-artifacts-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com/templates/cs-large/"), "\(url)")
        #expect((report["outcome"] as? [String: Any])?["status"] as? String == "CREATE_COMPLETE")
        let key = String((URL(string: url)?.path ?? "").dropFirst())
        #expect(try await moto.objectExists(bucket: "sluice-artifacts-123456789012-eu-west-1", key: key), "\(key)")
        #expect(try sluice(["plan", "clickstream.yaml"], in: folder, env).status == 0)
        let template = try String(contentsOf: folder.appendingPathComponent("generated/clickstream/cloudformation.yaml"), encoding: .utf8)
        #expect(template.utf8.count > 51_200)
    }

    @Test func changingAnAccountWithoutATerminalNeedsAutoApprove() throws {
        let moto = try MotoServer.shared.get()
        let folder = try project("approve")
        for arguments in [
            ["apply", "clickstream.yaml", "--stack", "cs-x", "--environment", "dev"],
            ["destroy", "clickstream.yaml", "--stack", "cs-x", "--environment", "dev"],
            ["bootstrap", "--region", "eu-west-1"],
        ] {
            let result = try sluice(arguments, in: folder, environment(moto))
            #expect(result.status == 64)
            #expect(result.stderr.contains("pass --auto-approve"))
        }
        let badName = try sluice(["plan", "clickstream.yaml", "--stack", "CS_Prod"], in: folder, environment(moto))
        #expect(badName.status == 64)
        #expect(badName.stderr.contains("must be lowercase letters, digits and hyphens"))

        // A spec with environments deploys only as one of them: the stack's name or --environment says which.
        let noEnvironment = try sluice(["plan", "clickstream.yaml", "--stack", "cs-qa"], in: folder, environment(moto))
        #expect(noEnvironment.status == 64)
        #expect(
            noEnvironment.stderr.contains(
                "stack cs-qa is none of the spec's environments (dev, prod): name the stack after one (clickstream-dev) or pass --environment"))
        let unknown = try sluice(["plan", "clickstream.yaml", "--stack", "cs-qa", "--environment", "qa"], in: folder, environment(moto))
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("--environment qa is not one of the spec's environments (dev, prod)"))
        let withoutStack = try sluice(["plan", "clickstream.yaml", "--environment", "dev"], in: folder, environment(moto))
        #expect(withoutStack.status == 64)
        #expect(withoutStack.stderr.contains("--environment needs --stack"))
    }

    /// How a GitHub Actions job with OIDC gets its role: no keys, a role and a token file, exchanged
    /// with moto's STS (AssumeRoleWithWebIdentity); the temporary credentials then sign the deploy's calls.
    @Test func webIdentityCredentialsComeFromSTS() throws {
        let moto = try MotoServer.unchecked.get()
        let folder = try project("oidc")
        let token = folder.appendingPathComponent("token")
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUvc2x1aWNlIn0.c2lnbmF0dXJl\n".write(to: token, atomically: true, encoding: .utf8)
        var env = [
            "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/sluice-deploy",
            "AWS_WEB_IDENTITY_TOKEN_FILE": token.path, "AWS_ROLE_SESSION_NAME": "ci-run", "SLUICE_POLL_SECONDS": "0.2",
        ]
        let removed =
            Self.removed.filter { !env.keys.contains($0) } + [
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
            ]
        let result = try CLI.run(
            ["bootstrap", "--region", "eu-west-1", "--auto-approve", "--format", "json"], in: folder, environment: env, removing: removed)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(json(result.stdout)["account"] as? String == "123456789012")

        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = folder.appendingPathComponent("missing").path
        let missing = try CLI.run(["bootstrap", "--region", "eu-west-1", "--auto-approve"], in: folder, environment: env, removing: removed)
        #expect(missing.status == 1)
        #expect(
            missing.stderr.contains(
                "cannot read the web identity token \(folder.appendingPathComponent("missing").path) (AWS_WEB_IDENTITY_TOKEN_FILE)"))
    }

    /// A recorded failed create: the failed resource and its reason, the rollback, exit 1; the next
    /// apply deletes the rolled-back stack and creates it again.
    @Test func aFailedCreateIsReportedThenRecreated() async throws {
        let moto = try MotoServer.shared.get()
        let reason =
            "Resource handler returned message: \"Your requested instance type (r6i.large) is not supported in your requested Availability Zone (eu-west-1c). Please retry your request by not specifying an Availability Zone or choosing eu-west-1a, eu-west-1b.\" (RequestToken: 5e8b3c1a-0d6f-4bb0-a1f6-2d5c3a9e7f10, HandlerErrorCode: GeneralServiceException)"
        let standIn = try CloudFormationStandIn(scenario: [
            "executions": [
                [
                    "events": [
                        ["VpcAnalytics", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", ""], ["VpcAnalytics", "AWS::EC2::VPC", "CREATE_COMPLETE", ""],
                        ["InstanceWarehouse", "AWS::EC2::Instance", "CREATE_IN_PROGRESS", ""],
                        ["InstanceWarehouse", "AWS::EC2::Instance", "CREATE_FAILED", reason],
                        ["BucketRaw", "AWS::S3::Bucket", "CREATE_FAILED", "Resource creation cancelled"],
                        [
                            "cs-fail", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS",
                            "The following resource(s) failed to create: [InstanceWarehouse, BucketRaw]. Rollback requested by user.",
                        ],
                        ["VpcAnalytics", "AWS::EC2::VPC", "DELETE_COMPLETE", ""],
                    ],
                    "final": "ROLLBACK_COMPLETE",
                ],
                ["events": [["VpcAnalytics", "AWS::EC2::VPC", "CREATE_COMPLETE", ""]], "final": "CREATE_COMPLETE"],
            ]
        ])
        defer { standIn.stop() }
        let folder = try project("fail")
        let env = environment(moto, extra: ["AWS_ENDPOINT_URL_CLOUDFORMATION": standIn.endpoint])
        try await moto.createBucket("cs-fail-artifacts")
        let arguments = [
            "apply", "clickstream.yaml", "--stack", "cs-fail", "--environment", "dev", "--auto-approve", "--no-migrate", "--artifact-bucket",
            "cs-fail-artifacts",
        ]
        let failed = try sluice(arguments, in: folder, env)
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("stack cs-fail: ROLLBACK_COMPLETE"))
        #expect(failed.stdout.contains("failed: host warehouse (InstanceWarehouse) CREATE_FAILED: \(reason)"))
        #expect(!failed.stdout.contains("Resource creation cancelled"))
        #expect(failed.stderr.contains("CREATE_FAILED"))

        let recreated = try sluice(arguments, in: folder, env)
        #expect(recreated.status == 0, "\(recreated.stdout)\(recreated.stderr)")
        #expect(recreated.stdout.contains("ROLLBACK_COMPLETE, its first create failed; apply deletes it and creates it again"))
        #expect(recreated.stderr.contains("deleting cs-fail, whose first create rolled back"))
        #expect(recreated.stdout.contains("stack cs-fail: CREATE_COMPLETE"))

        let destroyed = try sluice(
            ["destroy", "clickstream.yaml", "--stack", "cs-fail", "--environment", "dev", "--auto-approve", "--format", "json"], in: folder, env)
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        #expect((json(destroyed.stdout)["outcome"] as? [String: Any])?["status"] as? String == "DELETE_COMPLETE")
        #expect(destroyed.stderr.contains("DELETE_COMPLETE"))
        let gone = try sluice(["destroy", "clickstream.yaml", "--stack", "cs-fail", "--environment", "dev", "--auto-approve"], in: folder, env)
        #expect(gone.status == 0)
        #expect(gone.stdout.contains("stack cs-fail: not deployed; nothing to delete"))
    }

    /// A rule added in the console: drift detection's answer, in the spec's names, beside the changes.
    @Test func driftDetectedOutsideCloudFormationIsShown() async throws {
        let moto = try MotoServer.shared.get()
        let added = #"{"CidrIp":"0.0.0.0/0","FromPort":5432,"IpProtocol":"tcp","ToPort":5432}"#
        let standIn = try CloudFormationStandIn(scenario: [
            "stacks": ["cs-drift": "UPDATE_COMPLETE"],
            "drift": [
                [
                    "id": "SecurityGroupDw", "type": "AWS::EC2::SecurityGroup", "status": "MODIFIED",
                    "differences": [["/SecurityGroupIngress/2", "ADD", NSNull(), added]],
                ]
            ],
        ])
        defer { standIn.stop() }
        let folder = try project("drift")
        try await moto.createBucket("cs-drift-artifacts")
        let env = environment(moto, extra: ["AWS_ENDPOINT_URL_CLOUDFORMATION": standIn.endpoint])
        let arguments = ["plan", "clickstream.yaml", "--stack", "cs-drift", "--environment", "dev", "--artifact-bucket", "cs-drift-artifacts"]
        let text = try sluice(arguments, in: folder, env)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("changed outside CloudFormation (drift detection):"))
        #expect(text.stdout.contains("! security group dw (SecurityGroupDw) AWS::EC2::SecurityGroup MODIFIED"))
        #expect(text.stdout.contains("ADD /SecurityGroupIngress/2 actual \(added)"))
        let json = self.json(try sluice(arguments + ["--format", "json"], in: folder, env).stdout)
        let drift = (((json["specs"] as? [[String: Any]])?.first?["stack"] as? [String: Any])?["drift"] as? [[String: Any]])?.first
        #expect(drift?["name"] as? String == "security group dw")
        #expect((drift?["differences"] as? [[String: Any]])?.first?["kind"] as? String == "ADD")
    }

    @Test func aStackBeingUpdatedIsBusy() throws {
        let moto = try MotoServer.shared.get()
        let standIn = try CloudFormationStandIn(scenario: ["stacks": ["cs-busy": "UPDATE_IN_PROGRESS"]])
        defer { standIn.stop() }
        let folder = try project("busy")
        let env = environment(moto, extra: ["AWS_ENDPOINT_URL_CLOUDFORMATION": standIn.endpoint])
        let result = try sluice(
            ["apply", "clickstream.yaml", "--stack", "cs-busy", "--environment", "dev", "--auto-approve", "--artifact-bucket", "cs-busy-artifacts"],
            in: folder, env)
        #expect(result.status == 75)
        #expect(result.stderr.contains("stack cs-busy is UPDATE_IN_PROGRESS: another deploy is changing it"))
    }
}
