import AuditChain
import Common
import Foundation
import Repository
import Sandbox

extension DrillReport {
    /// The report of a finished (or aborted) drill, from what its ledger recorded.
    init(id: String, ledger s: DrillLedger.State, options: DrillOptions, startedAt: Date, durationSeconds: Double, set: BackupSet?,
         recovery: Double?, aborted: Bool, sandbox: SandboxInfo?, engine: EngineDescription) {
        var stages = s.stages
        if let recovery {
            stages.append(Stage(name: "total", offsetSeconds: 0, seconds: recovery, budgetSeconds: options.budgets.total,
                                overBudget: recovery > options.budgets.total, status: .done, detail: "from start until the checks passed"))
        }
        // An engine that went away is the cause of whatever else failed with it: it comes first.
        let cause = s.checks.first { $0.name == "engine" && $0.status.isFailure } ?? s.checks.first { $0.status.isFailure }
        let firstFailure = cause.map { "\($0.name): \($0.evidence)" }
        let verdict: Verdict = aborted ? .aborted : (firstFailure == nil && recovery != nil ? .passed : .failed)
        let iso = ISO8601DateFormatter()
        self.init(
            id: id, verdict: verdict, budgetExceeded: verdict == .passed && stages.contains(where: \.overBudget),
            firstFailure: firstFailure, rowsVerified: s.databases.reduce(0) { $0 + $1.rowCounts.values.reduce(0, +) },
            chainRowsVerified: s.chainRows, recoveryTimeSeconds: verdict == .passed ? recovery : nil, durationSeconds: durationSeconds,
            startedAt: iso.string(from: startedAt), finishedAt: iso.string(from: Date()), operator: options.operatorName, host: options.hostName,
            set: set, budgets: options.budgets, stages: stages, checks: s.checks, databases: s.databases.sorted { $0.name < $1.name },
            versions: Versions(tool: ToolVersion.current, pgRestore: ProcessPipeline.version("pg_restore"), server: s.serverVersion,
                               engine: engine.version, engineAPI: engine.api, decryptor: ProcessPipeline.version(options.decryption.kind)),
            sandbox: sandbox, kind: options.jobChecks.isEmpty ? .drill : .exercise, jobs: options.jobChecks.isEmpty ? nil : s.jobs,
            reclaimed: s.reclaimed.isEmpty ? nil : s.reclaimed)
        rpo = set.flatMap { RecoveryPoint(set: $0, replay: s.replay, until: options.until, startedAt: startedAt) }
    }
}

extension DrillReport.RecoveryPoint {
    /// The recovery point of a drill of `set`: the set's time, moved on by the receipts replayed; the loss
    /// measured to `--until`, else to the drill's start.
    init?(set: DrillReport.BackupSet, replay: (outcome: ReceiptReplay.Outcome, database: String, location: String)?, until: Int64?, startedAt: Date) {
        guard let taken = SetSelection.date(of: set.timestamp) else { return nil }
        let takenMicros = Int64(taken.timeIntervalSince1970) * 1_000_000
        let reached = max(takenMicros, replay?.outcome.lastTime ?? takenMicros)
        let target = until ?? Int64(startedAt.timeIntervalSince1970 * 1_000_000)
        self.init(dumpTakenAt: UTCTime.canonical(micros: takenMicros), recoveredUntil: UTCTime.canonical(micros: reached),
                  target: UTCTime.canonical(micros: target), dataLossSeconds: max(0, Double(target - reached) / 1_000_000),
                  receiptsReplayed: replay?.outcome.replayed ?? 0,
                  gaps: replay?.outcome.stop?.missing.map { [Gap(from: $0.lowerBound, to: $0.upperBound)] } ?? [],
                  dumpLastID: replay?.outcome.boundaryID, recoveredLastID: replay.map { $0.outcome.lastID ?? $0.outcome.boundaryID },
                  receipts: replay?.location)
    }
}

extension DrillReport.BackupSet {
    /// The set as its manifest describes it.
    init(_ m: Manifest, location: String, selection: String) {
        self.init(
            timestamp: m.timestamp, location: location, selection: selection, manifestFormat: m.format, createdAt: m.createdAt,
            encryption: m.encryption, recipientFingerprint: m.recipientFingerprint, pgDumpVersion: m.pgDumpVersion,
            serverVersion: m.serverVersion, backupToolVersion: m.toolVersion,
            objects: m.objects.map { .init(key: $0.key, database: $0.database, kind: $0.kind, size: $0.size, sha256: $0.sha256) },
            backupFailures: m.failures.map { "\($0.database) (\($0.step)): \($0.message)" })
    }
}

extension DrillReport.RecoveryPoint {
    /// The recovery point in one line: how far the restored data reaches, and what it would lose.
    public var summary: String {
        var text = "restored to \(recoveredUntil)"
        if receipts != nil {
            text += receiptsReplayed > 0
                ? " (\(receiptsReplayed) audit row(s) recovered from receipts beyond the dump of \(dumpTakenAt), up to id \(recoveredLastID ?? 0))"
                : " (the dump of \(dumpTakenAt); no receipt beyond it)"
        } else {
            text += " (the dump; no receipts given)"
        }
        text += String(format: "; data loss %.2f s to %@", dataLossSeconds, target)
        if let gap = gaps.first { text += "; receipts missing for ids \(gap.from)…\(gap.to)" }
        return text
    }
}
