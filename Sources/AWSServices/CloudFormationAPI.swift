import AWSSigning
import Foundation

/// The CloudFormation API calls a deploy makes: stacks, change sets, events, templates.
public struct CloudFormationAPI: Sendable {
    let service: AWSService
    static let version = "2010-05-15"

    public init(region: String, credentials: AWSCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) {
        service = AWSService(
            name: "CloudFormation", signingName: "cloudformation", host: "cloudformation.\(region).amazonaws.com",
            environmentKey: "CLOUDFORMATION", region: region, credentials: credentials, environment: environment)
    }

    public var endpoint: URL { service.endpoint }

    public struct Stack: Sendable, Equatable {
        public var id: String
        public var name: String
        public var status: String
        public var statusReason: String?
        public var outputs: [String: String]
        public var parameters: [String: String]
        public var tags: [String: String]

        /// A status CloudFormation is still working towards (`…_IN_PROGRESS`), but not a stack under
        /// review: REVIEW_IN_PROGRESS is a created change set's stack that was never executed.
        public init(
            id: String, name: String, status: String, statusReason: String? = nil, outputs: [String: String] = [:],
            parameters: [String: String] = [:], tags: [String: String] = [:]
        ) {
            self.id = id
            self.name = name
            self.status = status
            self.statusReason = statusReason
            self.outputs = outputs
            self.parameters = parameters
            self.tags = tags
        }

        public var isBusy: Bool { status.hasSuffix("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS" }
    }

    /// The stack named `name`; nil when there is none (or only a deleted one).
    public func stack(_ name: String) async throws -> Stack? {
        let answer: XMLTree
        do { answer = try await service.query("DescribeStacks", version: Self.version, [("StackName", name)]) } catch let error as AWSServiceError
            where error.code == "ValidationError" && error.message.contains("does not exist")
        {
            return nil
        }
        guard let member = answer.list("DescribeStacksResult", "Stacks").first else { return nil }
        func pairs(_ list: String, _ key: String, _ value: String) -> [String: String] {
            Dictionary(
                member.list(list).compactMap { item in item[key].map { ($0, item[value] ?? "") } }, uniquingKeysWith: { first, _ in first })
        }
        return Stack(
            id: member["StackId"] ?? name, name: member["StackName"] ?? name, status: member["StackStatus"] ?? "",
            statusReason: member["StackStatusReason"], outputs: pairs("Outputs", "OutputKey", "OutputValue"),
            parameters: pairs("Parameters", "ParameterKey", "ParameterValue"), tags: pairs("Tags", "Key", "Value"))
    }

    public enum TemplateSource: Sendable {
        case body(String)
        case url(String)
    }

    public struct ChangeSetRequest: Sendable {
        public var stack: String
        public var name: String
        /// CREATE for a stack that does not exist yet, UPDATE otherwise.
        public var creating: Bool
        public var template: TemplateSource
        public var parameters: [(key: String, value: String)]
        public var capabilities: [String]
        public var tags: [(key: String, value: String)]
        public var description: String?

        public init(
            stack: String, name: String, creating: Bool, template: TemplateSource, parameters: [(key: String, value: String)],
            capabilities: [String], tags: [(key: String, value: String)] = [], description: String? = nil
        ) {
            self.stack = stack
            self.name = name
            self.creating = creating
            self.template = template
            self.parameters = parameters
            self.capabilities = capabilities
            self.tags = tags
            self.description = description
        }
    }

    /// Returns the change set's ID.
    public func createChangeSet(_ request: ChangeSetRequest) async throws -> String {
        var parameters: [(String, String)] = [
            ("StackName", request.stack), ("ChangeSetName", request.name), ("ChangeSetType", request.creating ? "CREATE" : "UPDATE"),
        ]
        switch request.template {
        case .body(let body): parameters.append(("TemplateBody", body))
        case .url(let url): parameters.append(("TemplateURL", url))
        }
        for (index, parameter) in request.parameters.enumerated() {
            parameters += [
                ("Parameters.member.\(index + 1).ParameterKey", parameter.key), ("Parameters.member.\(index + 1).ParameterValue", parameter.value),
            ]
        }
        for (index, capability) in request.capabilities.enumerated() { parameters.append(("Capabilities.member.\(index + 1)", capability)) }
        for (index, tag) in request.tags.enumerated() {
            parameters += [("Tags.member.\(index + 1).Key", tag.key), ("Tags.member.\(index + 1).Value", tag.value)]
        }
        if let description = request.description { parameters.append(("Description", description)) }
        let answer = try await service.query("CreateChangeSet", version: Self.version, parameters)
        guard let id = answer["CreateChangeSetResult", "Id"] else {
            throw AWSServiceError(service: "CloudFormation", operation: "CreateChangeSet", status: 200, code: "MalformedResponse", message: "no Id")
        }
        return id
    }

