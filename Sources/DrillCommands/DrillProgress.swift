import Common
import Drill
import Foundation
import Synchronization

/// Renders a drill's events on standard error: a live byte counter on a terminal, plain lines otherwise
/// (cron, CI logs). The verdict and summary go to standard output.
final class DrillProgress: Sendable {
    let terminal: Bool
    let live = Mutex(false)

    init(terminal: Bool) { self.terminal = terminal }

    func handle(_ event: DrillEvent) {
        switch event {
        case .stageStarted(let name):
            line("▸ \(name)")
        case .stageFinished(let s):
            let budget = s.budgetSeconds.map { String(format: " (budget %.0f s%@)", $0, s.overBudget ? ", EXCEEDED" : "") } ?? ""
            line(String(format: "  %@ %@ %.2f s%@", s.status == .done ? "✓" : "✗", s.name, s.seconds, budget))
        case .bytes(let stage, let item, let done, let total):
            guard terminal else { return }
            let pct = total.map { $0 > 0 ? String(format: " %3.0f%%", Double(done) * 100 / Double($0)) : "" } ?? ""
            live.withLock { $0 = true }
            writeError(String(format: "\r  %@ %@: %.1f MB%@\u{1B}[K", stage, item, Double(done) / 1e6, pct))
        case .line(let text):
            line(text)
        case .check(let c):
            line("  \(Self.mark(c.status)) \(c.name): \(c.evidence)")
        }
    }

    func line(_ text: String) {
        let wasLive = live.withLock { v -> Bool in defer { v = false }; return v }
        printError((wasLive ? "\r\u{1B}[K" : "") + text)
    }

    static func mark(_ status: CheckResult.Status) -> String {
        switch status {
        case .passed: "passed   "
        case .skipped: "skipped  "
        case .timedOut: "TIMED OUT"
        case .failed: "FAILED   "
        }
    }

    /// The summary printed before the last line: failures with their fix, stage times against budgets.
    /// `loginPassword`: shown only for a kept sandbox whose set restored login roles (they connect with it).
    static func summary(_ report: DrillReport, loginPassword: String? = nil) {
        let failed = report.checks.filter { $0.status.isFailure }
        let passed = report.checks.filter { $0.status == .passed }.count
        let skipped = report.checks.filter { $0.status == .skipped }.count
        print("checks: \(passed) passed, \(failed.count) failed, \(skipped) skipped")
        for c in failed {
            print("  FAILED \(c.name): \(c.evidence)")
            if let fix = c.fix { print("         fix: \(fix)") }
        }
        // Per-database restores fold into their slowest (and any over budget).
        let budgeted = report.stages.filter { $0.budgetSeconds != nil }
        let restores = budgeted.filter { $0.name.hasPrefix("restore.") }
        var shown = budgeted.filter { !$0.name.hasPrefix("restore.") || $0.overBudget }
        if let slowest = restores.max(by: { $0.seconds < $1.seconds }), !slowest.overBudget { shown.insert(slowest, at: min(2, shown.count)) }
        if !shown.isEmpty {
            print("budgets: " + shown.map { String(format: "%@ %.1f/%.0f s%@", $0.name, $0.seconds, $0.budgetSeconds!, $0.overBudget ? " EXCEEDED" : "") }.joined(separator: ", "))
        }
        if let s = report.sandbox {
            if s.kept {
                print("kept: \(s.project) until \(s.keptUntil ?? "?") — acp-drill exec \(s.project) postgres -- psql; acp-drill verify-chain \(s.project); acp-drill down \(s.project)")
                // A set spread over several instances: where each database is.
                let spread = Dictionary(grouping: report.databases.filter { $0.instance != nil }, by: { $0.instance! })
                for (instance, dbs) in spread.sorted(by: { $0.key < $1.key }) {
                    print("kept: \(instance)\(dbs.first?.node.map { " (node \($0))" } ?? ""): \(dbs.map(\.name).sorted().joined(separator: ", ")) — acp-drill exec \(s.project) \(instance) -- psql -d DB")
                }
                if let loginPassword, report.checks.contains(where: { $0.name == "roles" && $0.status != .skipped }) {
                    print("kept: the set's login roles connect with the password \(loginPassword) (RESTORE_DB_PASSWORD chooses it)")
                }
            }
            else if let e = s.teardownError { print("teardown FAILED: \(e) — acp-drill down \(s.project) (or gc) removes what is left") }
        }
        print("row counts: \(report.rowCountsSummary)")
        if let rpo = report.rpo { print("recovery point: " + rpo.summary) }
    }
}
