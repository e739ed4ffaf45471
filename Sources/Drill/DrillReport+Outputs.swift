public import Foundation
import Repository

/// The report's other forms: the drill-log row of the runbook, JUnit XML for CI, a Prometheus textfile
/// for node_exporter. Files are written to a temporary name and renamed: a reader never sees half a file.
extension DrillReport {
    public static let runbookHeader = """
        # Restore drill log

        Each drill appends one row (written by `acp-drill run`). This log is the SOC 2 audit trail: it proves
        the recovery procedure works. Full evidence: `reports/restore_drill/<id>.json`.

        | Date       | Operator | Backup Date | Duration | Row Counts                       | Result |
        | ---------- | -------- | ----------- | -------- | -------------------------------- | ------ |

        """

    /// `| Date | Operator | Backup Date | Duration | Row Counts | Result |`
    public var runbookRow: String {
        let date = String(startedAt.prefix(10))
        let backup = set.map { ts -> String in
            let t = Array(ts.timestamp)
            return t.count >= 8 ? "\(String(t[0 ..< 4]))-\(String(t[4 ..< 6]))-\(String(t[6 ..< 8]))" : ts.timestamp
        } ?? "—"
        var result: String
        switch verdict {
        case .passed: result = budgetExceeded ? "PASS (over budget)" : "PASS"
        case .failed: result = "FAIL"
        case .aborted: result = "ABORTED"
        }
        if kind == .exercise { result += " (exercise)" }
        let cells = [date, self.operator, backup, Self.humanDuration(durationSeconds), rowCountsSummary, result]
        return "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }

    /// `audit=12450 tenants=3 usage=8900` for the platform's databases; `rows=N tables=M` otherwise.
    public var rowCountsSummary: String {
        func count(_ db: String, _ table: String) -> Int64? { databases.first { $0.name == db }?.rowCounts["public.\(table)"] }
        var parts: [String] = []
        if let n = count("acp_audit", "audit_logs") { parts.append("audit=\(n)") }
        if let n = count("acp_tenants", "tenants") { parts.append("tenants=\(n)") }
        if let n = count("acp_usage", "usage_events") { parts.append("usage=\(n)") }
        if parts.isEmpty {
            let tables = databases.reduce(0) { $0 + $1.rowCounts.count }
            parts.append("rows=\(rowsVerified) tables=\(tables)")
        }
        return parts.joined(separator: " ")
    }

    public static func humanDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s >= 2 * 86400 { return "\(s / 86400)d" }
        if s % 60 == 0 || s >= 3600 { return s >= 3600 ? "\(s / 3600)h \(s / 60 % 60)m" : "\(s / 60)m" }
        return "\(s / 60)m \(s % 60)s"
    }

    /// Writes `<dir>/<id>.json`; returns its path.
    @discardableResult
    public func write(toDirectory dir: String) throws -> String {
        let path = "\(dir)/\(id).json"
        try Self.atomicWrite(encoded() + Data("\n".utf8), to: path)
        return path
    }

