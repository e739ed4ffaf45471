import Drill
import Foundation

/// The stages as an SVG Gantt chart's geometry: one row per stage (and per database's restore, which are
/// stages of their own), placed by when they started and how long they took, so that overlaps show
/// (`decrypt ‖ provision`, `isolation ‖ restore`, concurrent restores).
struct Timeline {
    struct Bar { var label: String, status: String, kind: String, x: String, y: String, width: String, textY: String, tip: String }
    struct Tick { var x: String, label: String }

    static let labelWidth = 190.0, chartWidth = 690.0, rowHeight = 18.0, top = 8.0

    var bars: [Bar]
    var ticks: [Tick]
    var width: String, height: String, axisY: String, chartLeft: String, chartRight: String

    init(_ stages: [DrillReport.Stage]) {
        let ordered = stages.enumerated().sorted { ($0.element.offsetSeconds, $0.offset) < ($1.element.offsetSeconds, $1.offset) }.map(\.element)
        let end = max(0.001, ordered.map { $0.offsetSeconds + $0.seconds }.max() ?? 1)
        let scale = Self.chartWidth / end
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        bars = ordered.enumerated().map { i, s in
            let y = Self.top + Double(i) * Self.rowHeight
            let budget = s.budgetSeconds.map { String(format: ", budget %.0f s", $0) } ?? ""
            return Bar(label: s.name, status: s.status.rawValue, kind: s.name.hasPrefix("restore.") ? "db" : "stage",
                       x: f(Self.labelWidth + s.offsetSeconds * scale), y: f(y + 2), width: f(max(1.5, s.seconds * scale)), textY: f(y + 12),
                       tip: String(format: "%@: %.2f s, from %.2f s%@%@", s.name, s.seconds, s.offsetSeconds, budget, s.overBudget ? " — OVER BUDGET" : ""))
        }
        let axis = Self.top + Double(ordered.count) * Self.rowHeight + 4
        let step = Self.niceTimeStep(end / 6)
        ticks = stride(from: 0.0, through: end, by: step).map { t in
            Tick(x: f(Self.labelWidth + t * scale), label: step < 1 ? String(format: "%.1f s", t) : DrillReport.humanDuration(t))
        }
        width = f(Self.labelWidth + Self.chartWidth + 20)
        height = f(axis + 22)
        axisY = f(axis)
        chartLeft = f(Self.labelWidth)
        chartRight = f(Self.labelWidth + Self.chartWidth)
    }

    /// A step of time that reads well on an axis, at least `raw` seconds: below a second 1, 2 or 5 times a
    /// power of ten; then 1, 2, 5, 10, 15 or 30 seconds or minutes, then hours and days.
    static func niceTimeStep(_ raw: Double) -> Double {
        guard raw > 0 else { return 1 }
        if raw < 1 {
            let p = pow(10, floor(log10(raw)))
            return [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 1
        }
        let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]
        return steps.first { $0 >= raw } ?? (raw / 86400).rounded(.up) * 86400
    }
}
