import SluiceCore

/// What every rule sees: the resolved model and the reachability engine built over it.
public struct CheckContext: Sendable {
    public let spec: Spec
    public let reachability: ReachabilityEngine
    public init(spec: Spec) {
        self.spec = spec
        self.reachability = ReachabilityEngine(spec: spec)
    }
}

/// One check: a stable ID, its documentation, and the findings it makes on a model.
public protocol Rule: Sendable {
    static var documentation: RuleDocumentation { get }
    /// Specs it reports, with where, and specs it accepts: run for every rule by one test.
    static var examples: RuleExamples { get }
    init()
    func check(_ context: CheckContext) -> [Diagnostic]
}

extension Rule {
    /// A finding of this rule, at the rule's own severity.
    func finding(
        _ message: String, at location: SourceLocation?, subject: String, evidence: [String] = [],
        notes: [RelatedNote] = []
    ) -> Diagnostic {
        Diagnostic(
            Self.documentation.severity, code: Self.documentation.id, message, at: location, evidence: evidence, notes: notes,
            subject: subject)
    }
}

/// Runs the whole catalog over a model and applies the spec's suppressions.
public enum Checker {
    public static let rules: [any Rule.Type] = [
        PrivateDefaultRouteRule.self, IsolatedNATRouteRule.self, NATPlacementRule.self, CIDROutsideVPCRule.self, CIDROverlapRule.self,
        CIDRSizeRule.self, SubnetCapacityRule.self, PrivateSubnetEgressRule.self, RouteInsideVPCRule.self,
        PipelineReachesSourceRule.self, PipelineReachesAPIRule.self, PipelineReachesWarehouseRule.self, WorkloadReachesServicesRule.self,
        WarehouseInternetExposureRule.self, WarehouseClientsOnlyRule.self, OpenAdminPortRule.self,
        IAMWildcardRule.self, EndpointPolicyScopeRule.self,
        BucketPublicAccessRule.self, BucketEncryptionRule.self, WarehousePublicRule.self, ManagedDatabaseAZRule.self,
        MaterializedViewRefreshRule.self,
        ScheduleExpressionRule.self, MappingColumnExistsRule.self, MappingTypeRule.self, NotNullFedRule.self, UpsertKeyUniqueRule.self,
        PipelineWriterRoleRule.self, WarehouseHostBootstrapRule.self,
    ]

    public static var catalog: [RuleDocumentation] { rules.map { $0.documentation } }

    /// Findings sorted for output; suppressed ones carry their reason and do not count as errors.
    /// A suppression that matches nothing is itself reported, so stale ones do not pile up.
    public static func run(_ spec: Spec) -> [Diagnostic] {
        var findings = findingsPerEnvironment(spec)
        var used = Set<Int>()
        for index in findings.indices {
            if let s = spec.suppressions.firstIndex(where: { matches($0, findings[index]) }) {
                findings[index].suppressedBecause = spec.suppressions[s].reason
                findings[index].notes.append(RelatedNote("suppressed here", at: spec.suppressions[s].location))
                used.insert(s)
            }
        }
        for (index, suppression) in spec.suppressions.enumerated() where !used.contains(index) && !suppression.isForScanner {
            let known = catalog.contains { $0.id == suppression.rule }
            findings.append(
                Diagnostic(
                    .warning, code: unusedSuppression.id,
                    known
                        ? "suppression of \(suppression.rule)\(suppression.subject.map { " for \($0)" } ?? "") matches no finding; remove it"
                        : "suppression names unknown rule '\(suppression.rule)'",
                    at: suppression.location, subject: "suppression:\(suppression.rule)"))
        }
        for suppression in spec.suppressions where suppression.isForScanner && suppression.subject == nil {
            findings.append(
                Diagnostic(
                    .warning, code: unusedSuppression.id,
                    "suppression of scanner check \(suppression.rule) needs a subject (kind:name) saying which resource it exempts",
                    at: suppression.location, subject: "suppression:\(suppression.rule)"))
        }
        return findings.sortedForOutput()
    }

    /// The catalog over the spec, then over each environment's values: a finding only an environment
    /// has (a schedule expression or a subnet sized for its concurrency) says which, and where that
    /// environment is declared. Findings every form shares are reported once.
    static func findingsPerEnvironment(_ spec: Spec) -> [Diagnostic] {
        func check(_ spec: Spec) -> [Diagnostic] {
            let context = CheckContext(spec: spec)
            return rules.flatMap { $0.init().check(context) }
        }
        var findings = check(spec)
        // The same finding is the same rule saying the same thing at the same place.
        func identity(_ finding: Diagnostic) -> String {
            "\(finding.code)|\(finding.subject ?? "")|\(finding.location.map { "\($0)" } ?? "")|\(finding.message)"
        }
        var seen = Set(findings.map(identity))
        for environment in spec.environments {
            for var finding in check(spec.applying(environment)) where seen.insert(identity(finding)).inserted {
                finding.message += " (in environment \(environment.name))"
                finding.notes.append(RelatedNote("environment \(environment.name) is declared here", at: environment.location))
                findings.append(finding)
            }
        }
        return findings
    }

    static func matches(_ suppression: Suppression, _ finding: Diagnostic) -> Bool {
        suppression.rule == finding.code && (suppression.subject == nil || suppression.subject == finding.subject)
    }

    public static let unusedSuppression = RuleDocumentation(
        id: "SL001", name: "unused-suppression", severity: .warning, summary: "A suppression that matches no finding.",
        explanation:
            "Suppressions name a rule and, optionally, a subject such as security_group:proxy. One that matches nothing is stale (the problem was fixed, or the subject renamed) and hides nothing; remove it so the list of accepted risks stays true."
    )
}
