import AWSServices
import AWSSigning
import CloudFormation
import Foundation
import S3Client
import YAML

/// Where a spec deploys: one stack per environment (`--stack dev`, `--stack prod`) in one account.
public struct StackTarget: Sendable {
    public var stack: String
    /// Default: the spec's `project.region`.
    public var region: String?
    /// Default: the one `sluice bootstrap` made in the account and region.
    public var artifactBucket: String?
    /// Wait for a stack another deploy is updating instead of exiting busy (75).
    public var wait: Bool
    /// The spec's environment the stack is; default: the one the stack's name ends with.
    public var environment: String?

    public init(stack: String, region: String? = nil, artifactBucket: String? = nil, wait: Bool = false, environment: String? = nil) {
        self.stack = stack
        self.region = region
        self.artifactBucket = artifactBucket
        self.wait = wait
        self.environment = environment
    }

    /// Which of the spec's environments this stack is: the one named, else the one the stack's name
    /// is or ends with (`clickstream-dev` is `dev`). A spec with environments deploys only as one of them.
    public func environment(of spec: Spec) throws -> DeploymentEnvironment? {
        let names = spec.environments.map(\.name)
        if let environment {
            guard !names.isEmpty else {
                throw UsageError("--environment \(environment): the spec declares no environments; leave it out")
            }
            guard let chosen = spec.environment(environment) else {
                throw UsageError("--environment \(environment) is not one of the spec's environments (\(names.joined(separator: ", ")))")
            }
            return chosen
        }
        guard !names.isEmpty else { return nil }
        let matching = spec.environments.filter { stack == $0.name || stack.hasSuffix("-\($0.name)") }
        guard matching.count == 1 else {
            throw UsageError(
                "stack \(stack) \(matching.isEmpty ? "is none" : "matches several") of the spec's environments (\(names.joined(separator: ", "))): name the stack after one (\(spec.project.name)-\(names[0])) or pass --environment"
            )
        }
        return matching[0]
    }
}

/// Another deploy holds the stack (an update in progress): exit 75, as a busy pipeline does.
public struct StackBusy: Error, CustomStringConvertible {
    public var stack: String
    public var status: String
    public var description: String {
        "stack \(stack) is \(status): another deploy is changing it; run again when it settles, or pass --wait"
    }
}

/// `sluice plan --stack` / `apply --stack` / `destroy`: a spec's template against the stack
/// deployed in an account, through CloudFormation change sets.
public enum StackDeployment {
    /// What a change set would do to one resource, in the spec's words.
    public struct Change: Encodable, Sendable, Equatable {
        /// Add, Modify, Remove.
        public var action: String
        public var id: String
        /// The spec's name for it ("security group etl"), when it has one.
        public var name: String?
        public var type: String
        /// True, False or Conditional; nil for an Add or a Remove.
        public var replacement: String?
        /// The replacement is Sluice's prediction from the resource schema, not CloudFormation's answer
        /// (an API that does not say).
        public var predicted: Bool
        /// The changed property paths (`Properties.SecurityGroupIngress`).
        public var paths: [String]
        /// A stateful resource (warehouse, bucket, queue, host, key, secret) replaced or removed.
        public var destructive: Bool

        public var label: String { name.map { "\($0) (\(id))" } ?? id }
    }

    /// A resource changed outside CloudFormation (a rule added in the console), as drift detection found it.
    public struct Drift: Encodable, Sendable, Equatable {
        public struct Difference: Encodable, Sendable, Equatable {
            public var path: String
            /// ADD, REMOVE, NOT_EQUAL
            public var kind: String
            public var expected: String?
            public var actual: String?
        }
        public var id: String
        public var name: String?
        public var type: String
        /// MODIFIED or DELETED.
        public var status: String
        public var differences: [Difference]

        public var label: String { name.map { "\($0) (\(id))" } ?? id }
    }

