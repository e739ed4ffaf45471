import ArgumentParser
import Dispatch
import Foundation
import Synchronization

/// Runs `body` so that SIGINT and SIGTERM cancel it instead of killing the process: the body's own
/// cleanup (sandbox teardown) runs, then the command exits 130 (SIGINT) or 143 (SIGTERM).
func interruptible<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let received = Mutex<Int32?>(nil)
    let task = Task { try await body() }
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            let first = received.withLock { r -> Bool in
                defer { if r == nil { r = sig } }
                return r == nil
            }
            if first {
                printError("\n\(sig == SIGINT ? "interrupted" : "terminated"): tearing down…")
                task.cancel()
            }
        }
        source.resume()
        sources.append(source)
    }
    defer {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
    do {
        let value = try await task.value
        if let sig = received.withLock({ $0 }) { throw ExitCode(128 + sig) }
        return value
    } catch {
        if let sig = received.withLock({ $0 }) { throw ExitCode(128 + sig) }
        throw error
    }
}
