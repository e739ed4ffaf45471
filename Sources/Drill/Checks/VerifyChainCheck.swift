import AuditChain
import Common
import Foundation

/// `verify_chain`: the audit hash chain recomputes row by row, and every daily root recomputes and its
/// signature verifies with a key valid when it was signed (docs/DESIGN.md §8).
struct VerifyChainCheck: DrillCheck {
    static let fix = "the audit chain was altered after it was written: follow the Audit Chain Violation runbook and compare with customer-archived roots (--customer-roots FILE)"

    let descriptor = CheckDescriptor("verify_chain", kind: .platform, needs: [.table("audit_logs", platformDatabase: "acp_audit"), .auditChain],
                                     "ids contiguous, every prev_hash links, every row_hash recomputes, every root recomputes and its signature verifies")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let db = context.locate("audit_logs", platformDatabase: "acp_audit").db else { return [] }
        let t0 = ContinuousClock.now
        let read: ChainRead
        do { read = try await context.auditChain(in: db) } catch {
            if Task.isCancelled { throw CancellationError() }
            return [.timed("verify_chain", .platform, .failed, "\(db): \(error)", since: t0)]
        }
        let report = read.report
        context.ledger.setChainRows(report.rows)
        let rate = read.seconds > 0 ? Int(Double(report.rows) / read.seconds) : 0
        if let f = report.failure {
            let fix = f.kind == .historicalKeysMissing ? "confirm the historical-keys table (transparency_historical_keys) was included in the backup" : Self.fix
            return [CheckResult(name: "verify_chain", kind: .platform, status: .failed, evidence: "\(db): \(f.message)", fix: fix, seconds: read.seconds)]
        }
        return [CheckResult(name: "verify_chain", kind: .platform, status: .passed,
                            evidence: "\(db): \(report.rows) rows (ids \(report.firstID ?? 0)…\(report.lastID ?? 0)), \(report.days) day(s), \(report.rootsVerified) signed root(s) verified, \(report.unsealedRows) unsealed row(s) after the last root; \(rate) rows/s",
                            seconds: read.seconds)]
    }
}
