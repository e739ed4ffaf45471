import Common
import Foundation
import Sandbox
import Synchronization

/// Asks the engine once a second, for the whole drill, whether it still answers, and remembers the first
/// time it did not: the stage the drill was in, when, and for how long.
///
/// A restarted engine is otherwise easy to miss: with live-restore off, dockerd stops the sandbox's
/// containers on its way down, so what the drill sees is pg_restore or a probe failing — and by the time
/// the drill looks, the engine answers again. The watch is what lets the verdict name the engine as the
/// cause instead of whatever broke with it.
final class EngineWatch: Sendable {
    struct Outage: Sendable, Equatable {
        /// The drill's stage when the engine first did not answer.
        var stage: String
        /// Seconds from the drill's start.
        var at: Double
        /// How long it stayed away (nil: it had not come back when the watch stopped).
        var seconds: Double?
    }

    private let state = Mutex<(outage: Outage?, task: Task<Void, Never>?)>((nil, nil))

    /// Starts watching `backend`, reading the stage and the time from `ledger`.
    init(backend: any SandboxBackend, ledger: DrillLedger, every interval: Duration = .seconds(1)) {
        let task = Task.detached { [weak self] in
            var downSince: ContinuousClock.Instant?
            while !Task.isCancelled {
                let answers = await backend.describeEngine().version != nil
                guard let self else { return }
                let done = self.state.withLock { s -> Bool in
                    if !answers, downSince == nil, s.outage == nil {
                        downSince = .now
                        s.outage = Outage(stage: ledger.currentStage, at: ledger.elapsed, seconds: nil)
                    } else if answers, let since = downSince {
                        s.outage?.seconds = (ContinuousClock.now - since).inSeconds
                        return true
                    }
                    return false
                }
                // The first outage is the cause; once it is over there is nothing more to learn.
                if done { return }
                try? await Task.sleep(for: interval)
            }
        }
        state.withLock { $0.task = task }
    }

    /// Stops watching; returns the first outage, if any.
    func stop() -> Outage? {
        state.withLock { s in
            s.task?.cancel()
            return s.outage
        }
    }

    /// The outage as evidence: `stopped answering during restore (12.3 s into the drill; back after 4.1 s)`.
    static func describe(_ o: Outage) -> String {
        let back = o.seconds.map { String(format: "back after %.1f s", $0) } ?? "not back when the drill ended"
        return String(format: "stopped answering during %@ (%.1f s into the drill; %@)", o.stage, o.at, back)
    }
}