    /// Appends the row to the drill log, creating it with its header when missing.
    public func appendRunbookRow(to path: String) throws {
        try Self.makeFolders((path as NSString).deletingLastPathComponent)
        if !FileManager.default.fileExists(atPath: path) { try Self.atomicWrite(Data(Self.runbookHeader.utf8), to: path) }
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw DrillError(.configuration, "\(path): cannot write: \(String(cString: strerror(errno)))") }
        let h = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? h.close() }
        let end = try h.seekToEnd()
        var line = runbookRow + "\n"
        if end > 0 {
            try h.seek(toOffset: end - 1)
            if try h.read(upToCount: 1) != Data("\n".utf8) { line = "\n" + line }
        }
        try h.write(contentsOf: Data(line.utf8))
        try h.synchronize()
    }

    /// JUnit XML: one test case per check, and one per time budget.
    public var junit: String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var cases: [String] = []
        var failures = 0, skipped = 0
        for c in checks {
            var body = ""
            switch c.status {
            case .passed: break
            case .skipped: skipped += 1; body = "<skipped message=\"\(esc(c.evidence))\"/>"
            case .failed, .timedOut:
                failures += 1
                body = "<failure type=\"\(esc(c.status.rawValue))\" message=\"\(esc(c.evidence))\">\(esc(c.evidence + (c.fix.map { "\nfix: \($0)" } ?? "")))</failure>"
            }
            // What the check proves, from the registry: a CI reader sees what a green case means.
            if let d = CheckRegistry.descriptor(for: c.name) { body += "<system-out>\(esc("\(d.name): \(d.summary)"))</system-out>" }
            cases.append("    <testcase classname=\"acp-drill.\(esc(c.kind.rawValue))\" name=\"\(esc(c.name))\" time=\"\(String(format: "%.3f", c.seconds))\">\(body)</testcase>")
        }
        for s in stages where s.budgetSeconds != nil {
            var body = ""
            if s.overBudget {
                failures += 1
                body = "<failure type=\"budget\" message=\"\(esc("\(s.name) took \(String(format: "%.1f", s.seconds)) s, budget \(String(format: "%.0f", s.budgetSeconds!)) s"))\"/>"
            }
            cases.append("    <testcase classname=\"acp-drill.budget\" name=\"\(esc(s.name))\" time=\"\(String(format: "%.3f", s.seconds))\">\(body)</testcase>")
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="acp-drill" tests="\(cases.count)" failures="\(failures)" skipped="\(skipped)" time="\(String(format: "%.3f", durationSeconds))">
              <testsuite name="restore drill \(esc(id))" tests="\(cases.count)" failures="\(failures)" skipped="\(skipped)" time="\(String(format: "%.3f", durationSeconds))" timestamp="\(esc(startedAt))">
            \(junitProperties)\(cases.joined(separator: "\n"))
              </testsuite>
            </testsuites>

            """
    }

    /// The suite's properties: the backup's age and the recovery point's data loss.
    var junitProperties: String {
        let properties = [("acp_drill_backup_age_seconds", backupAgeSeconds), ("acp_drill_rpo_seconds", rpo?.dataLossSeconds)].compactMap { name, value in
            value.map { "<property name=\"\(name)\" value=\"\(String(format: "%.3f", $0))\"/>" }
        }
        return properties.isEmpty ? "" : "    <properties>" + properties.joined() + "</properties>\n"
    }

    /// Prometheus text exposition (for node_exporter's textfile collector).
    public var prometheus: String {
        let label = PrometheusText.label
        var text = PrometheusText()
        func metric(_ name: String, _ help: String, _ samples: [(String, Double)]) { text.metric(name, help, samples) }
        let finished = ISO8601DateFormatter().date(from: finishedAt)?.timeIntervalSince1970 ?? 0
        metric("acp_drill_last_run_timestamp_seconds", "When the last restore drill finished.", [("", finished)])
        metric("acp_drill_success", "1 if the last restore drill passed (budget breaches included), else 0.", [("", verdict == .passed ? 1 : 0)])
        metric("acp_drill_verdict", "The last drill's verdict (1 on the current one).",
               [Verdict.passed, .failed, .aborted].map { ("verdict=\"\($0.rawValue)\"", verdict == $0 ? 1 : 0) })
        metric("acp_drill_budget_exceeded", "1 if a stage or the total exceeded its time budget.", [("", budgetExceeded ? 1 : 0)])
        metric("acp_drill_duration_seconds", "Wall time of the last drill, teardown included.", [("", durationSeconds)])
        if let r = recoveryTimeSeconds { metric("acp_drill_recovery_time_seconds", "From start until the checks passed.", [("", r)]) }
        metric("acp_drill_rows_verified", "Rows counted exactly across every restored table.", [("", Double(rowsVerified))])
        metric("acp_drill_stage_duration_seconds", "Duration of each stage.", stages.map { ("stage=\"\(label($0.name))\"", $0.seconds) })
        metric("acp_drill_stage_budget_seconds", "Time budget of each budgeted stage.", stages.compactMap { s in s.budgetSeconds.map { ("stage=\"\(label(s.name))\"", $0) } })
        metric("acp_drill_check_passed", "1 if the check passed (or was skipped), else 0.",
               checks.map { ("check=\"\(label($0.name))\",status=\"\($0.status.rawValue)\"", $0.status.isFailure ? 0 : 1) })
        if let ts = set?.timestamp, let date = SetSelection.date(of: ts) {
            metric("acp_drill_backup_timestamp_seconds", "When the restored backup set was taken.", [("", date.timeIntervalSince1970)])
        }
        if let age = backupAgeSeconds {
            metric("acp_drill_backup_age_seconds", "How old the restored set was when the drill started: the data a restore from it would lose.", [("", age)])
        }
        if let rpo {
            metric("acp_drill_rpo_seconds", "The data loss of this recovery: from the newest point restored (the set, or the last replayed receipt) to --until or the drill's start.",
                   [("", rpo.dataLossSeconds)])
            metric("acp_drill_receipts_replayed", "Audit rows recovered beyond the dump from receipts.", [("", Double(rpo.receiptsReplayed))])
        }
        // This run is the newest of its kind: the deploy gate's answer for it (acp-drill gate reads the history).
        metric(DeployGate.metricName, DeployGate.metricHelp, [("kind=\"\((kind ?? .drill).rawValue)\"", verdict == .passed ? 1 : 0)])
        return text.text
    }

    /// How old the restored set was when the drill started (nil without a set).
    public var backupAgeSeconds: Double? {
        guard let ts = set?.timestamp, let taken = SetSelection.date(of: ts) else { return nil }
        let f = ISO8601DateFormatter()
        guard let started = f.date(from: startedAt) else { return nil }
        return max(0, started.timeIntervalSince(taken))
    }

    /// Writes `<path>.tmp-<pid>`, syncs it, renames it over `path`: a reader never sees half a file. A
    /// failure names the file and the system's reason, and leaves no temporary file behind.
    static func atomicWrite(_ data: Data, to path: String) throws {
        func failure(_ what: String) -> DrillError { DrillError(.configuration, "\(what): cannot write: \(String(cString: strerror(errno)))") }
        try makeFolders((path as NSString).deletingLastPathComponent)
        let tmp = "\(path).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure(tmp) }
        do {
            try data.withUnsafeBytes { raw in try LocalWriteError.writeAll(raw, to: fd, file: tmp) }
            guard fsync(fd) == 0 else { throw LocalWriteError(file: tmp, errno: errno) }
        } catch {
            close(fd)
            unlink(tmp)
            throw DrillError(.configuration, "\(error)")
        }
        close(fd)
        if rename(tmp, path) != 0 {
            let error = failure(path)
            unlink(tmp)
            throw error
        }
    }

    /// `mkdir -p`: a failure names the folder that could not be made and the system's reason.
    static func makeFolders(_ folder: String) throws {
        guard !folder.isEmpty else { return }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
            guard isDir.boolValue else { throw DrillError(.configuration, "\(folder): cannot create the folder: \(String(cString: strerror(ENOTDIR)))") }
            return
        }
        try makeFolders((folder as NSString).deletingLastPathComponent)
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw DrillError(.configuration, "\(folder): cannot create the folder: \(String(cString: strerror(errno)))")
        }
    }

    public func writeJUnit(to path: String) throws { try Self.atomicWrite(Data(junit.utf8), to: path) }
    /// Writes any output file the way reports are written: whole or not at all.
    public static func writeFile(_ data: Data, to path: String) throws { try atomicWrite(data, to: path) }
    public func writePrometheus(to path: String) throws { try Self.atomicWrite(Data(prometheus.utf8), to: path) }
}
