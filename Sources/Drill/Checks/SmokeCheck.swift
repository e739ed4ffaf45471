import Common
import Foundation

/// `smoke.audit_logs`: the runbook's `SELECT count(*) FROM audit_logs` answers, with rows, and with as many
/// as the source's evidence counted (plus replayed receipts) when the set carries evidence.
struct SmokeCheck: DrillCheck {
    let descriptor = CheckDescriptor("smoke.audit_logs", kind: .platform, needs: [.table("audit_logs", platformDatabase: "acp_audit")],
                                     "the runbook's smoke query, SELECT count(*) FROM audit_logs, answers with rows, as many as the source held in the dump's snapshot (plus replayed receipts) when the set carries evidence")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let db = context.locate("audit_logs", platformDatabase: "acp_audit").db else { return [] }
        let t0 = ContinuousClock.now
        do {
            let n = try await context.target(db).query("SELECT count(*) FROM audit_logs").first?.first ?? "0"
            let count = Int64(n) ?? 0
            guard count > 0 else {
                return [.timed("smoke.audit_logs", .platform, .failed, "\(db): SELECT count(*) FROM audit_logs = \(n)",
                               fix: "the restored audit_logs is empty: confirm the backup ran against the production database (POSTGRES_HOST) and that the set is the one you meant",
                               since: t0)]
            }
            if let source = context.manifest.evidence?[db]?.rows[ChainCheck.auditTable] {
                let replayed = context.ledger.replayedRows[db]?[ChainCheck.auditTable] ?? 0
                let expected = source + replayed
                return [.timed("smoke.audit_logs", .platform, count == expected ? .passed : .failed,
                               "\(db): SELECT count(*) FROM audit_logs = \(n); the source held \(source)" + (replayed > 0 ? " + \(replayed) replayed" : "") + " in the dump's snapshot",
                               fix: "the restored audit_logs does not hold what the source held: the dump was altered or re-made after the backup", since: t0)]
            }
            return [.timed("smoke.audit_logs", .platform, .passed, "\(db): SELECT count(*) FROM audit_logs = \(n) (the set carries no source evidence to compare with)", since: t0)]
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return [.timed("smoke.audit_logs", .platform, .failed, "\(error)",
                           fix: "DB role / password mismatch: the drill uses ephemeral credentials; if RESTORE_DB_PASSWORD is set, confirm it", since: t0)]
        }
    }
}
