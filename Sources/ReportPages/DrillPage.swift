public import Drill
import Common
import Foundation
import Mustache

/// One drill as a self-contained HTML page (`acp-drill run --html`, `acp-drill report REPORT.json --html`):
/// the verdict and the set, the recovery time against its budget, the stages as an SVG timeline (one bar per
/// stage and per database's restore), every check filterable by status with its evidence and fix, the
/// databases, an exercise's jobs, and the backup's age. No external asset and no script: inline CSS and SVG,
/// and the status filter is CSS alone. Every value from the report goes through Mustache's `{{…}}`, which
/// escapes `< > & " '`: evidence holds SQL and pg_restore messages, and shows as text.
public enum DrillPage {
    public static func render(_ report: DrillReport) throws -> String {
        try Templates.drill().render(Model(report))
    }

    struct Fact { var label: String; var value: String }
    struct Row { var cells: [Cell] }
    struct Cell { var text: String; var num: Bool }

    struct CheckRow {
        var name: String, kind: String, status: String, statusText: String, evidence: String, fix: String?, seconds: String
    }

    struct Model {
        var title: String, verdict: String, verdictClass: String, lastLine: String, subtitle: String
        var set: [Fact], versions: [Fact]
        var rto: String, rtoBudget: String, rtoPercent: String, rtoOver: Bool, rtoKnown: Bool
        var timeline: Timeline
        var checks: [CheckRow]
        var counts: [String: Int]
        var databases: [Row]
        var jobs: [Row], hasJobs: Bool
        var recoveryPoint: String
        var generated: String

        init(_ r: DrillReport) {
            title = "Restore drill \(r.verdict.rawValue) — \(r.id)"
            verdict = r.verdict.rawValue
            verdictClass = r.verdict.rawValue.lowercased()
            lastLine = r.lastLine
            subtitle = "\(r.kind == .exercise ? "DR exercise" : "Drill") \(r.id) by \(r.operator) on \(r.host), \(r.startedAt) → \(r.finishedAt)"
                + (r.budgetExceeded ? " — over a time budget" : "")
            let s = r.set
            set = [
                Fact(label: "set", value: s?.timestamp ?? "— (no set was chosen)"),
                Fact(label: "location", value: s?.location ?? "—"),
                Fact(label: "selection", value: s?.selection ?? "—"),
                Fact(label: "encryption", value: s.map { "\($0.encryption), recipient \($0.recipientFingerprint)" } ?? "—"),
                Fact(label: "signature", value: r.checks.first { $0.name == "manifest.signature" }.map { c in
                    c.status == .passed ? "verified: \(c.evidence)" : c.status == .skipped ? "not verified: \(c.evidence)" : "FAILED: \(c.evidence)"
                } ?? "not checked (a drill from before signed manifests)"),
                Fact(label: "objects", value: s.map { "\($0.objects.count), \(Self.bytes($0.objects.reduce(0) { $0 + $1.size })) encrypted" } ?? "—"),
                Fact(label: "recovery point", value: r.rpo?.summary ?? "—"),
                Fact(label: "taken by", value: s.map { "acp-drill \($0.backupToolVersion), \($0.pgDumpVersion), server \($0.serverVersion)" } ?? "—"),
            ]
            versions = [
                Fact(label: "acp-drill", value: r.versions.tool), Fact(label: "pg_restore", value: r.versions.pgRestore),
                Fact(label: "server", value: r.versions.server ?? "—"),
                Fact(label: "engine", value: [r.versions.engine, r.versions.engineAPI.map { "API \($0)" }].compactMap { $0 }.joined(separator: ", ")),
                Fact(label: "decryptor", value: r.versions.decryptor ?? "—"),
            ]
            let budget = r.budgets.total
            rtoKnown = r.recoveryTimeSeconds != nil
            let recovery = r.recoveryTimeSeconds ?? r.durationSeconds
            rto = rtoKnown ? DrillReport.humanDuration(recovery) + String(format: " (%.1f s)", recovery) : "not reached (the drill did not pass); it ran \(DrillReport.humanDuration(r.durationSeconds))"
            rtoBudget = DrillReport.humanDuration(budget)
            rtoPercent = String(format: "%.1f", min(100, budget > 0 ? recovery / budget * 100 : 0))
            rtoOver = recovery > budget
            timeline = Timeline(r.stages.filter { $0.name != "total" })
            checks = r.checks.map { c in
                CheckRow(name: c.name, kind: c.kind.rawValue, status: c.status.rawValue,
                         statusText: c.status == .timedOut ? "timed out" : c.status.rawValue, evidence: c.evidence, fix: c.fix,
                         seconds: c.seconds > 0 ? String(format: "%.2f", c.seconds) : "")
            }
            counts = ["all": r.checks.count]
            for status in CheckResult.Status.allCases { counts[status.rawValue] = r.checks.filter { $0.status == status }.count }
            counts["failed"] = r.checks.filter { $0.status.isFailure }.count
            databases = r.databases.map { d in
                Row(cells: [Cell(text: d.name, num: false), Cell(text: (d.restored ? "restored" : "not restored") + Self.place(d), num: false),
                            Cell(text: "\(d.rowCounts.count)", num: true), Cell(text: "\(d.rowCounts.values.reduce(0, +))", num: true),
                            Cell(text: Self.bytes(d.dumpBytes), num: true), Cell(text: d.plaintextBytes.map(Self.bytes) ?? "—", num: true),
                            Cell(text: d.restoreSeconds.map { String(format: "%.2f s", $0) } ?? "—", num: true), Cell(text: d.jobs.map { "\($0)" } ?? "—", num: true)])
            }
            jobs = (r.jobs ?? []).map { j in
                Row(cells: [Cell(text: j.name, num: false), Cell(text: j.status.rawValue, num: false), Cell(text: j.image, num: false),
                            Cell(text: j.imageID ?? "—", num: false), Cell(text: j.exitCode.map { "\($0)" } ?? "—", num: true),
                            Cell(text: String(format: "%.1f s", j.seconds), num: true)])
            }
            hasJobs = !jobs.isEmpty
            recoveryPoint = Self.recoveryPoint(r)
            generated = "written by acp-drill \(ToolVersion.current) from report schema \(r.schemaVersion)"
        }

        /// ` on postgres-2, node acp-swarm-3` for a database of a set spread over several instances or nodes.
        static func place(_ d: DrillReport.Database) -> String {
            let parts = [d.instance, d.node.map { "node \($0)" }].compactMap { $0 }
            return parts.isEmpty ? "" : " on " + parts.joined(separator: ", ")
        }

        static func bytes(_ n: Int64) -> String {
            n >= 1 << 30 ? String(format: "%.2f GB", Double(n) / 1e9) : n >= 1 << 20 ? String(format: "%.1f MB", Double(n) / 1e6)
                : n >= 1 << 10 ? String(format: "%.1f kB", Double(n) / 1e3) : "\(n) B"
        }

        static func recoveryPoint(_ r: DrillReport) -> String {
            guard let ts = r.set?.timestamp, let taken = SetSelection.date(of: ts), let started = ISO8601DateFormatter().date(from: r.startedAt) else {
                return "unknown: no set was restored"
            }
            return "the restored data is the set taken \(ts): \(DrillReport.humanDuration(max(0, started.timeIntervalSince(taken)))) before the drill started (the data lost in a disaster at that moment, without receipts)"
        }
    }
}
