import Foundation

/// Retry with exponential backoff, full jitter and a cap: the one retry loop of every remote call (S3
/// requests, downloads that resume). Attempt `n` (from 1) waits a random time in `0 ... min(cap, base·3ⁿ⁻¹)`
/// before attempt `n + 1`, so that clients retrying the same outage spread out instead of arriving in step.
public struct Backoff: Sendable, Equatable {
    public var attempts: Int
    public var base: Double
    public var cap: Double

    public init(attempts: Int = 4, base: Double = 0.2, cap: Double = 5) {
        self.attempts = max(1, attempts)
        self.base = base
        self.cap = cap
    }

    /// The longest wait after failed attempt `attempt` (1-based).
    public func ceiling(after attempt: Int) -> Double {
        min(cap, base * pow(3, Double(max(0, attempt - 1))))
    }

    /// The wait after failed attempt `attempt`: uniform in `0 ... ceiling(after:)`.
    public func delay<R: RandomNumberGenerator>(after attempt: Int, using rng: inout R) -> Double {
        Double.random(in: 0 ... ceiling(after: attempt), using: &rng)
    }

    /// What a failed attempt means.
    public enum Outcome: Sendable {
        /// Try again (unless this was the last attempt; then the error is thrown).
        case retry(any Error)
        /// Give up now with this error.
        case fail(any Error)
    }

    /// Runs `body` until it returns, or an attempt's error is judged `.fail` by `classify`, or the attempts
    /// are spent (the last error is thrown). `onRetry` hears each retried error with its attempt number.
    /// Blocking: for the S3 client's own threads.
    public func run<T>(_ body: (Int) throws -> T, classify: (any Error) -> Outcome,
                       onRetry: (Int, any Error) -> Void = { _, _ in }, sleep: ((Double) -> Void)? = nil) throws -> T {
        let sleep = sleep ?? { Thread.sleep(forTimeInterval: $0) }
        var rng = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            do {
                return try body(attempt)
            } catch {
                switch classify(error) {
                case .fail(let e): throw e
                case .retry(let e):
                    guard attempt < attempts else { throw e }
                    onRetry(attempt, e)
                    sleep(delay(after: attempt, using: &rng))
                    attempt += 1
                }
            }
        }
    }
}
