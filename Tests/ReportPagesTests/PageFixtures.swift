import Common
import Foundation
import Sandbox
@testable import Drill

/// Reports to render: a passed, a failed and an aborted drill, shaped like the real ones.
enum PageFixtures {
    static let hostile = "ERROR:  syntax error at or near \"<script>alert('x')</script>\" & \"quoted\"\nfailing statement: CREATE FUNCTION f() …"

    static func report(_ verdict: DrillReport.Verdict, id: String = "20261127T020000Z", daysAgo: Double = 0, rto: Double = 9.7,
                       databases: [String] = ["acp_audit", "acp_tenants", "Legacy-Shop"]) -> DrillReport {
        let start = Date(timeIntervalSince1970: 1_796_000_000 - daysAgo * 86400)
        let iso = ISO8601DateFormatter()
        var stages: [DrillReport.Stage] = [
            .init(name: "gc", offsetSeconds: 0, seconds: 0.01, budgetSeconds: nil, overBudget: false, status: .done, detail: nil),
            .init(name: "pick", offsetSeconds: 0.01, seconds: 0.01, budgetSeconds: nil, overBudget: false, status: .done, detail: nil),
            .init(name: "download", offsetSeconds: 0.03, seconds: 0.07, budgetSeconds: 60, overBudget: false, status: .done, detail: nil),
            .init(name: "decrypt", offsetSeconds: 0.1, seconds: 0.26, budgetSeconds: 60, overBudget: false, status: .done, detail: nil),
            .init(name: "provision", offsetSeconds: 0.03, seconds: 1.64, budgetSeconds: nil, overBudget: false, status: .done, detail: nil),
            .init(name: "isolation", offsetSeconds: 1.7, seconds: 1.1, budgetSeconds: nil, overBudget: false, status: .done, detail: nil),
            .init(name: "restore", offsetSeconds: 1.7, seconds: 5.5, budgetSeconds: nil, overBudget: false, status: verdict == .aborted ? .aborted : .done, detail: nil),
        ]
        for (i, db) in databases.enumerated() {
            stages.append(.init(name: "restore.\(db)", offsetSeconds: 2 + Double(i) * 0.3, seconds: 1.5 + Double(i), budgetSeconds: 600, overBudget: false,
                                status: verdict == .failed && i == 1 ? .failed : .done, detail: "pg_restore --single-transaction"))
        }
        if verdict == .passed { stages.append(.init(name: "checks", offsetSeconds: 7.2, seconds: 2.1, budgetSeconds: 180, overBudget: false, status: .done, detail: nil)) }
        stages.append(.init(name: "teardown", offsetSeconds: 9.4, seconds: 0.9, budgetSeconds: nil, overBudget: false, status: .done, detail: nil))
        var checks: [CheckResult] = [
            .passed("checksum.acp_audit", "a.dump.age: 1 bytes, sha256 abcd… matches the manifest"),
            .passed("restore.acp_audit", "pg_restore --exit-on-error -j 2: 40 entries"),
            .init(name: "isolation.dns", kind: .isolation, status: .passed, evidence: "acp_postgres, acp_redis do not resolve"),
            .skipped("reconcile", "no restored database has a table usage_events (platform check)", kind: .platform),
        ]
        switch verdict {
        case .failed: checks.append(.init(name: "restore.acp_tenants", status: .failed, evidence: hostile, fix: "keep the sandbox (--keep) & rerun it"))
        case .aborted: checks.append(.failed("interrupted", "interrupted during restore: the drill was cancelled (SIGINT/SIGTERM)"))
        case .passed: checks.append(.passed("user.evidence with markup", hostile, kind: .user))
        }
        let dbs = databases.enumerated().map { i, db in
            DrillReport.Database(name: db, dumpBytes: Int64(1000 * (i + 1)), plaintextBytes: Int64(3000 * (i + 1)), jobs: 1,
                                 restoreSeconds: 1.5 + Double(i) + daysAgo / 100, restored: !(verdict == .failed && i == 1), rowCounts: ["public.t": Int64(10 * (i + 1))])
        }
        let set = DrillReport.BackupSet(timestamp: id, location: "/srv/backups", selection: "newest", manifestFormat: 1, createdAt: iso.string(from: start),
                                        encryption: "age", recipientFingerprint: "sha256:0123456789ab", pgDumpVersion: "pg_dump (PostgreSQL) 15.18",
                                        serverVersion: "15.18", backupToolVersion: "0.1.0", objects: [.init(key: "\(id)/acp_audit.dump.age", database: "acp_audit", kind: "dump", size: 1000, sha256: "ab")],
                                        backupFailures: [])
        let first = checks.first { $0.status.isFailure }.map { "\($0.name): \($0.evidence)" }
        return DrillReport(
            id: id, verdict: verdict, budgetExceeded: false, firstFailure: first, rowsVerified: 60, chainRowsVerified: nil,
            recoveryTimeSeconds: verdict == .passed ? rto : nil, durationSeconds: rto + 0.6,
            startedAt: iso.string(from: start.addingTimeInterval(3600)), finishedAt: iso.string(from: start.addingTimeInterval(3610)),
            operator: "sre-bot", host: "drill-host", set: set, budgets: DrillBudgets(), stages: stages, checks: checks, databases: dbs,
            versions: .init(tool: ToolVersion.current, pgRestore: "pg_restore (PostgreSQL) 15.18"), sandbox: nil, kind: .drill)
    }

    /// `n` drills, one a day, the RTO creeping up, every seventh failing.
    static func history(_ n: Int) -> [DrillReport] {
        (0 ..< n).map { i in
            let daysAgo = Double(n - i)
            let stamp = SandboxProject.timestamp(Date(timeIntervalSince1970: 1_796_000_000 - daysAgo * 86400))
            return report(i % 7 == 3 ? .failed : .passed, id: stamp, daysAgo: daysAgo, rto: 60 + Double(i) * 2)
        }
    }
}
