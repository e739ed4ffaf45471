import Foundation

/// Runs blocking work (a libcurl transfer, a poll loop, waiting for a child process) on a dedicated thread,
/// never on Swift concurrency's cooperative pool (two threads on a two-core machine, which one blocking
/// caller would halve), and bridges the result back to async code.
public enum BlockingExecutor {
    /// Runs `body` on a thread of its own.
    public static func run<T: Sendable>(_ label: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(label, onCancel: {}, body)
    }

    /// Runs `body` on a thread of its own; `onCancel` runs (on any thread) when the calling task is
    /// cancelled, so that the blocking work can be told to stop (CurlHTTP wakes its poll loop with it).
    public static func run<T: Sendable>(
        _ label: String, onCancel: @escaping @Sendable () -> Void,
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try body() })
                }
                thread.name = label
                thread.stackSize = 1 << 20
                thread.start()
            }
        } onCancel: {
            onCancel()
        }
    }
}
