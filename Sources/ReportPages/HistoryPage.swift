public import Drill
import Common
public import Foundation
import Mustache

/// Every drill of a reports folder as one page (`acp-drill report --history DIR --html FILE`): the recovery
/// time and the total over time against the 15-minute objective, with a trend and the date it crosses the
/// objective if it is heading there; pass/fail per drill with the backup's age and budget breaches; each
/// database's last verified date and its restore-time trend ("a hash is not a recovery test": the date a
/// backup was last proven restorable). Self-contained like the drill page.
public enum HistoryPage {
    /// The page for these reports (any order); `folder` names the source in the page.
    public static func render(_ reports: [DrillReport], folder: String, objectiveSeconds: Double = 900, now: Date = Date()) throws -> String {
        try Templates.history().render(Model(reports, folder: folder, objective: objectiveSeconds, now: now))
    }

    struct DrillRow {
        var id: String, date: String, kind: String, verdict: String, verdictClass: String, rto: String, total: String
        var backupAge: String, breaches: String, firstFailure: String
    }

    struct DatabaseRow {
        var name: String, lastVerified: String, age: String, drills: Int, lastRestore: String, trend: String, spark: String, stale: Bool
    }

    struct Point { var x: String, y: String, cls: String, tip: String }
    struct Tick { var x: String, y: String, anchor: String, label: String }

    struct Model {
        var title: String, folder: String, summary: String, generated: String
        var drills: [DrillRow], databases: [DatabaseRow]
        var points: [Point], totals: [Point], xTicks: [Tick], yTicks: [Tick]
        var objectiveY: String, hasTrend: Bool, trendX1: String, trendY1: String, trendX2: String, trendY2: String
        var trendText: String, passRate: String, hasDrills: Bool

        static let left = 60.0, width = 780.0, top = 10.0, height = 240.0