    public struct ResourceChange: Sendable, Equatable {
        public struct Detail: Sendable, Equatable {
            /// Properties, Metadata, Tags, …
            public var attribute: String?
            /// The property's name (for Properties).
            public var name: String?
            /// Always, Conditionally, Never.
            public var requiresRecreation: String?
            /// Static (known now) or Dynamic (known while updating).
            public var evaluation: String?
            public var changeSource: String?
            public var causingEntity: String?
        }
        /// Add, Modify, Remove, Import, Dynamic.
        public var action: String
        public var logicalID: String
        public var physicalID: String?
        public var type: String
        /// True, False, Conditional; nil when the service does not say (an Add or a Remove, or an API that omits it).
        public var replacement: String?
        public var details: [Detail]
    }

    public struct ChangeSet: Sendable {
        public var id: String
        /// CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_COMPLETE, FAILED, …
        public var status: String
        public var statusReason: String?
        /// AVAILABLE, UNAVAILABLE, EXECUTE_IN_PROGRESS, EXECUTE_COMPLETE, …
        public var executionStatus: String?
        public var changes: [ResourceChange]

        /// A change set CloudFormation refused because the template and parameters change nothing.
        public var changesNothing: Bool {
            status == "FAILED"
                && (statusReason.map { $0.contains("didn't contain changes") || $0.contains("No updates are to be performed") } ?? false)
        }
    }

    /// The change set with every page of its changes.
    public func describeChangeSet(_ id: String, stack: String) async throws -> ChangeSet {
        let (members, result) = try await pages("DescribeChangeSet", [("ChangeSetName", id), ("StackName", stack)], list: "Changes")
        let changes = members.compactMap { $0.child("ResourceChange") }.map { change in
            ResourceChange(
                action: change["Action"] ?? "", logicalID: change["LogicalResourceId"] ?? "", physicalID: change["PhysicalResourceId"],
                type: change["ResourceType"] ?? "", replacement: change["Replacement"],
                details: change.list("Details").map { detail in
                    ResourceChange.Detail(
                        attribute: detail["Target", "Attribute"], name: detail["Target", "Name"],
                        requiresRecreation: detail["Target", "RequiresRecreation"], evaluation: detail["Evaluation"],
                        changeSource: detail["ChangeSource"], causingEntity: detail["CausingEntity"])
                })
        }
        return ChangeSet(
            id: result["ChangeSetId"] ?? id, status: result["Status"] ?? "", statusReason: result["StatusReason"],
            executionStatus: result["ExecutionStatus"], changes: changes)
    }

    /// Polls until the change set is created or has failed.
    public func waitForChangeSet(_ id: String, stack: String, poll: Duration = .seconds(2), limit: Duration = .seconds(600)) async throws -> ChangeSet
    {
        let started = ContinuousClock.now
        while true {
            let changeSet = try await describeChangeSet(id, stack: stack)
            if changeSet.status == "CREATE_COMPLETE" || changeSet.status == "FAILED" { return changeSet }
            guard ContinuousClock.now - started < limit else {
                throw AWSServiceError(
                    service: "CloudFormation", operation: "DescribeChangeSet", status: 200, code: "Timeout",
                    message: "change set \(id) still \(changeSet.status) after \(limit)")
            }
            try await Task.sleep(for: poll)
        }
    }

    public func executeChangeSet(_ id: String, stack: String) async throws {
        _ = try await service.query("ExecuteChangeSet", version: Self.version, [("ChangeSetName", id), ("StackName", stack)])
    }

    public func deleteChangeSet(_ id: String, stack: String) async throws {
        _ = try await service.query("DeleteChangeSet", version: Self.version, [("ChangeSetName", id), ("StackName", stack)])
    }

    public func deleteStack(_ name: String) async throws {
        _ = try await service.query("DeleteStack", version: Self.version, [("StackName", name)])
    }

    /// The template the stack was last deployed with, as submitted.
    public func template(ofStack name: String) async throws -> String {
        let answer = try await service.query("GetTemplate", version: Self.version, [("StackName", name), ("TemplateStage", "Original")])
        return answer["GetTemplateResult", "TemplateBody"] ?? ""
    }

    public struct Event: Sendable, Equatable {
        public var id: String
        public var timestamp: String
        public var logicalID: String
        public var type: String
        public var status: String
        public var reason: String?

        public var failed: Bool { status.hasSuffix("_FAILED") }
    }

    /// The stack's events newer than `after` (an event ID), oldest first. Pages are read newest first
    /// until `after` is met.
    public func events(ofStack name: String, after seen: String?) async throws -> [Event] {
        let members = try await members("DescribeStackEvents", [("StackName", name)], list: "StackEvents") { $0["EventId"] == seen }
        return members.reversed().map { member in
            Event(
                id: member["EventId"] ?? "", timestamp: member["Timestamp"] ?? "", logicalID: member["LogicalResourceId"] ?? "",
                type: member["ResourceType"] ?? "", status: member["ResourceStatus"] ?? "", reason: member["ResourceStatusReason"])
        }
    }

