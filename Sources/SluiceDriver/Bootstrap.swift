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
            _ = try await StackDeployment.deleteStack(existing, with: cloudFormation, names: [:], observer: observer)
        }
        let creating = existing == nil || existing?.status == "ROLLBACK_COMPLETE" || existing?.status == "REVIEW_IN_PROGRESS"
        let request = CloudFormationAPI.ChangeSetRequest(
            stack: stackName, name: "sluice-\(StackDeployment.changeSetStamp())", creating: creating, template: .body(BootstrapTemplate.text),
            parameters: [], capabilities: [], tags: [("sluice:bootstrap", SluiceVersion.current)])
        guard let (id, _) = try await StackDeployment.prepareChangeSet(request, with: cloudFormation) else {
            let stack = try await cloudFormation.stack(stackName)
            return Outcome(
                stack: stackName, region: region, account: account, status: stack?.status ?? "", upToDate: true,
                artifactBucket: stack?.outputs["ArtifactBucket"], failures: [], succeeded: true)
        }
        let question = "\(creating ? "Create" : "Update") stack \(stackName) (the artifact bucket sluice-artifacts-\(account)-\(region))?"
        guard confirm(question) else {
            try await StackDeployment.deleteChangeSet(id, stack: stackName, creating: creating, with: cloudFormation)
            throw Failure("not bootstrapped: not confirmed")
        }
        let (final, events) = try await StackDeployment.executeChangeSet(id, stack: stackName, with: cloudFormation, names: [:], observer: observer)
        let succeeded = final.status == "CREATE_COMPLETE" || final.status == "UPDATE_COMPLETE"
        return Outcome(
            stack: stackName, region: region, account: account, status: final.status, upToDate: false,
            artifactBucket: final.outputs["ArtifactBucket"],
            failures: events.filter(\.failed).map { .init(id: $0.logicalID, name: nil, status: $0.status, reason: $0.reason ?? "") },
            succeeded: succeeded)
    }
}
