import Common
import Foundation
import Sandbox

/// `health.<service>`: every service of the stack is running, its healthcheck (if any) healthy, and it
/// answers: Postgres `SELECT 1` in every restored database (one exec), Redis `PING`.
struct HealthCheck: DrillCheck {
    let descriptor = CheckDescriptor("health.<service>", kind: .core, needs: [.services],
                                     "the service runs, its healthcheck is healthy, and it answers (Postgres in every restored database, Redis PING)")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        var out: [CheckResult] = []
        for service in context.sandbox.services {
            let t0 = ContinuousClock.now
            let (ok, evidence) = await health(service, context: context)
            out.append(.timed("health.\(service.name)", .core, ok ? .passed : .failed, evidence, since: t0))
        }
        return out
    }

    func health(_ service: Sandbox.Service, context: CheckContext) async -> (Bool, String) {
        let sandbox = context.sandbox
        do {
            let state = try await sandbox.backend.state(of: service)
            guard state.running else { return (false, "\(service.containerName) is not running (\(state.status))") }
            if let h = state.health, h != "healthy" { return (false, "\(service.containerName): healthcheck \(h)") }
            switch service.role {
            case .postgres:
                let script = #"for db; do psql -X -q -At -d "$db" -c 'SELECT 1' >/dev/null || { echo "no answer from $db" >&2; exit 1; }; done"#
                // Each instance answers in the databases restored on it.
                let mine = context.databases.filter { context.target($0).service.name == service.name }
                let r = try await sandbox.run(["sh", "-c", script, "sh"] + mine, in: service, env: context.target.env)
                guard r.exitCode == 0 else { return (false, "\(service.containerName): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))") }
                return (true, "\(service.containerName) running\(service.node.map { " on node \($0)" } ?? ""); SELECT 1 answered in \(mine.count) restored database(s)")
            case .redis:
                let r = try await sandbox.run(["redis-cli", "ping"], in: service)
                let out = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                return (r.exitCode == 0 && out == "PONG", "\(service.containerName): redis-cli ping → \(out.isEmpty ? r.stderrText : out)")
            case .app:
                return (true, "\(service.containerName) running\(state.health.map { ", healthcheck \($0)" } ?? "")")
            }
        } catch {
            return (false, "\(service.containerName): \(error)")
        }
    }
}
