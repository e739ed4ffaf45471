import Foundation

/// Runs blocking work (a libcurl transfer, a poll loop) on a dedicated thread, never on Swift concurrency's
/// cooperative pool, and bridges the result back to async code.
enum BlockingExecutor {
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
