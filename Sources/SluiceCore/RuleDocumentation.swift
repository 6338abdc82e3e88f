/// What `sluice explain RULE` prints. Loader codes and check rules share one ID space.
public struct RuleDocumentation: Sendable {
    public var id: String
    /// Short kebab-case name, e.g. `private-default-route`.
    public var name: String
    public var severity: Severity
    public var summary: String
    public var explanation: String

    public init(id: String, name: String, severity: Severity, summary: String, explanation: String) {
        self.id = id
        self.name = name
        self.severity = severity
        self.summary = summary
        self.explanation = explanation
    }
}
