// The driver's values speak the model's and the plan's vocabulary (Spec, Diagnostic, ETLPlan), so
// its callers see those modules through it and depend on nothing else.
import Foundation
@_exported import PlanFormat
@_exported import SluiceCore

/// A request the driver cannot act on because of how it was asked (a name that is not in the spec, a
/// missing option's value): the command line reports it as a usage error.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A request the driver acted on and could not complete, for a reason in the world rather than in
/// how it was asked (a plan file that is not a plan, a spec without a warehouse): the command line
/// says `error: …` and exits 1, with no usage text.
public struct Failure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Failed, and what went wrong has been said already (on stderr, or in the view's report).
public struct AlreadyReported: Error {
    public init() {}
}

/// Runs async work from a synchronous command or the function's loop (libpq is blocking anyway).
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<T, Error>?
        Task.detached {
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        return try outcome!.get()
    }
}
