import Common
import Foundation

/// `reconcile`: audit ↔ usage parity (docs/DESIGN.md §8): every billable audit row has exactly one usage event
/// with its tenant and units, no usage event lacks its audit row, per-tenant counts and sums agree.
struct ReconcileCheck: DrillCheck {
    let descriptor = CheckDescriptor("reconcile", kind: .platform,
                                     needs: [.table("audit_logs", platformDatabase: "acp_audit"), .table("usage_events", platformDatabase: "acp_usage")],
                                     "every billable audit row has exactly one matching usage event, and per-tenant totals agree")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let adb = context.locate("audit_logs", platformDatabase: "acp_audit").db,
              let udb = context.locate("usage_events", platformDatabase: "acp_usage").db else { return [] }
        let t0 = ContinuousClock.now
        do {
            // Normally the audit side rode along the chain's own pass over audit_logs (one read of the table).
            let r: Reconcile.Result
            if let folded = try? await context.auditChain(in: adb).reconcile, folded.usageDatabase == udb {
                r = folded.result
            } else {
                let replay = context.ledger.snapshot.replay
                r = try await Reconcile.run(audit: context.target(adb), usage: context.target(udb),
                                            dumpBoundary: replay?.database == adb ? replay?.outcome.boundaryID : nil, usageSnapshotAt: context.usageSnapshotAt(udb))
            }
            return [.timed("reconcile", .platform, r.passed ? .passed : .failed, "\(adb).audit_logs ↔ \(udb).usage_events: \(r.evidence)",
                           fix: "usage and audit disagree: rows were lost or altered on one side; compare the ids named with production", since: t0)]
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return [.timed("reconcile", .platform, .failed, "\(error)", since: t0)]
        }
    }
}
