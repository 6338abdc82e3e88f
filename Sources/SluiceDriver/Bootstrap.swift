import AWSServices
import CloudFormation
import Foundation

/// `sluice bootstrap`: like `cdk bootstrap`, one small stack per account and region with the
/// artifact bucket (`BootstrapTemplate`). `apply --stack` finds it by the stack's name.
public enum Bootstrap {
    public static let stackName = "sluice-bootstrap"

    public struct Outcome: Encodable, Sendable {
        public var stack: String
        public var region: String
        public var account: String
        public var status: String
        /// The stack already had this template: nothing was executed.
        public var upToDate: Bool
        public var artifactBucket: String?
        public var failures: [StackDeployment.Outcome.Failed]
        public var succeeded: Bool
    }

    /// `confirm` is asked before a change set that changes something is executed.
    public static func run(region: String, observer: any StackDeployment.Observer, confirm: @Sendable (String) -> Bool) async throws -> Outcome {
        let credentials = try await CredentialChain.resolve(region: region)
        let account = try await STS(region: region, credentials: credentials).callerIdentity().account
        let cloudFormation = CloudFormationAPI(region: region, credentials: credentials)
        let existing = try await cloudFormation.stack(stackName)
        if let existing, existing.isBusy { throw StackBusy(stack: stackName, status: existing.status) }
        if let existing, existing.status == "ROLLBACK_COMPLETE" {
            observer.note("deleting \(stackName), whose first create rolled back")
            try await cloudFormation.deleteStack(existing.id)
            _ = try await StackDeployment.follow(stackID: existing.id, cloudFormation: cloudFormation, names: [:], after: nil, observer: observer)
        }
        let creating = existing == nil || existing?.status == "ROLLBACK_COMPLETE" || existing?.status == "REVIEW_IN_PROGRESS"
        let id = try await cloudFormation.createChangeSet(
            .init(
                stack: stackName, name: "sluice-\(StackDeployment.changeSetStamp())", creating: creating, template: .body(BootstrapTemplate.text),
                parameters: [], capabilities: [], tags: [("sluice:bootstrap", SluiceVersion.current)]))
        let changeSet = try await cloudFormation.waitForChangeSet(id, stack: stackName, poll: StackDeployment.pollInterval)
        if changeSet.changesNothing {
            try await cloudFormation.deleteChangeSet(id, stack: stackName)
            let stack = try await cloudFormation.stack(stackName)
            return Outcome(
                stack: stackName, region: region, account: account, status: stack?.status ?? "", upToDate: true,
                artifactBucket: stack?.outputs["ArtifactBucket"], failures: [], succeeded: true)
        }
        guard changeSet.status == "CREATE_COMPLETE" else {
            throw Failure("CloudFormation could not create the change set for \(stackName): \(changeSet.statusReason ?? changeSet.status)")
        }
        let question = "\(creating ? "Create" : "Update") stack \(stackName) (the artifact bucket sluice-artifacts-\(account)-\(region))?"
        guard confirm(question) else {
            try await cloudFormation.deleteChangeSet(id, stack: stackName)
            if creating, let stack = try await cloudFormation.stack(stackName), stack.status == "REVIEW_IN_PROGRESS" {
                try await cloudFormation.deleteStack(stack.id)
            }
            throw Failure("not bootstrapped: not confirmed")
        }
        let before = creating ? nil : try await cloudFormation.events(ofStack: stackName, after: nil).last?.id
        try await cloudFormation.executeChangeSet(id, stack: stackName)
        guard let stack = try await cloudFormation.stack(stackName) else { throw Failure("stack \(stackName) vanished") }
        let (final, events) = try await StackDeployment.follow(
            stackID: stack.id, cloudFormation: cloudFormation, names: [:], after: before, observer: observer)
        let succeeded = final.status == "CREATE_COMPLETE" || final.status == "UPDATE_COMPLETE"
        return Outcome(
            stack: stackName, region: region, account: account, status: final.status, upToDate: false,
            artifactBucket: final.outputs["ArtifactBucket"],
            failures: events.filter(\.failed).map { .init(id: $0.logicalID, name: nil, status: $0.status, reason: $0.reason ?? "") },
            succeeded: succeeded)
    }
}