    /// The ID of the stack's newest event (one page, newest first): where following a change starts.
    public func latestEventID(ofStack name: String) async throws -> String? {
        let answer = try await service.query("DescribeStackEvents", version: Self.version, [("StackName", name)])
        return answer.list("DescribeStackEventsResult", "StackEvents").first?["EventId"]
    }

    /// Every member of a paged action's list, following `NextToken`, page after page; reading stops at
    /// the first member `stop` accepts (it and those after it are left out).
    private func members(
        _ action: String, _ parameters: [(String, String)], list: String, until stop: (XMLTree) -> Bool = { _ in false }
    ) async throws -> [XMLTree] {
        try await pages(action, parameters, list: list, until: stop).members
    }

    /// The members of every page, and the last page's result element (for an answer's other fields).
    private func pages(
        _ action: String, _ parameters: [(String, String)], list: String, until stop: (XMLTree) -> Bool = { _ in false }
    ) async throws -> (members: [XMLTree], result: XMLTree) {
        var members: [XMLTree] = []
        var token: String?
        var result = XMLTree(name: "")
        repeat {
            let answer = try await service.query(action, version: Self.version, parameters + (token.map { [("NextToken", $0)] } ?? []))
            result = answer.child("\(action)Result") ?? XMLTree(name: "")
            for member in result.list(list) {
                if stop(member) { return (members, result) }
                members.append(member)
            }
            token = result["NextToken"].flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return (members, result)
    }

    public struct StackResource: Sendable, Equatable {
        public var logicalID: String
        public var physicalID: String
        public var type: String
        public var status: String
    }

    public func resources(ofStack name: String) async throws -> [StackResource] {
        try await members("ListStackResources", [("StackName", name)], list: "StackResourceSummaries").map { member in
            StackResource(
                logicalID: member["LogicalResourceId"] ?? "", physicalID: member["PhysicalResourceId"] ?? "",
                type: member["ResourceType"] ?? "", status: member["ResourceStatus"] ?? "")
        }
    }

    // MARK: - Drift

    public struct ResourceDrift: Sendable, Equatable {
        public struct Difference: Sendable, Equatable {
            /// `/SecurityGroupIngress/1`
            public var path: String
            /// ADD, REMOVE, NOT_EQUAL
            public var kind: String
            public var expected: String?
            public var actual: String?
        }
        public var logicalID: String
        public var type: String
        /// MODIFIED or DELETED.
        public var status: String
        public var differences: [Difference]
    }

    /// Starts drift detection (resources changed outside CloudFormation) and returns its ID.
    public func detectDrift(ofStack name: String) async throws -> String {
        let answer = try await service.query("DetectStackDrift", version: Self.version, [("StackName", name)])
        guard let id = answer["DetectStackDriftResult", "StackDriftDetectionId"] else {
            throw AWSServiceError(service: "CloudFormation", operation: "DetectStackDrift", status: 200, code: "MalformedResponse", message: "no ID")
        }
        return id
    }

    /// Polls a drift detection until it ends; nil when it completed, else its failure reason.
    public func waitForDriftDetection(_ id: String, poll: Duration, limit: Duration = .seconds(300)) async throws -> String? {
        let started = ContinuousClock.now
        while true {
            let answer = try await service.query("DescribeStackDriftDetectionStatus", version: Self.version, [("StackDriftDetectionId", id)])
            let result = answer.child("DescribeStackDriftDetectionStatusResult")
            switch result?["DetectionStatus"] {
            case "DETECTION_COMPLETE": return nil
            // Partial results: some resources could not be checked; the others are still reported.
            case "DETECTION_FAILED": return result?["DetectionStatusReason"] ?? "drift detection failed"
            default:
                guard ContinuousClock.now - started < limit else { return "drift detection still running after \(limit)" }
                try await Task.sleep(for: poll)
            }
        }
    }

    /// The resources that drifted (modified or deleted outside CloudFormation), with each property's difference.
    public func resourceDrifts(ofStack name: String) async throws -> [ResourceDrift] {
        let filters = [("StackResourceDriftStatusFilters.member.1", "MODIFIED"), ("StackResourceDriftStatusFilters.member.2", "DELETED")]
        return try await members("DescribeStackResourceDrifts", [("StackName", name)] + filters, list: "StackResourceDrifts").map { member in
            ResourceDrift(
                logicalID: member["LogicalResourceId"] ?? "", type: member["ResourceType"] ?? "", status: member["StackResourceDriftStatus"] ?? "",
                differences: member.list("PropertyDifferences").map {
                    ResourceDrift.Difference(
                        path: $0["PropertyPath"] ?? "", kind: $0["DifferenceType"] ?? "", expected: $0["ExpectedValue"], actual: $0["ActualValue"])
                })
        }
    }
}
