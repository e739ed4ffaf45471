import Common
public import Foundation

/// The deploy gate (the runbook: "a failed exercise blocks production deploys until resolved"): open only
/// when the newest drill or exercise in a reports folder passed within a maximum age. Fail closed: no
/// report, an unreadable newest report, a failure, an abort or a stale pass all close it.
public struct DeployGate: Sendable {
    public static let metricName = "acp_drill_gate_open"
    public static let metricHelp = "1 when the newest drill (or exercise) passed within its maximum age: deploys may go ahead."

    /// Which runs count: every drill (an exercise is a drill too), or exercises only.
    public enum Kind: String, Sendable, CaseIterable { case drill, exercise }

    public var kind: Kind
    public var maxAgeSeconds: Double

    public init(kind: Kind = .drill, maxAgeSeconds: Double = 92 * 86400) {
        self.kind = kind
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// The gate's answer and the reason, for a person and a pipeline.
    public struct Decision: Sendable, Equatable {
        public var open: Bool
        public var reason: String
        /// The report it was decided on (nil when none counted).
        public var reportID: String?
        public var ageSeconds: Double?

        public init(open: Bool, reason: String, reportID: String?, ageSeconds: Double?) {
            self.open = open
            self.reason = reason
            self.reportID = reportID
            self.ageSeconds = ageSeconds
        }
    }

    /// A report in the folder: its file, and the report when it could be read.
    public struct Entry: Sendable {
        public var file: String
        public var report: DrillReport?
        public var problem: String?
    }

    /// Every `*.json` of the folder, newest name first (report files are named by their drill's timestamp).
    public static func entries(in folder: String) throws(DrillError) -> [Entry] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DrillError(.source, "\(folder): cannot read the reports folder (\((error as NSError).localizedDescription))")
        }
        return names.filter { $0.hasSuffix(".json") }.sorted(by: >).map { name in
            let path = "\(folder)/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else { return Entry(file: path, report: nil, problem: "cannot read it") }
            do {
                let report = try JSONDecoder().decode(DrillReport.self, from: data)
                guard report.schema == DrillReport.schemaName else { return Entry(file: path, report: nil, problem: "not a drill report (schema \(report.schema))") }
                return Entry(file: path, report: report, problem: nil)
            } catch {
                return Entry(file: path, report: nil, problem: "not a drill report: \(error)")
            }
        }
    }

    /// The decision on a folder's entries at `now`.
    public func decide(_ entries: [Entry], now: Date = Date()) -> Decision {
        let what = kind == .exercise ? "exercise" : "drill"
        // The newest report that counts; an unreadable file newer than it closes the gate (it may be the
        // failure nobody can read).
        for entry in entries {
            guard let report = entry.report else {
                return Decision(open: false, reason: "the newest report, \(entry.file), is unreadable (\(entry.problem ?? "?")): fix or remove it", reportID: nil, ageSeconds: nil)
            }
            if kind == .exercise && report.kind != .exercise { continue }
            let finished = ISO8601DateFormatter().date(from: report.finishedAt) ?? SetSelection.date(of: report.id) ?? .distantPast
            let age = max(0, now.timeIntervalSince(finished))
            let when = "\(report.id), \(DrillReport.humanDuration(age)) ago"
            switch report.verdict {
            case .failed:
                return Decision(open: false, reason: "the newest \(what) (\(when)) FAILED — \(report.firstFailure ?? "unknown failure")", reportID: report.id, ageSeconds: age)
            case .aborted:
                return Decision(open: false, reason: "the newest \(what) (\(when)) was ABORTED — \(report.firstFailure ?? "interrupted"); run it again", reportID: report.id, ageSeconds: age)
            case .passed where age > maxAgeSeconds:
                return Decision(open: false, reason: "the newest \(what) (\(when)) passed, but is older than \(DrillReport.humanDuration(maxAgeSeconds)): run one", reportID: report.id, ageSeconds: age)
            case .passed:
                let breach = report.budgetExceeded ? " (over a time budget)" : ""
                return Decision(open: true, reason: "the newest \(what) (\(when)) PASSED\(breach)", reportID: report.id, ageSeconds: age)
            }
        }
        return Decision(open: false, reason: "no \(what) report found", reportID: nil, ageSeconds: nil)
    }

    /// The decision as a Prometheus textfile.
    public func prometheus(_ d: Decision) -> String {
        var text = PrometheusText()
        let label = "kind=\"\(kind.rawValue)\""
        text.metric(Self.metricName, Self.metricHelp, [(label, d.open ? 1 : 0)])
        if let age = d.ageSeconds { text.metric("acp_drill_gate_newest_age_seconds", "Age of the report the gate decided on.", [(label, age)]) }
        return text.text
    }

    public func writePrometheus(_ d: Decision, to path: String) throws {
        try DrillReport.atomicWrite(Data(prometheus(d).utf8), to: path)
    }
}
