import Common
import Foundation
import Synchronization

/// What a drill has recorded so far: stages, checks, databases, and the figures the report derives from
/// them. Every part of the pipeline (transfer, restore, checks) records here, and each record is also sent
/// to the drill's event handler as it happens.
final class DrillLedger: Sendable {
    struct State: Sendable {
        var stages: [DrillReport.Stage] = []
        var checks: [CheckResult] = []
        var databases: [DrillReport.Database] = []
        var currentStage = "plan"
        var chainRows: Int64?
        var serverVersion: String?
        var jobs: [DrillReport.JobRecord] = []
        var reclaimed: [DrillReport.Reclaimed] = []
        /// The receipts replay (`--receipts`), its database and where the receipts came from.
        var replay: (outcome: ReceiptReplay.Outcome, database: String, location: String)?
    }

    let state = Mutex(State())
    let emit: @Sendable (DrillEvent) -> Void
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant

    init(emit: @escaping @Sendable (DrillEvent) -> Void) {
        self.emit = emit
        self.start = clock.now
    }

    /// Seconds since the drill started.
    var elapsed: Double { (clock.now - start).inSeconds }

    var snapshot: State { state.withLock { $0 } }

    var currentStage: String { state.withLock { $0.currentStage } }

    func setCurrentStage(_ name: String) { state.withLock { $0.currentStage = name } }

    /// Any check failed or timed out so far (the verdict fails closed).
    var failed: Bool { state.withLock { s in s.checks.contains { $0.status.isFailure } } }

    /// No isolation assertion has failed: app services and jobs start only then.
    var isolationHeld: Bool { state.withLock { s in s.checks.allSatisfy { $0.kind != .isolation || !$0.status.isFailure } } }

    func line(_ text: String) { emit(.line(text)) }

    func record(_ name: String, offset: Double, seconds: Double, budget: Double?, status: DrillReport.StageStatus, detail: String?) {
        let s = DrillReport.Stage(name: name, offsetSeconds: offset, seconds: seconds, budgetSeconds: budget,
                                  overBudget: budget.map { seconds > $0 } ?? false, status: status, detail: detail)
        state.withLock { $0.stages.append(s) }
        emit(.stageFinished(s))
    }

    func commit(_ c: CheckResult) {
        state.withLock { $0.checks.append(c) }
        emit(.check(c))
    }

    func check(_ name: String, _ kind: CheckResult.Kind, _ status: CheckResult.Status, _ evidence: String, fix: String? = nil, seconds: Double = 0) {
        commit(CheckResult(name: name, kind: kind, status: status, evidence: evidence, fix: fix, seconds: seconds))
    }

    /// Replaces every check of `kind` (a second isolation run describes the stack as it was checked last).
    func replace(kind: CheckResult.Kind, with results: [CheckResult]) {
        state.withLock { $0.checks.removeAll { $0.kind == kind } }
        for r in results { commit(r) }
    }

    func add(_ database: DrillReport.Database) { state.withLock { $0.databases.append(database) } }

    func setRowCounts(_ counts: [String: Int64], of db: String) {
        state.withLock { s in
            if let i = s.databases.firstIndex(where: { $0.name == db }) { s.databases[i].rowCounts = counts }
        }
    }

    func setChainRows(_ n: Int64) { state.withLock { $0.chainRows = n } }

    func setServerVersion(_ v: String) { state.withLock { $0.serverVersion = v } }

    func addJob(_ job: DrillReport.JobRecord) { state.withLock { $0.jobs.append(job) } }

    func setReplay(_ outcome: ReceiptReplay.Outcome, database: String, location: String) {
        state.withLock { $0.replay = (outcome, database, location) }
    }

    /// Rows the replay inserted on top of the dump, by database and table (for the row comparison).
    var replayedRows: [String: [String: Int64]] {
        state.withLock { s in
            guard let (outcome, db, _) = s.replay, outcome.insertError == nil, outcome.replayed > 0 else { return [:] }
            return [db: [ChainCheck.auditTable: Int64(outcome.replayed)]]
        }
    }

    func addReclaimed(_ r: DrillReport.Reclaimed) { state.withLock { $0.reclaimed.append(r) } }
}
