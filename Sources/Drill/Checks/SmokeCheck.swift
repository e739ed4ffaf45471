import Common
import Foundation

/// `smoke.audit_logs`: the runbook's `SELECT count(*) FROM audit_logs` answers, and with rows.
struct SmokeCheck: DrillCheck {
    let descriptor = CheckDescriptor("smoke.audit_logs", kind: .platform, needs: [.table("audit_logs", platformDatabase: "acp_audit")],
                                     "the runbook's smoke query, SELECT count(*) FROM audit_logs, answers with rows")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let db = context.locate("audit_logs", platformDatabase: "acp_audit").db else { return [] }
        let t0 = ContinuousClock.now
        do {
            let n = try await context.target(db).query("SELECT count(*) FROM audit_logs").first?.first ?? "0"
            let ok = (Int64(n) ?? 0) > 0
            return [.timed("smoke.audit_logs", .platform, ok ? .passed : .failed, "\(db): SELECT count(*) FROM audit_logs = \(n)",
                           fix: "the restored audit_logs is empty: confirm the backup ran against the production database (POSTGRES_HOST) and that the set is the one you meant",
                           since: t0)]
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return [.timed("smoke.audit_logs", .platform, .failed, "\(error)",
                           fix: "DB role / password mismatch: the drill uses ephemeral credentials; if RESTORE_DB_PASSWORD is set, confirm it", since: t0)]
        }
    }
}
