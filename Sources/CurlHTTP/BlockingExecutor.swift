import Foundation

/// Runs blocking work (a libcurl transfer, a poll loop, waiting for a child process) on a dedicated thread,
/// never on Swift concurrency's cooperative pool (two threads on a two-core machine, which one blocking
/// caller would halve), and bridges the result back to async code.
public enum BlockingExecutor {
    /// Runs `body` on a thread of its own.
    public static func run<T: Sendable>(_ label: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(label, cancel: CancellationFlag(), body)
    }

    static func run<T: Sendable>(
        _ label: String, cancel: CancellationFlag,
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
            cancel.cancel()
        }
    }
}
