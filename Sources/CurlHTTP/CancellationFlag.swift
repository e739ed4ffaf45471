import Synchronization

/// A one-way flag a transfer polls, set from task cancellation on any thread. A running transfer registers
/// its multi handle so that cancelling interrupts its poll at once (`curl_multi_wakeup`) instead of waiting
/// for libcurl's next progress callback (about a second on a quiet stream).
///
/// No closure is stored: a function value kept in generic storage was re-wrapped on every locked access,
/// and a long transfer's chain of wrappers overflowed the stack when released.
public final class CancellationFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let waker = Mutex<MultiWaker?>(nil)

    public init() {}

    public func cancel() {
        cancelled.store(true, ordering: .sequentiallyConsistent)
        // Under the lock: `clearWaker` cannot return (and the multi handle be freed) meanwhile.
        waker.withLock { $0?.wake() }
    }

    public var isCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) }

    func setWaker(_ w: MultiWaker) { waker.withLock { $0 = w } }

    func clearWaker() { waker.withLock { $0 = nil } }
}