    public struct Package: Encodable, Sendable {
        public var function: String
        public var key: String
        public var bytes: Int
        /// Already in the artifact bucket under its hash: not uploaded again.
        public var present: Bool
        /// Uploaded by this run.
        public var uploaded: Bool
    }

    /// A change set, created and described: what `plan --stack` shows and `apply --stack` executes.
    public struct Proposal: Encodable, Sendable {
        public var stack: String
        public var region: String
        /// The spec's environment this stack is, when the spec declares environments.
        public var environment: String?
        /// The stack's status before, nil when there is none.
        public var status: String?
        public var creating: Bool
        /// A first create rolled back (ROLLBACK_COMPLETE): the stack must be deleted before it is created again.
        public var recreating: Bool
        public var artifactBucket: String
        public var changeSet: String?
        public var changes: [Change]
        /// The security tables and resource changes against the template deployed in the stack.
        public var cloudformation: TemplateChanges?
        public var packages: [Package]
        /// Where CloudFormation reads the template from when it is over the 51,200 bytes a request body may carry.
        public var templateURL: String?
        /// Resources changed outside CloudFormation (`plan --stack` only).
        public var drift: [Drift] = []
        /// What the proposal could not do as asked, and what it did instead.
        public var notes: [String] = []
        public var upToDate: Bool { changes.isEmpty && !recreating }
        public var destructive: [Change] { changes.filter(\.destructive) }

