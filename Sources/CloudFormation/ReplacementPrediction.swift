extension ReplacementRules {
    /// Resources that hold data: replacing or removing one loses it (a new, empty bucket, database,
    /// queue or host), so a deploy refuses it unless asked to (`--allow-destructive`).
    public static let statefulTypes: Set<String> = [
        "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic",
        "AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup",
    ]

    /// Whether changing `paths` (`Properties.VpcId`, `Properties.SecurityGroupIngress[0].ToPort`) of a
    /// `type` replaces it, from the schema: "True" when a changed path is or is under a create-only
    /// property, "Conditional" when a changed path contains one (a whole object rewritten that may or
    /// may not change it), else "False". Nil for a type the schemas in this build do not describe.
    public static func predictedReplacement(type: String, paths: [String]) -> String? {
        guard let createOnly = createOnlyProperties[type] else { return nil }
        func components(_ path: String) -> [Substring] {
            path.split(separator: ".").map { $0.split(separator: "[").first ?? $0 }
        }
        var answer = "False"
        for path in paths.map(components) {
            for property in createOnly.map(components) {
                if path.starts(with: property) { return "True" }
                if property.starts(with: path) { answer = "Conditional" }
            }
        }
        return answer
    }
}
