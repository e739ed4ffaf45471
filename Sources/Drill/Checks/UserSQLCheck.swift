import Common
import Foundation

/// `user.<name>`: the team's own SQL checks (`--checks FILE`), each under its statement timeout.
struct UserSQLCheck: DrillCheck {
    let descriptor = CheckDescriptor("user.<name>", kind: .user, needs: [.userChecks],
                                     "your query answers what you expect (expect, or expect_min/expect_max), within its timeout")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        var out: [CheckResult] = []
        for uc in context.options.userChecks {
            let t0 = ContinuousClock.now
            var target = context.target(uc.database)
            target.sessionOptions = "-c statement_timeout=\(Int(uc.timeoutSeconds * 1000))"
            guard context.databases.contains(uc.database) else {
                out.append(.failed("user.\(uc.name)", "database \(uc.database) was not restored (in the set: \(context.inSet.sorted().joined(separator: ", ")))", kind: .user))
                continue
            }
            do {
                let rows = try await target.query(uc.query)
                let (ok, evidence) = uc.judge(rows.map { $0.joined(separator: "|") }.joined(separator: "\n"))
                out.append(.timed("user.\(uc.name)", .user, ok ? .passed : .failed, evidence, since: t0))
            } catch let e as QueryError where e.message.contains("statement timeout") {
                out.append(.timed("user.\(uc.name)", .user, .timedOut, "\(uc.database): over its \(Int(uc.timeoutSeconds)) s timeout", since: t0))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                out.append(.timed("user.\(uc.name)", .user, .failed, "\(error)", since: t0))
            }
        }
        return out
    }
}
