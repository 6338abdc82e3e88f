// The driver's values speak the model's and the plan's vocabulary (Spec, Diagnostic, ETLPlan), so
// its callers see those modules through it and depend on nothing else.
@_exported import PlanFormat
@_exported import SluiceCore

/// A request the driver cannot act on because of how it was asked (a name that is not in the spec, a
/// missing option's value): the command line reports it as a usage error.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Failed, and what went wrong has been said already (on stderr, or in the view's report).
public struct AlreadyReported: Error {
    public init() {}
}
