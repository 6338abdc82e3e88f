import AWSSigning
import Foundation

/// The one EC2 question a deploy asks: the ID of an AWS-managed prefix list in the region (the
/// template's `PrefixList<Service>` parameters), so the user never looks one up.
public struct EC2API: Sendable {
    let service: AWSService

    public init(region: String, credentials: AWSCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) {
        service = AWSService(
            name: "EC2", signingName: "ec2", host: "ec2.\(region).amazonaws.com", environmentKey: "EC2", region: region, credentials: credentials,
            environment: environment)
    }

    /// The ID of the managed prefix list named `name` (`com.amazonaws.eu-west-1.s3`); nil when the region has none.
    public func managedPrefixListID(named name: String) async throws -> String? {
        let answer = try await service.query(
            "DescribeManagedPrefixLists", version: "2016-11-15", [("Filter.1.Name", "prefix-list-name"), ("Filter.1.Value.1", name)])
        return answer.list("prefixListSet").first { $0["prefixListName"] == name }?["prefixListId"]
    }
}
