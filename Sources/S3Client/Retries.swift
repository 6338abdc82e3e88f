import Foundation

/// AWS's "standard" retry mode (the SDKs' defaults since their 2026 update): exponential backoff
/// with full jitter from a 50 ms base for transient failures and a 1 s base for throttling, capped at
/// 20 s, and a retry quota shared by the client's requests so that an outage fails fast instead of
/// multiplying traffic. One change for batch loading: the attempts are bounded by a time budget
/// (default 60 s) rather than by the SDKs' three attempts, so a throttle of tens of seconds is waited
/// out instead of failing the run.
public struct RetryPolicy: Sendable {
    public var maxAttempts = 12
    public var budget: Duration = .seconds(60)
    public var transientBaseDelay: Duration = .milliseconds(50)
    public var throttlingBaseDelay: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(20)

    public init() {}

    public static let standard = RetryPolicy()

    /// The standard policy with `AWS_MAX_ATTEMPTS`, as the SDKs read it, where it is set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> RetryPolicy {
        var policy = RetryPolicy()
        if let attempts = environment["AWS_MAX_ATTEMPTS"].flatMap(Int.init), attempts >= 1 { policy.maxAttempts = attempts }
        return policy
    }

    /// The wait before attempt `attempt + 1`: a random share of min(base × 2^(attempt-1), cap).
    public func delay(after attempt: Int, throttled: Bool) -> Duration {
        let base = throttled ? throttlingBaseDelay : transientBaseDelay
        let ceiling = min(base * (1 << min(attempt - 1, 20)), maxBackoff)
        return ceiling * Double.random(in: 0...1)
    }

    /// The error codes AWS services answer when a caller is throttled (retried with the longer base).
    public static var throttlingCodes: Set<String> { FailureClass.throttlingCodes }
}

/// The retry quota of AWS's standard mode: 500 tokens; a retry after a throttle costs 5, after any
/// other transient failure 14; a success gives back what its own retries took, or 1.
final class RetryQuota: @unchecked Sendable {
    static let capacity = 500
    static let throttlingCost = 5
    static let transientCost = 14
    private let lock = NSLock()
    private var tokens = capacity

    func take(_ cost: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    func giveBack(_ amount: Int) {
        lock.lock()
        tokens = min(Self.capacity, tokens + max(amount, 1))
        lock.unlock()
    }
}

/// Why a request may be sent again, and how patiently.
enum FailureClass {
    case throttling, transient, final

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
    /// With our own `MalformedListing`: a listing body that does not parse was cut or altered on the way.
    static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "MalformedListing"]
    static let transientStatuses: Set<Int> = [500, 502, 503, 504]

    init(_ error: Error) {
        switch error {
        case let error as S3Error:
            if error.status == 429 || Self.throttlingCodes.contains(error.code) {
                self = .throttling
            } else if Self.transientStatuses.contains(error.status) || Self.transientCodes.contains(error.code) {
                self = .transient
            } else {
                self = .final
            }
        case let error as S3TransportError:
            self = error.kind == .dns ? .final : .transient
        case let error as S3IntegrityError:
            self = error.retryableInPlace ? .transient : .final
        default:
            self = .final
        }
    }
}

/// One operation's attempts: how many, since when, and what the quota lent them.
struct RetryState {
    let policy: RetryPolicy
    let quota: RetryQuota
    let operation: S3Operation
    let onRetry: (@Sendable (String) -> Void)?
    private let started = ContinuousClock.now
    private(set) var attempt = 1
    private var borrowed = 0

    init(policy: RetryPolicy, quota: RetryQuota, operation: S3Operation, onRetry: (@Sendable (String) -> Void)?) {
        self.policy = policy
        self.quota = quota
        self.operation = operation
        self.onRetry = onRetry
    }

    var elapsed: Duration { ContinuousClock.now - started }

    /// Waits before the next attempt, or throws the failure as final: not retryable, out of
    /// attempts, out of time, or out of quota. Transport failures come out named and counted.
    mutating func backOff(after error: Error) async throws {
        let failure = FailureClass(error)
        let delay = policy.delay(after: attempt, throttled: failure == .throttling)
        let cost = failure == .throttling ? RetryQuota.throttlingCost : RetryQuota.transientCost
        guard failure != .final, attempt < policy.maxAttempts, elapsed + delay <= policy.budget, quota.take(cost) else {
            throw finalError(error)
        }
        borrowed += cost
        onRetry?("\(operation): \(Self.summary(error)); attempt \(attempt + 1) in \(String(format: "%.1f", delay.seconds)) s")
        try await Task.sleep(for: delay)
        attempt += 1
    }

    func succeeded() { quota.giveBack(borrowed) }

    func finalError(_ error: Error) -> Error {
        guard var transport = error as? S3TransportError else { return error }
        transport.attempts = attempt
        transport.seconds = elapsed.seconds
        return transport
    }

    static func summary(_ error: Error) -> String {
        switch error {
        case let error as S3Error: return "\(error.code) (HTTP \(error.status))"
        case let error as S3TransportError: return error.detail
        case let error as S3IntegrityError: return error.problem
        default: return "\(error)"
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
