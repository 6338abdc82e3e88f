import Foundation
import SluiceDriver
import TestSupport
import Testing

/// `sluice package` and the packaged function: the zip is deterministic and self-contained, and its
/// bootstrap, unpacked into an empty root (none of this machine's /usr, /lib or /etc visible), serves
/// a stand-in of Lambda's Runtime API against moto's S3 and Secrets Manager and a real PostgreSQL.
@Suite(.serialized) struct LambdaPackageTests {
    /// clickstream with its function on this machine's architecture (the reference spec's is arm64).
    static func spec(in folder: URL) throws -> String {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("specs/clickstream.yaml"), encoding: .utf8)
        let host = RuntimeArchitecture.current
        let changed = text.replacingOccurrences(
            of: "    - name: etl\n      runtime:", with: "    - name: etl\n      architecture: \(host)\n      runtime:")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("clickstream.yaml").path
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func build(into folder: URL) throws -> FunctionPackaging.Built {
        let compilation = Compilation.run(path: try spec(in: folder))
        let built = try FunctionPackaging.build(
            compilation, functions: [], output: folder.appendingPathComponent("packages"), executable: try CLI.executable.path)
        return try #require(built.first)
    }

    @Test func aPackageIsTheSameBytesEveryTimeAndHoldsWhatTheFunctionRuns() throws {
        let folder = try temporaryFolder("package")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try Self.build(into: folder.appendingPathComponent("a"))
        let second = try Self.build(into: folder.appendingPathComponent("b"))
        #expect(first.sha256 == second.sha256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == Data(contentsOf: URL(fileURLWithPath: second.path)))
        #expect(first.key == "etl/\(first.sha256).zip")
        #expect(first.parameter == "CodeKeyEtl")
        #expect(first.pipelines == ["clickstream"])
        #expect(first.unzippedBytes < 250 * 1_048_576, "Lambda's limit for a function's code")

        let listing = try unzip(URL(fileURLWithPath: first.path), into: folder.appendingPathComponent("root/var/task"))
        #expect(listing["bootstrap"] == 0o755)
        #expect(listing["lib/ld.so"] == 0o755)
        #expect(listing["sluice/plan.json"] == 0o644)
        #expect(listing["sluice/spec.yaml"] == 0o644)
        #expect(listing.keys.contains("lib/libc.so.6") && listing.keys.contains("lib/libpq.so.5") && listing.keys.contains("lib/libswiftCore.so"))
        let elf = try runTool("/usr/bin/readelf", ["-l", "-d", folder.appendingPathComponent("root/var/task/bootstrap").path])
        #expect(elf.contains("[Requesting program interpreter: /var/task/lib/ld.so]"))
        #expect(elf.contains("(RPATH)") && elf.contains("[/var/task/lib]") && !elf.contains("RUNPATH"))
        let plan = try PipelineExecution.readPlan(folder.appendingPathComponent("root/var/task/sluice/plan.json").path)
        #expect(plan.pipelines.map(\.workload) == ["etl"])
    }

