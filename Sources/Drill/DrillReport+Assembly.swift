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