        init(_ all: [DrillReport], folder: String, objective: Double, now: Date) {
            let iso = ISO8601DateFormatter()
            let reports = all.sorted { $0.id < $1.id }
            func time(_ r: DrillReport) -> Double { (iso.date(from: r.startedAt) ?? SetSelection.date(of: r.id) ?? now).timeIntervalSince1970 }
            func day(_ t: Double) -> String { String(iso.string(from: Date(timeIntervalSince1970: t)).prefix(10)) }
            func minute(_ t: Double) -> String { String(iso.string(from: Date(timeIntervalSince1970: t)).dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ") }
            func fit(_ points: [(time: Double, value: Double)]) -> Trend? {
                Trend(points, minimumPoints: Trend.minimumPoints, minimumSpan: Trend.minimumSpanSeconds)
            }
            title = "Restore drill history — \(reports.count) drill(s)"
            self.folder = folder
            hasDrills = !reports.isEmpty
            let passed = reports.filter { $0.verdict == .passed }
            passRate = reports.isEmpty ? "—" : "\(passed.count) of \(reports.count) passed (\(Int((Double(passed.count) / Double(reports.count) * 100).rounded())) %)"
            generated = "written by acp-drill \(ToolVersion.current) at \(iso.string(from: now))"

            drills = reports.reversed().map { r in
                let age = r.set.flatMap { SetSelection.date(of: $0.timestamp) }.map { DrillReport.humanDuration(max(0, time(r) - $0.timeIntervalSince1970)) } ?? "—"
                let breaches = r.stages.filter(\.overBudget).map(\.name).joined(separator: ", ")
                return DrillRow(id: r.id, date: day(time(r)), kind: (r.kind ?? .drill).rawValue, verdict: r.verdict.rawValue, verdictClass: r.verdict.rawValue.lowercased(),
                                rto: r.recoveryTimeSeconds.map { String(format: "%.1f s", $0) } ?? "—", total: String(format: "%.1f s", r.durationSeconds),
                                backupAge: age, breaches: breaches.isEmpty ? "—" : breaches, firstFailure: r.firstFailure ?? "")
            }

            // The chart: time on x, seconds on y (0 … max(objective, the slowest drill) × 1.1).
            let times = reports.map(time)
            let t0 = times.min() ?? now.timeIntervalSince1970, t1 = max((times.max() ?? t0) + 1, t0 + 86400)
            let yMax = max(objective, reports.map(\.durationSeconds).max() ?? 0) * 1.1
            func x(_ t: Double) -> Double { Self.left + (t - t0) / (t1 - t0) * Self.width }
            func y(_ v: Double) -> Double { Self.top + Self.height - v / yMax * Self.height }
            func f(_ v: Double) -> String { String(format: "%.2f", v) }
            points = reports.compactMap { r in
                r.recoveryTimeSeconds.map { Point(x: f(x(time(r))), y: f(y($0)), cls: "passed", tip: "\(r.id): RTO \(String(format: "%.1f", $0)) s") }
            }
            totals = reports.map { r in
                Point(x: f(x(time(r))), y: f(y(r.durationSeconds)), cls: r.verdict.rawValue.lowercased(), tip: "\(r.id): \(r.verdict.rawValue), total \(String(format: "%.1f", r.durationSeconds)) s")
            }
            objectiveY = f(y(objective))
            let short = t1 - t0 < 4 * 86400
            xTicks = (0 ... 4).map { i in
                let t = t0 + (t1 - t0) * Double(i) / 4
                return Tick(x: f(x(t)), y: f(Self.top + Self.height + 14), anchor: i == 0 ? "start" : i == 4 ? "end" : "middle", label: short ? minute(t) : day(t))
            }
            let yStep = Timeline.niceTimeStep(yMax / 5)
            yTicks = stride(from: 0.0, through: yMax, by: yStep).map { v in
                Tick(x: f(Self.left - 6), y: f(y(v) + 4), anchor: "end", label: DrillReport.humanDuration(v))
            }
            let trend = fit(passed.compactMap { r in r.recoveryTimeSeconds.map { (time(r), $0) } })
            hasTrend = trend != nil
            let nowT = now.timeIntervalSince1970
            if let trend {
                trendX1 = f(x(t0)); trendY1 = f(y(min(yMax, max(0, trend.value(at: t0)))))
                trendX2 = f(x(t1)); trendY2 = f(y(min(yMax, max(0, trend.value(at: t1)))))
                let perMonth = trend.slope * 30 * 86400
                let direction = String(format: "%+.1f s per 30 days", perMonth)
                switch trend.crossing(objective, after: nowT) {
                case .never: trendText = "RTO trend \(direction): not heading for the \(DrillReport.humanDuration(objective)) objective"
                case .already: trendText = "RTO trend \(direction): at or above the \(DrillReport.humanDuration(objective)) objective now"
                case .at(let t): trendText = "RTO trend \(direction): crosses the \(DrillReport.humanDuration(objective)) objective around \(day(t))"
                }
            } else {
                (trendX1, trendY1, trendX2, trendY2) = ("0", "0", "0", "0")
                trendText = "RTO trend: needs \(Trend.minimumPoints) passed drills over a week or more"
            }

            // Each database: the newest drill that passed with it restored is its last verified date.
            var names = Set<String>()
            for r in reports { for d in r.databases { names.insert(d.name) } }
            databases = names.sorted().map { name in
                let verified = passed.filter { r in r.databases.contains { $0.name == name && $0.restored } }
                let restores = reports.compactMap { r in r.databases.first { $0.name == name }?.restoreSeconds.map { (time(r), $0) } }
                let last = verified.last
                let maxRestore = max(0.001, restores.map(\.1).max() ?? 1)
                let spark = restores.enumerated().map { i, p in
                    "\(f(Double(i) / Double(max(1, restores.count - 1)) * 120)),\(f(20 - p.1 / maxRestore * 18))"
                }.joined(separator: " ")
                let trend = fit(restores.map { (time: $0.0, value: $0.1) }).map { String(format: "%+.2f s per 30 days", $0.slope * 30 * 86400) } ?? "—"
                let age = last.map { nowT - time($0) }
                return DatabaseRow(name: name, lastVerified: last.map { "\(day(time($0))) (\($0.id))" } ?? "never", age: age.map(DrillReport.humanDuration) ?? "—",
                                   drills: verified.count, lastRestore: restores.last.map { String(format: "%.2f s", $0.1) } ?? "—",
                                   trend: trend, spark: spark, stale: age.map { $0 > 92 * 86400 } ?? true)
            }
            summary = reports.isEmpty ? "no drill reports in \(folder)"
                : "\(reports.count) drill(s) from \(day(t0)) to \(day(times.max() ?? t0)); \(passRate)"
        }
    }
}