        enum CodingKeys: String, CodingKey {
            case stack, region, environment, status, creating, recreating, artifactBucket, templateURL, changeSet, changes, cloudformation, drift,
                packages, notes,
                upToDate
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stack, forKey: .stack)
            try container.encode(region, forKey: .region)
            try container.encodeIfPresent(environment, forKey: .environment)
            try container.encodeIfPresent(status, forKey: .status)
            try container.encode(creating, forKey: .creating)
            try container.encode(recreating, forKey: .recreating)
            try container.encode(artifactBucket, forKey: .artifactBucket)
            try container.encodeIfPresent(templateURL, forKey: .templateURL)
            try container.encodeIfPresent(changeSet, forKey: .changeSet)
            try container.encode(changes, forKey: .changes)
            try container.encodeIfPresent(cloudformation, forKey: .cloudformation)
            try container.encode(drift, forKey: .drift)
            try container.encode(packages, forKey: .packages)
            try container.encode(notes, forKey: .notes)
            try container.encode(upToDate, forKey: .upToDate)
        }
    }

    /// What happened once the change set ran.
    public struct Outcome: Encodable, Sendable {
        public var stack: String
        public var status: String
        public var succeeded: Bool
        /// Each resource that failed, with CloudFormation's reason.
        public var failures: [Failed]
        public var outputs: [String: String]
        public var migration: Migration?

        public struct Failed: Encodable, Sendable {
            public var id: String
            public var name: String?
            public var status: String
            public var reason: String
        }
    }

    /// The answer of the pipeline function's migrate event.
    public struct Migration: Encodable, Sendable {
        public var function: String
        public var succeeded: Bool
        public var answer: String
    }

    /// One of the stack's events, as a deploy reports it.
    public struct Event: Encodable, Sendable {
        public var timestamp: String
        public var id: String
        public var name: String?
        public var type: String
        public var status: String
        public var reason: String?
        public var failed: Bool { status.hasSuffix("_FAILED") }
    }

    /// Told of progress while a deploy runs: packages uploaded, stack events as they arrive.
    public protocol Observer: Sendable {
        func note(_ line: String)
        func event(_ event: Event)
    }

    /// Says nothing: `plan --stack` only describes.
    public struct Silent: Observer {
        public init() {}
        public func note(_ line: String) {}
        public func event(_ event: Event) {}
    }

    /// The clients and values one deploy shares between its steps.
    public struct Session: Sendable {
        public let compilation: Compilation
        public let spec: Spec
        public let target: StackTarget
        public let region: String
        /// The spec's environment this stack is (nil when the spec declares none).
        public let environment: DeploymentEnvironment?
        let folder: GeneratedFolder
        let cloudFormation: CloudFormationAPI
        let s3: S3Client
        let ec2: EC2API
        let lambda: LambdaAPI
        let names: [String: String]
        let packageFolder: URL
        let executable: String

        public init(
            compilation: Compilation, target: StackTarget, generated: String = "generated", executable: String = "/proc/self/exe"
        ) async throws {
            guard let spec = compilation.spec else { throw Failure("\(compilation.file) did not compile") }
            self.compilation = compilation
            self.spec = spec
            self.target = target
            region = target.region ?? spec.project.region
            try Self.checkNames(spec: spec, stack: target.stack, region: region)
            environment = try target.environment(of: spec)
            folder = try GeneratedFolder(spec: spec, specPath: compilation.file, root: generated)
            let credentials = try await CredentialChain.resolve(region: region)
            cloudFormation = CloudFormationAPI(region: region, credentials: credentials)
            s3 = S3Client(region: region, credentials: credentials)
            ec2 = EC2API(region: region, credentials: credentials)
            lambda = LambdaAPI(region: region, credentials: credentials)
            names = TemplateRenderer.displayNames(spec: spec)
            let base = URL(fileURLWithPath: compilation.file).deletingPathExtension().lastPathComponent
            packageFolder = URL(fileURLWithPath: ".sluice/packages/\(base)")
            self.executable = executable
        }

        /// Every name AWS requires to be unique includes the stack, so environments of one spec
        /// coexist; bucket names are lowercase and at most 63 characters, so the stack name must fit.
        static func checkNames(spec: Spec, stack: String, region: String) throws {
            guard stack.range(of: "^[a-z][a-z0-9-]{0,127}$", options: .regularExpression) != nil, !stack.hasSuffix("-") else {
                throw UsageError(
                    "stack name '\(stack)' must be lowercase letters, digits and hyphens, starting with a letter: bucket names include it, and S3 takes lowercase only"
                )
            }
            for bucket in spec.storage.buckets {
                // <stack>-<bucket>-<12-digit account>-<region>
                let length = stack.count + 1 + bucket.name.count + 1 + 12 + 1 + region.count
                if length > 63 {
                    throw UsageError(
                        "stack name '\(stack)' is too long for bucket \(bucket.name): its name would have \(length) characters in \(region), and S3 takes at most 63"
                    )
                }
            }
        }
    }

    // MARK: - Proposal

    /// Packages, parameters and a change set: everything up to executing it. With `upload`, the
    /// packages (and a template over CloudFormation's 51,200-byte body limit) go to the artifact
    /// bucket first, as the change set's execution will read them there.
    public static func propose(_ session: Session, upload: Bool, observer: any Observer) async throws -> Proposal {
        let stackName = session.target.stack
        var existing = try await session.cloudFormation.stack(stackName)
        while let stack = existing, stack.isBusy {
            guard session.target.wait else { throw StackBusy(stack: stackName, status: stack.status) }
            observer.note("stack \(stackName) is \(stack.status); waiting")
            try await Task.sleep(for: .seconds(5))
            existing = try await session.cloudFormation.stack(stackName)
        }
        let recreating = existing?.status == "ROLLBACK_COMPLETE"
        let deployed = existing.map { $0.status != "REVIEW_IN_PROGRESS" && !recreating } ?? false
        let artifactBucket = try await artifactBucket(session)

        // Packages, under their hashes: an unchanged function keeps its key, so CloudFormation leaves it alone.
        var packages: [Package] = []
        var notes: [String] = []
        var codeKeys: [String: String] = [:]
        let functions = session.spec.compute.functions.filter { function in session.spec.pipelines.contains { $0.workload == function.name } }
        if !functions.isEmpty {
            let built: [FunctionPackaging.Built]
            do {
                built = try FunctionPackaging.build(session.compilation, functions: [], output: session.packageFolder, executable: session.executable)
            } catch let failure as Failure where !upload {
                // A plan only describes: a function this machine cannot package (another architecture) keeps
                // the code deployed in the stack, and the plan says so.
                notes.append("packages not built (\(failure)); the functions' code is compared as deployed")
                observer.note(notes[notes.count - 1])
                for function in functions {
                    let parameter = "CodeKey" + LogicalName.part(function.name)
                    codeKeys[parameter] = existing?.parameters[parameter] ?? "\(function.name)/not-packaged-on-this-machine.zip"
                }
                built = []
            }
            for package in built {
                let present = try await session.s3.objectExists(bucket: artifactBucket, key: package.key)
                if upload && !present {
                    observer.note(
                        "uploading \(package.function)'s package (\(package.zippedBytes / 1_000_000) MB) to s3://\(artifactBucket)/\(package.key)")
                    try await session.s3.putObject(
                        bucket: artifactBucket, key: package.key, body: Array(try Data(contentsOf: URL(fileURLWithPath: package.path))))
                }
                packages.append(
                    Package(function: package.function, key: package.key, bytes: package.zippedBytes, present: present, uploaded: upload && !present))
                codeKeys[package.parameter] = package.key
            }
        }
        let parameters = try await resolveParameters(session, artifactBucket: artifactBucket, codeKeys: codeKeys)
        let template = try await templateSource(session, artifactBucket: artifactBucket, upload: upload)

        // Against the template deployed in this stack, not only the one committed in generated/.
        let deployedTemplate = deployed ? try await session.cloudFormation.template(ofStack: stackName) : nil
        let previous = deployedTemplate.flatMap { text in
            YAMLReader(file: "\(stackName) (deployed)").read(Array(text.utf8)).root.map(YAMLValue.init(readBack:))
        }
        // With environments, both sides read with this stack's values: the changes are this environment's.
        let environmentName = session.environment?.name
        let diff = TemplateDiff(
            old: previous.map { TemplateRenderer.resolving($0, environment: environmentName) },
            new: TemplateRenderer.resolving(session.folder.template, environment: environmentName), names: session.names)
        let templateChanges = TemplateChanges(diff)

        var proposal = Proposal(
            stack: stackName, region: session.region, environment: environmentName, status: existing?.status, creating: !deployed,
            recreating: recreating,
            artifactBucket: artifactBucket, changeSet: nil, changes: [], cloudformation: templateChanges.isEmpty ? nil : templateChanges,
            packages: packages, notes: notes)
        if case .url(let url) = template { proposal.templateURL = url }
        if deployed && !upload {
            do {
                proposal.drift = try await drift(of: stackName, in: session, notes: &proposal.notes)
            } catch let error as AWSServiceError {
                // A plan describes what it can: denied or unavailable drift detection is said, not fatal.
                proposal.notes.append("drift not detected: \(error)")
            }
        }
        if recreating {
            // A change set cannot be made for a stack in ROLLBACK_COMPLETE; apply deletes it first.
            proposal.changes = diff.added.map {
                Change(
                    action: "Add", id: $0.id, name: session.names[$0.id], type: $0.type, replacement: nil, predicted: false, paths: [],
                    destructive: false)
            }
            return proposal
        }
        let request = CloudFormationAPI.ChangeSetRequest(
            stack: stackName, name: "sluice-\(changeSetStamp())", creating: !deployed, template: template, parameters: parameters,
            capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            tags: [("sluice:spec", session.spec.project.name), ("sluice:stack", stackName)],
            description: "sluice \(SluiceVersion.current): \(URL(fileURLWithPath: session.compilation.file).lastPathComponent)")
        guard let (id, changeSet) = try await prepareChangeSet(request, with: session.cloudFormation) else {
            proposal.cloudformation = nil
            return proposal
        }
        proposal.changeSet = id
        proposal.changes = changeSet.changes.map { change(from: $0, diff: diff, names: session.names) }
        return proposal
    }

    /// CloudFormation's drift detection on the deployed stack: what was changed outside it.
    static func drift(of stack: String, in session: Session, notes: inout [String]) async throws -> [Drift] {
        let id = try await session.cloudFormation.detectDrift(ofStack: stack)
        if let problem = try await session.cloudFormation.waitForDriftDetection(id, poll: pollInterval) {
            notes.append("drift detection incomplete: \(problem)")
        }
        return try await session.cloudFormation.resourceDrifts(ofStack: stack).map { drift in
            Drift(
                id: drift.logicalID, name: session.names[drift.logicalID], type: drift.type, status: drift.status,
                differences: drift.differences.map { .init(path: $0.path, kind: $0.kind, expected: $0.expected, actual: $0.actual) })
        }
    }

    /// One of CloudFormation's resource changes in the spec's words: its name, the paths from the
    /// template diff (or the change set's details), and whether it replaces something that holds data.
    static func change(from resource: CloudFormationAPI.ResourceChange, diff: TemplateDiff, names: [String: String]) -> Change {
        var paths = diff.modified.first { $0.id == resource.logicalID }?.paths ?? []
        if paths.isEmpty {
            paths = Array(Set(resource.details.compactMap { detail in detail.name.map { "\(detail.attribute ?? "Properties").\($0)" } })).sorted()
        }
        var replacement = resource.replacement
        var predicted = false
        if resource.action == "Modify", replacement == nil {
            replacement = ReplacementRules.predictedReplacement(type: resource.type, paths: paths)
            predicted = replacement != nil
        }
        let destructive =
            ReplacementRules.statefulTypes.contains(resource.type)
            && (resource.action == "Remove" || replacement == "True" || replacement == "Conditional")
        return Change(
            action: resource.action, id: resource.logicalID, name: names[resource.logicalID], type: resource.type,
            replacement: resource.action == "Modify" ? replacement : nil, predicted: predicted, paths: paths, destructive: destructive)
    }

    /// The artifact bucket: given, or the one `sluice bootstrap` made in this account and region.
    static func artifactBucket(_ session: Session) async throws -> String {
        if let bucket = session.target.artifactBucket { return bucket }
        guard let stack = try await session.cloudFormation.stack(Bootstrap.stackName), let bucket = stack.outputs["ArtifactBucket"] else {
            throw Failure(
                "no artifact bucket for \(session.region): run `sluice bootstrap --region \(session.region)` once per account and region, or pass --artifact-bucket"
            )
        }
        return bucket
    }

    /// Every parameter of the template, resolved: the artifact bucket, each function's code key,
    /// and the AWS-managed prefix lists' IDs in the region (never asked of the user).
    static func resolveParameters(
        _ session: Session, artifactBucket: String, codeKeys: [String: String]
    ) async throws -> [(key: String, value: String)] {
        guard case .map(let declared)? = session.folder.template["Parameters"] else { return [] }
        var values: [(key: String, value: String)] = []
        for (name, declaration) in declared {
            if name == "ArtifactBucket" {
                values.append((name, artifactBucket))
            } else if name == TemplateRenderer.environmentParameter, let environment = session.environment {
                values.append((name, environment.name))
            } else if let key = codeKeys[name] {
                values.append((name, key))
            } else if name.hasPrefix("PrefixList") {
                let service = prefixListService(declaration) ?? String(name.dropFirst("PrefixList".count)).lowercased()
                let listName = "com.amazonaws.\(session.region).\(service)"
                guard let id = try await session.ec2.managedPrefixListID(named: listName) else {
                    throw Failure("the region \(session.region) has no managed prefix list \(listName) (parameter \(name))")
                }
                values.append((name, id))
            } else if declaration["Default"] == nil {
                throw Failure("the template's parameter \(name) has no value: this sluice does not know where to find it")
            }
        }
        return values
    }

    /// The service of a `PrefixList…` parameter, from its description (`…com.amazonaws.<region>.s3 …`).
    static func prefixListService(_ declaration: TemplateValue) -> String? {
        guard case .string(let description)? = declaration["Description"], let range = description.range(of: "com.amazonaws.<region>.") else {
            return nil
        }
        return String(description[range.upperBound...].prefix { !$0.isWhitespace && $0 != ")" })
    }

    /// The template as the body of the request, or — over 51,200 bytes, CloudFormation's limit for a
    /// body — from the artifact bucket under its hash.
    static func templateSource(_ session: Session, artifactBucket: String, upload: Bool) async throws -> CloudFormationAPI.TemplateSource {
        let text = session.folder.files.first { $0.name == "cloudformation.yaml" }?.contents ?? ""
        guard text.utf8.count > 51_200 else { return .body(text) }
        let key = "templates/\(session.target.stack)/\(SigningRequest.hash(Data(text.utf8))).yaml"
        if upload, try await !session.s3.objectExists(bucket: artifactBucket, key: key) {
            try await session.s3.putObject(bucket: artifactBucket, key: key, body: Array(text.utf8))
        }
        // CloudFormation reads it from S3 itself, so AWS's own address of the object, whatever endpoint uploaded it.
        return .url("https://\(artifactBucket).s3.\(session.region).amazonaws.com/\(key)")
    }

    /// Removes a change set that was only described (`plan --stack`, or an apply that stopped).
    public static func discard(_ proposal: Proposal, in session: Session) async throws {
        guard let id = proposal.changeSet else { return }
        try await deleteChangeSet(id, stack: proposal.stack, creating: proposal.creating && !proposal.recreating, with: session.cloudFormation)
    }

    // MARK: - Execution

    /// Executes the proposal's change set and follows the stack's events until it settles. A stack
    /// whose first create rolled back is deleted first (the proposal says so, and was confirmed).
    public static func execute(_ proposal: Proposal, in session: Session, observer: any Observer) async throws -> Outcome {
        var proposal = proposal
        if proposal.recreating {
            guard let stack = try await session.cloudFormation.stack(proposal.stack) else { throw Failure("stack \(proposal.stack) vanished") }
            observer.note("deleting \(proposal.stack), whose first create rolled back (ROLLBACK_COMPLETE)")
            _ = try await deleteStack(stack, with: session.cloudFormation, names: session.names, observer: observer)
            proposal = try await propose(session, upload: true, observer: observer)
        }
        guard let id = proposal.changeSet else {
            let stack = try await session.cloudFormation.stack(proposal.stack)
            return Outcome(
                stack: proposal.stack, status: stack?.status ?? "NONE", succeeded: true, failures: [], outputs: stack?.outputs ?? [:], migration: nil)
        }
        let (final, events) = try await executeChangeSet(
            id, stack: proposal.stack, with: session.cloudFormation, names: session.names, observer: observer)
        let succeeded = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"].contains(final.status)
        let failures = events.filter { $0.failed && $0.reason != "Resource creation cancelled" }.map {
            Outcome.Failed(id: $0.logicalID, name: session.names[$0.logicalID], status: $0.status, reason: $0.reason ?? "")
        }
        return Outcome(stack: proposal.stack, status: final.status, succeeded: succeeded, failures: failures, outputs: final.outputs, migration: nil)
    }

    /// Polls the stack until it is no longer in progress, reporting each new event; returns its last
    /// state and the events seen. A deleted stack is followed by its ID (its name no longer answers).
    static func follow(
        stackID: String, cloudFormation: CloudFormationAPI, names: [String: String], after: String?, observer: any Observer
    ) async throws -> (CloudFormationAPI.Stack, [CloudFormationAPI.Event]) {
        var seen = after
        var all: [CloudFormationAPI.Event] = []
        while true {
            let events = try await cloudFormation.events(ofStack: stackID, after: seen)
            for event in events { observer.event(Event(event, names: names)) }
            all += events
            seen = events.last?.id ?? seen
            guard let stack = try await cloudFormation.stack(stackID) else {
                return (CloudFormationAPI.Stack(id: stackID, name: stackID, status: "DELETE_COMPLETE", outputs: [:], parameters: [:], tags: [:]), all)
            }
            if !stack.isBusy && stack.status != "REVIEW_IN_PROGRESS" {
                // The events of the last moments may land after the status does.
                let last = try await cloudFormation.events(ofStack: stackID, after: seen)
                for event in last { observer.event(Event(event, names: names)) }
                return (stack, all + last)
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Migrates the warehouse from inside the VPC: the first pipeline function (by name) gets the
    /// migrate event, as `aws lambda invoke` would send it. The warehouse admits only its clients.
    /// Destructive migration steps (a dropped column, a narrowed type) run only with `allowDestructive`,
    /// as `apply --allow-destructive` says; otherwise the function refuses them and the deploy fails.
    public static func migrate(_ session: Session, stack: String, allowDestructive: Bool) async throws -> Migration? {
        guard session.spec.warehouse != nil,
            let function = session.spec.compute.functions.filter({ function in session.spec.pipelines.contains { $0.workload == function.name } })
                .map(\.name).sorted().first
        else { return nil }
        let logicalID = TemplateRenderer.functionLogicalID(function)
        guard let resource = try await session.cloudFormation.resources(ofStack: stack).first(where: { $0.logicalID == logicalID }) else {
            throw Failure("stack \(stack) has no \(logicalID) to migrate the warehouse with")
        }
        let event = #"{"sluice": "migrate", "allow_destructive": \#(allowDestructive)}"#
        let invocation = try await session.lambda.invoke(function: resource.physicalID, payload: Array(event.utf8))
        let answer = String(decoding: invocation.payload, as: UTF8.self)
        return Migration(function: resource.physicalID, succeeded: invocation.functionError == nil, answer: answer)
    }

    // MARK: - Destroy

    public struct Retained: Encodable, Sendable {
        public var id: String
        public var name: String?
        public var type: String
        /// The bucket name, the database identifier, … as AWS knows it.
        public var physicalID: String
        /// Retain or Snapshot.
        public var policy: String
    }

    /// A stack about to be deleted and what deleting it keeps.
    public struct Teardown: Encodable, Sendable {
        public var stack: String
        public var status: String
        public var retained: [Retained]
        let deployed: CloudFormationAPI.Stack

        enum CodingKeys: String, CodingKey { case stack, status, retained }
    }

    /// What deleting the stack keeps: resources whose DeletionPolicy is Retain or Snapshot, with
    /// where they are. Nil when there is no such stack.
    public static func teardown(_ session: Session) async throws -> Teardown? {
        guard let stack = try await session.cloudFormation.stack(session.target.stack) else { return nil }
        let text = try await session.cloudFormation.template(ofStack: stack.id)
        let template = YAMLReader(file: "deployed").read(Array(text.utf8)).root.map(YAMLValue.init(readBack:))
        let physical = Dictionary(
            try await session.cloudFormation.resources(ofStack: stack.id).map { ($0.logicalID, $0.physicalID) }, uniquingKeysWith: { a, _ in a })
        var kept: [Retained] = []
        for (id, resource) in TemplateDiff.resources(template) {
            guard case .string(let policy)? = resource["DeletionPolicy"],
                policy == "Retain" || policy == "Snapshot" || policy == "RetainExceptOnCreate"
            else { continue }
            kept.append(
                Retained(
                    id: id, name: session.names[id], type: TemplateDiff.type(resource), physicalID: physical[id] ?? "(not created)", policy: policy))
        }
        return Teardown(stack: stack.name, status: stack.status, retained: kept, deployed: stack)
    }

    public static func destroy(_ teardown: Teardown, in session: Session, observer: any Observer) async throws -> Outcome {
        let stack = teardown.deployed
        guard !stack.isBusy else { throw StackBusy(stack: stack.name, status: stack.status) }
        let (final, events) = try await deleteStack(stack, with: session.cloudFormation, names: session.names, observer: observer)
        let failures = events.filter(\.failed).map {
            Outcome.Failed(id: $0.logicalID, name: session.names[$0.logicalID], status: $0.status, reason: $0.reason ?? "")
        }
        return Outcome(
            stack: stack.name, status: final.status, succeeded: final.status == "DELETE_COMPLETE", failures: failures, outputs: [:], migration: nil)
    }

    // MARK: - Change sets and deletions (`apply`, `destroy`, `bootstrap`)

    /// Creates a change set and waits for it. Nil, and deleted, when it changes nothing.
    static func prepareChangeSet(
        _ request: CloudFormationAPI.ChangeSetRequest, with cloudFormation: CloudFormationAPI
    ) async throws -> (id: String, changeSet: CloudFormationAPI.ChangeSet)? {
        let id = try await cloudFormation.createChangeSet(request)
        let changeSet = try await cloudFormation.waitForChangeSet(id, stack: request.stack, poll: pollInterval)
        if changeSet.changesNothing {
            try await cloudFormation.deleteChangeSet(id, stack: request.stack)
            return nil
        }
        guard changeSet.status == "CREATE_COMPLETE" else {
            throw Failure("CloudFormation could not create the change set for \(request.stack): \(changeSet.statusReason ?? changeSet.status)")
        }
        return (id, changeSet)
    }

    /// Deletes a change set that will not run; for a create, also the stack CloudFormation made only to
    /// hold it (left in REVIEW_IN_PROGRESS).
    static func deleteChangeSet(_ id: String, stack: String, creating: Bool, with cloudFormation: CloudFormationAPI) async throws {
        try await cloudFormation.deleteChangeSet(id, stack: stack)
        if creating, let held = try await cloudFormation.stack(stack), held.status == "REVIEW_IN_PROGRESS" {
            try await cloudFormation.deleteStack(held.id)
        }
    }

    /// Executes a change set and follows the stack from its newest event until it settles.
    static func executeChangeSet(
        _ id: String, stack: String, with cloudFormation: CloudFormationAPI, names: [String: String], observer: any Observer
    ) async throws -> (CloudFormationAPI.Stack, [CloudFormationAPI.Event]) {
        let before = try await cloudFormation.latestEventID(ofStack: stack)
        try await cloudFormation.executeChangeSet(id, stack: stack)
        guard let deployed = try await cloudFormation.stack(stack) else { throw Failure("stack \(stack) vanished") }
        return try await follow(stackID: deployed.id, cloudFormation: cloudFormation, names: names, after: before, observer: observer)
    }

    /// Deletes a stack and follows it, by its ID, from its newest event to the end.
    static func deleteStack(
        _ stack: CloudFormationAPI.Stack, with cloudFormation: CloudFormationAPI, names: [String: String], observer: any Observer
    ) async throws -> (CloudFormationAPI.Stack, [CloudFormationAPI.Event]) {
        let before = try await cloudFormation.latestEventID(ofStack: stack.id)
        try await cloudFormation.deleteStack(stack.id)
        return try await follow(stackID: stack.id, cloudFormation: cloudFormation, names: names, after: before, observer: observer)
    }

    /// How often a deploy asks CloudFormation how it is doing (`SLUICE_POLL_SECONDS`, for tests against a stand-in).
    static var pollInterval: Duration {
        .milliseconds(Int((Double(ProcessInfo.processInfo.environment["SLUICE_POLL_SECONDS"] ?? "") ?? 3) * 1000))
    }

    static func changeSetStamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}

extension StackDeployment.Event {
    init(_ event: CloudFormationAPI.Event, names: [String: String]) {
        self.init(
            timestamp: event.timestamp, id: event.logicalID, name: names[event.logicalID], type: event.type, status: event.status,
            reason: event.reason)
    }
}