    @Test func anotherArchitectureIsRefusedWithWhatToDo() throws {
        let folder = try temporaryFolder("package-arch")
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = RuntimeArchitecture.current == "x86_64" ? "arm64" : "x86_64"
        let path = try Self.spec(in: folder)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
            of: "architecture: \(RuntimeArchitecture.current)", with: "architecture: \(other)")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try CLI.run(["package", path, "--output", folder.path])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("function 'etl' runs on \(other)") && result.stderr.contains("set `architecture: \(RuntimeArchitecture.current)`"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["clickstream.yaml"], "nothing written")
    }

    @Test func theBootstrapServesTheFunctionInAnEmptyRoot() async throws {
        let folder = try temporaryFolder("lambda")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try unpackedFunction(in: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["var"], "nothing of this machine in the root")

        let moto = try MotoServer.shared.get()
        let database = try TestServer.freshDatabase("lambda")
        let bucket = "sluice-lambda-\(getpid())"
        let secret = "dw-credentials-\(getpid())"
        try aws(
            moto,
            """
            s3.create_bucket(Bucket=BUCKET)
            for key in ["events/2026/11/20/09/part-0000.jsonl", "events/2026/11/20/10/part-0001.jsonl.gz"]:
                s3.upload_file(SAMPLES + "/" + key, BUCKET, key)
            """ + Self.secrets, bucket: bucket, secret: secret)

        let api = try RuntimeAPIStandIn()
        defer { api.stop() }
        let function = try Bootstrap(root: root, api: api, moto: moto, database: database, bucket: bucket, secret: secret)
        defer { function.stop() }

        // Migrating from inside the VPC: the empty database gets the spec's schema.
        let migrated = try await api.invoke(#"{"sluice": "migrate", "allow_destructive": false}"#)
        try #require(migrated.kind == "response", "\(migrated.body)\n\(function.output)")
        #expect(migrated.json?["applied"] as? Bool == true)
        // The writer role may now log in with its own secret's password, stored as a SCRAM verifier.
        #expect(migrated.json?["login"] as? String == "etl_writer with the password in \(secret)-writer")
        #expect(try psql(database, "SELECT rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'etl_writer'") == "t")

        // The template's schedule rule passes {"pipeline": NAME}: both sample objects load.
        let scheduled = try await api.invoke(#"{"pipeline": "clickstream"}"#)
        #expect(scheduled.kind == "response", "\(scheduled.body)")
        #expect(Self.result(scheduled)?["objectsLoaded"] as? Int == 2)

        // The run's counts as embedded-metric-format lines: the metrics the template's alarms watch.
        let metricLines = function.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.filter { $0["_aws"] != nil }
        let metrics = try #require(metricLines.first, "no embedded-metric line in:\n\(function.output)")
        let declared = ((metrics["_aws"] as? [String: Any])?["CloudWatchMetrics"] as? [[String: Any]])?.first
        #expect(declared?["Namespace"] as? String == "Sluice")
        #expect(declared?["Dimensions"] as? [[String]] == [["FunctionName", "Pipeline"]])
        #expect(metrics["Pipeline"] as? String == "clickstream")
        #expect(metrics["ObjectsLoaded"] as? Int == 2 && metrics["ObjectsFailed"] as? Int == 0)
        #expect(metrics["RecordsQuarantined"] as? Int ?? 0 > 0 && metrics["RecordsRead"] as? Int ?? 0 > 0)
        let template = try String(contentsOf: packageRoot.appendingPathComponent("generated/clickstream/cloudformation.yaml"), encoding: .utf8)
        for name in ["ObjectsFailed", "RecordsQuarantined", "RecordsRead"] {
            #expect(template.contains("MetricName: \(name)") && metrics[name] != nil, "\(name): alarmed on and reported")
        }

        // A bare EventBridge schedule runs the function's pipelines: nothing new, nothing loaded twice.
        let rerun = try await api.invoke(#"{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}"#)
        #expect(Self.result(rerun)?["objectsLoaded"] as? Int == 0)
        #expect(Self.result(rerun)?["objectsSkipped"] as? Int == 2)

        // S3 notifications, one through SQS, name exactly the objects to load (keys form-encoded).
        try aws(
            moto,
            """
            for key in ["events/2026/11/20/11/part-0002.jsonl", "events/2026/11/20/11/part 0003.jsonl", "events/2026/11/20/12/part-0004.jsonl"]:
                s3.upload_file(SAMPLES + "/events/2026/11/20/09/part-0000.jsonl", BUCKET, key)
            """, bucket: bucket, secret: secret)
        let s3Event =
            #"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "\#(bucket)"}, "object": {"key": "events/2026/11/20/11/part+0003.jsonl"}}}]}"#
        let direct = try await api.invoke(s3Event)
        #expect(direct.kind == "response", "\(direct.body)")
        #expect(Self.result(direct)?["objectsLoaded"] as? Int == 1)
        #expect(Self.result(direct)?["objectsListed"] as? Int == 1, "only the named object, not its neighbours")
        let inner = s3Event.replacingOccurrences(of: "part+0003", with: "part%2D0002").replacingOccurrences(of: "\"", with: "\\\"")
        let queued = try await api.invoke(#"{"Records": [{"eventSource": "aws:sqs", "body": "\#(inner)"}]}"#)
        #expect(Self.result(queued)?["objectsLoaded"] as? Int == 1, "\(queued.body)")

        // Too little time left to finish an object: none is started, what is left is said, and the
        // next invocation loads it.
        let hurried = try await api.invoke(#"{"pipeline": "clickstream"}"#, deadline: 2)
        #expect(hurried.kind == "response", "\(hurried.body)")
        #expect(Self.result(hurried)?["objectsLoaded"] as? Int == 0)
        #expect(Self.result(hurried)?["objectsLeft"] as? Int == 1)
        #expect(Self.result(hurried)?["stoppedAtDeadline"] as? Bool == true)
        let after = try await api.invoke(#"{"pipeline": "clickstream"}"#)
        #expect(Self.result(after)?["objectsLoaded"] as? Int == 1)
        #expect(Self.result(after)?["objectsSkipped"] as? Int == 4)

        // What the function cannot take is an error answer naming why.
        let unknown = try await api.invoke(#"{"hello": "world"}"#)
        #expect(unknown.kind == "error" && unknown.errorType == "Sluice.BadEvent")
        let notMine = try await api.invoke(#"{"pipeline": "orders"}"#)
        #expect(notMine.kind == "error" && notMine.body.contains("this function runs no pipeline 'orders'; it runs clickstream"))

        // Every run logged in as the writer role, never as the admin; the masked column was hashed
        // with the key from its secret (no SLUICE_MASK_KEY in this environment).
        #expect(try psql(database, "SELECT string_agg(DISTINCT database_role, ',') FROM sluice.load_runs") == "etl_writer")
        let unloadable = try await api.invoke(#"{"sluice": "reload", "pipeline": "clickstream"}"#)
        #expect(unloadable.kind == "error" && unloadable.body.contains("a reload names the objects to load again"))
        #expect(try psql(database, "SELECT count(*) FROM analytics.dim_users WHERE length(email_hash) = 64") != "0")

        // A reload request replaces an object's earlier load, as the admin (the writer may not delete).
        let reload = try await api.invoke(#"{"sluice": "reload", "pipeline": "clickstream", "keys": ["events/2026/11/20/09/part-0000.jsonl"]}"#)
        #expect(reload.kind == "response", "\(reload.body)")
        #expect(Self.result(reload)?["objectsLoaded"] as? Int == 1)
        #expect((Self.result(reload)?["counts"] as? [String: Any])?["loadsReplaced"] as? Int == 1)
        #expect(try psql(database, "SELECT database_role FROM sluice.load_runs ORDER BY run_id DESC LIMIT 1") == "sluice")
        #expect(try psql(database, "SELECT count(*) FROM sluice.manifest_replaced") == "1")

        // The rows are in the warehouse, each object once.
        let manifest = try psql(database, "SELECT count(*) FROM sluice.manifest WHERE pipeline = 'clickstream'")
        #expect(manifest == "5")
    }

    /// `apply --stack` migrates the deployed warehouse from inside the VPC: it invokes the stack's
    /// pipeline function with the migrate event through Lambda's Invoke API (the stand-in hands the
    /// event to this package's bootstrap through the Runtime API), and the empty database gets the schema.
    @Test func applyMigratesTheWarehouseThroughThePackagedFunction() async throws {
        let folder = try temporaryFolder("lambda-apply")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try unpackedFunction(in: folder)
        let moto = try MotoServer.shared.get()
        let database = try TestServer.freshDatabase("lambda_apply")
        let secret = "dw-credentials-apply-\(getpid())"
        try aws(moto, Self.secrets, bucket: "unused", secret: secret)
        let api = try RuntimeAPIStandIn()
        defer { api.stop() }
        let function = try Bootstrap(root: root, api: api, moto: moto, database: database, bucket: "unused", secret: secret)
        defer { function.stop() }

        let environment = [
            "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey, "AWS_ENDPOINT_URL_LAMBDA": "http://\(api.endpoint)",
            "SLUICE_POLL_SECONDS": "0.2",
        ]
        let removed = ["AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"]
        let bootstrapped = try CLI.run(
            ["bootstrap", "--region", "eu-west-1", "--auto-approve"], in: folder, environment: environment, removing: removed)
        #expect(bootstrapped.status == 0, "\(bootstrapped.stderr)")
        let applied = try CLI.run(
            ["apply", "clickstream.yaml", "--stack", "cs-migrate", "--environment", "dev", "--auto-approve", "--format", "json"], in: folder,
            environment: environment,
            removing: removed)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)\n\(function.output)")
        let report = (try? JSONSerialization.jsonObject(with: Data(applied.stdout.utf8))) as? [String: Any]
        let migration = (report?["outcome"] as? [String: Any])?["migration"] as? [String: Any]
        #expect(migration?["succeeded"] as? Bool == true, "\(applied.stdout)")
        let answer = (migration?["answer"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]
        #expect(answer?["applied"] as? Bool == true)
        #expect(
            try psql(database, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'analytics' AND table_name = 'fact_events'")
                == "1")
        #expect(try psql(database, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'etl_writer'") == "t")
    }

    /// Lambda runs one invocation per environment and scales out with more environments: S3 events
    /// for different objects load at the same time, the same object delivered twice at once is loaded
    /// once, and an environment killed mid-load (SIGKILL, as a timeout or a crash ends it) leaves
    /// nothing of its object behind; the next delivery loads it.
    @Test func environmentsSideBySideLoadEachObjectOnceAndACrashLeavesNothingHalfLoaded() async throws {
        let folder = try temporaryFolder("lambda-concurrent")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try unpackedFunction(in: folder)
        let moto = try MotoServer.shared.get()
        let database = try TestServer.freshDatabase("lambda")
        let bucket = "sluice-concurrent-\(getpid())"
        let secret = "dw-concurrent-\(getpid())"
        let keys = ["events/2026/11/20/09/part-0000.jsonl", "events/2026/11/20/10/part-0001.jsonl.gz"]
        try aws(
            moto,
            """
            s3.create_bucket(Bucket=BUCKET)
            for key in \(keys):
                s3.upload_file(SAMPLES + "/" + key, BUCKET, key)
            """ + Self.secrets, bucket: bucket, secret: secret)
        func event(_ key: String) -> String {
            #"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "\#(bucket)"}, "object": {"key": "\#(key)"}}}]}"#
        }
        let api = try RuntimeAPIStandIn()
        defer { api.stop() }

        // An environment that dies just before its object's COMMIT.
        let doomed = try Bootstrap(
            root: root, api: api, moto: moto, database: database, bucket: bucket, secret: secret, adding: ["SLUICE_TEST_CRASH_AT": "before-commit"])
        defer { doomed.stop() }
        let migrated = try await api.invoke(#"{"sluice": "migrate"}"#)
        try #require(migrated.kind == "response", "\(migrated.body)\n\(doomed.output)")
        let lost = try await api.invoke(event(keys[0]), wait: 15)
        #expect(lost.kind == "timeout", "no answer from a killed environment: \(lost.body)\n\(doomed.output)")
        #expect(try await doomed.ended(within: 10), "the environment died at the fault point")
        #expect(try psql(database, "SELECT count(*) FROM sluice.manifest") == "0")
        #expect(try psql(database, "SELECT count(*) FROM analytics.fact_events") == "0", "nothing of the object is visible")
        #expect(try psql(database, "SELECT string_agg(status, ',') FROM sluice.load_runs") == "running")

        // Three environments; every merge into the first target waits behind a lock the test holds,
        // so loads that are under way at the same time are seen waiting at the same time.
        let environments = try (0..<3).map { _ in
            try Bootstrap(root: root, api: api, moto: moto, database: database, bucket: bucket, secret: secret)
        }
        defer { environments.forEach { $0.stop() } }
        let blocker = Process()
        blocker.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        blocker.arguments = ["-XAtq", database, "-c", "BEGIN; LOCK TABLE analytics.dim_users IN SHARE MODE; SELECT pg_sleep(600)"]
        blocker.environment = ["PGAPPNAME": "lock-holder"]
        try blocker.run()
        // Its server process outlives a killed psql (pg_sleep does not look at the client): end both.
        func release() throws {
            try psql(database, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'lock-holder'")
            if blocker.isRunning { kill(blocker.processIdentifier, SIGKILL) }
        }
        defer { try? release() }
        async let first = api.invoke(event(keys[0]))
        async let second = api.invoke(event(keys[1]))
        async let again = api.invoke(event(keys[0]))
        var waiting = ""
        for _ in 0..<600 {
            waiting = try psql(
                database,
                "SELECT count(*) FILTER (WHERE locktype = 'relation') || ' ' || count(*) FILTER (WHERE locktype = 'advisory') FROM pg_locks WHERE NOT granted"
            )
            if waiting == "2 1" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(waiting == "2 1", "two objects' loads at the merge at once, and the repeated object waiting for its lock")
        try release()
        let outcomes = try await [first, second, again]
        #expect(outcomes.allSatisfy { $0.kind == "response" }, "\(outcomes.map(\.body))")
        let results = outcomes.compactMap(Self.result)
        #expect(results.compactMap { $0["objectsLoaded"] as? Int }.reduce(0, +) == 2)
        #expect(results.compactMap { $0["objectsSkipped"] as? Int }.reduce(0, +) == 1)

        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: packageRoot.appendingPathComponent("samples/clickstream/expected.json")))
        let rows = try #require((expected as? [String: Any])?["rows"] as? [String: Int])
        for (table, count) in rows {
            #expect(try psql(database, "SELECT count(*) FROM \(table)") == String(count), "\(table)")
        }
        #expect(try psql(database, "SELECT count(*) FROM sluice.manifest") == "2")
        // The killed run was found by a later one: failed, while the three live ones were left alone.
        #expect(try psql(database, "SELECT string_agg(status, ',' ORDER BY run_id) FROM sluice.load_runs") == "failed,succeeded,succeeded,succeeded")
    }

    @Test func aWrongSecretIsAClearErrorAnswer() async throws {
        let folder = try temporaryFolder("lambda-secret")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try unpackedFunction(in: folder)
        let moto = try MotoServer.shared.get()
        let api = try RuntimeAPIStandIn()
        defer { api.stop() }
        let function = try Bootstrap(
            root: root, api: api, moto: moto, database: try TestServer.freshDatabase("lambda"), bucket: "none", secret: "no-such-secret")
        defer { function.stop() }
        let answer = try await api.invoke(#"{"sluice": "migrate"}"#)
        #expect(answer.kind == "error")
        #expect(answer.body.contains("Secrets Manager refused GetSecretValue for no-such-secret: ResourceNotFoundException"), "\(answer.body)")
    }

    // MARK: Helpers

    /// The function's package built and unpacked at `root/var/task`, as Lambda unpacks it; returns the root.
    func unpackedFunction(in folder: URL) throws -> URL {
        let package = try Self.build(into: folder)
        let root = folder.appendingPathComponent("root")
        _ = try unzip(URL(fileURLWithPath: package.path), into: root.appendingPathComponent("var/task"))
        return root
    }

    /// As the template's: the admin's (migrations only), the writer role's own, and the mask key.
    static let secrets = """

        sm.create_secret(Name=SECRET, SecretString=json.dumps({"username": "sluice", "password": "unused-with-trust"}))
        sm.create_secret(Name=SECRET + "-writer", SecretString=json.dumps({"username": "etl_writer", "password": "writer-secret-1"}))
        sm.create_secret(Name=SECRET + "-mask", SecretString="test-mask-key")
        """

    static func result(_ outcome: RuntimeAPIStandIn.Outcome) -> [String: Any]? {
        (outcome.json?["pipelines"] as? [[String: Any]])?.first
    }

    /// Unpacks with Python's zipfile, applying each entry's Unix mode: the modes the zip holds are the
    /// ones Lambda applies. Returns path → mode.
    func unzip(_ zip: URL, into folder: URL) throws -> [String: Int] {
        let script = """
            import json, os, sys, zipfile
            modes = {}
            with zipfile.ZipFile(sys.argv[1]) as z:
                for entry in z.infolist():
                    path = z.extract(entry, sys.argv[2])
                    mode = (entry.external_attr >> 16) & 0o777
                    os.chmod(path, mode)
                    modes[entry.filename] = mode
            print(json.dumps(modes))
            """
        let output = try runTool(try pythonExecutable(), ["-c", script, zip.path, folder.path])
        return try JSONDecoder().decode([String: Int].self, from: Data(output.utf8))
    }

    func aws(_ moto: MotoServer.Instance, _ body: String, bucket: String, secret: String) throws {
        let script =
            """
            import boto3, json, sys
            ENDPOINT, KEY, SECRET_KEY, BUCKET, SECRET, SAMPLES, S3_ENDPOINT = sys.argv[1:8]
            session = dict(region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET_KEY)
            s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT, **session)
            sm = boto3.client("secretsmanager", endpoint_url=ENDPOINT, **session)

            """ + body
        _ = try runTool(
            try pythonExecutable(),
            [
                "-c", script, moto.endpoint.absoluteString, moto.credentials.accessKeyID, moto.credentials.secretAccessKey, bucket, secret,
                packageRoot.appendingPathComponent("samples/clickstream/raw").path, try MotoServer.unchecked.get().endpoint.absoluteString,
            ])
    }

    @discardableResult
    func psql(_ url: String, _ sql: String) throws -> String {
        try runTool("/usr/bin/psql", ["-XAtq", url, "-c", sql]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// This test machine's architecture as a spec writes it.
enum RuntimeArchitecture {
    static var current: String {
        #if arch(arm64)
            return "arm64"
        #else
            return "x86_64"
        #endif
    }
}

/// One packaged function environment: the bootstrap started in the unpacked root (a chroot in new
/// mount and PID namespaces, with /proc as Lambda has it and the test cluster's socket folder mounted
/// at /pg), with the environment Lambda and the template give it.
final class Bootstrap: @unchecked Sendable {
    let process = Process()
    let log: URL

    init(
        root: URL, api: RuntimeAPIStandIn, moto: MotoServer.Instance, database: String, bucket: String, secret: String,
        adding extra: [String: String] = [:]
    ) throws {
        let components = try #require(URLComponents(string: database))
        let socketFolder = try #require(components.queryItems?.first { $0.name == "host" }?.value)
        let databaseName = String(components.path.dropFirst())
        for folder in ["proc", "pg", "tmp"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--pid", "--fork", "--kill-child", "--mount-proc=\(root.path)/proc", "/bin/sh", "-c",
            // Not exec'd: the shell stays the namespace's PID 1, as Lambda's init is, so the bootstrap
            // is an ordinary process (the kernel ignores a signal PID 1 sends itself).
            "mount --bind '\(socketFolder)' '\(root.path)/pg' && /usr/sbin/chroot '\(root.path)' /var/task/bootstrap",
        ]
        process.environment = [
            "AWS_LAMBDA_RUNTIME_API": api.endpoint, "LAMBDA_TASK_ROOT": "/var/task", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
            // Secrets Manager on the moto that checks signatures; S3 on the one that does not (see MotoServer.unchecked).
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.endpoint.absoluteString,
            "AWS_ENDPOINT_URL_S3": try MotoServer.unchecked.get().endpoint.absoluteString,
            "SLUICE_WAREHOUSE_HOST": "/pg", "SLUICE_WAREHOUSE_PORT": "5432", "SLUICE_WAREHOUSE_DATABASE": databaseName,
            "SLUICE_WAREHOUSE_ADMIN_SECRET": secret, "SLUICE_WAREHOUSE_LOGIN": "password", "SLUICE_WAREHOUSE_USER": "etl_writer",
            "SLUICE_WAREHOUSE_SECRET": secret + "-writer", "SLUICE_MASK_KEY_SECRET": secret + "-mask", "SLUICE_BUCKETS": "raw=\(bucket)",
            // As Lambda sets it: the host's /lib64 comes before the task's libraries.
            "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        ].merging(extra) { $1 }
        log = root.deletingLastPathComponent().appendingPathComponent("bootstrap-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// What the function wrote (its JSON log lines, and anything the loader or the runtime said).
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits (at most `seconds`) for the environment to end by itself; true when it did.
    func ended(within seconds: Double) async throws -> Bool {
        let until = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < until { try await Task.sleep(for: .milliseconds(100)) }
        return !process.isRunning
    }

    /// SIGKILL, as Lambda ends an environment; `--kill-child` takes the bootstrap with it.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@discardableResult
func runTool(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ToolFailure(description: "\(tool) \(arguments.first ?? "") exited \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}
