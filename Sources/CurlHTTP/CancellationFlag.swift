import Synchronization

/// A one-way flag a transfer polls, set from task cancellation on any thread. A running transfer registers
/// a waker (`curl_multi_wakeup` of its multi handle) so that cancelling interrupts its poll at once instead
/// of waiting for libcurl's next progress callback (about a second on a quiet stream).
public final class CancellationFlag: Sendable {
    private let state = Mutex<(cancelled: Bool, waker: (@Sendable () -> Void)?)>((false, nil))

    public init() {}

    public func cancel() {
        // The waker runs under the lock: `clearWaker` cannot return (and the handle be freed) meanwhile.
        state.withLock { s in
            s.cancelled = true
            s.waker?()
        }
    }

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    func setWaker(_ waker: @escaping @Sendable () -> Void) { state.withLock { $0.waker = waker } }

    func clearWaker() { state.withLock { $0.waker = nil } }
}
