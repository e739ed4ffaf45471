import ArgumentParser
import Common
import Drill
import Foundation
import ReportPages
import Sandbox

/// `acp-drill bench report`: the history page over a large reports folder, read from disk and rendered.
struct BenchReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Measure the history page over --count reports (read from disk, decoded, rendered) against the 2 s goal.",
        discussion: prose("""
            Writes --count copies of one real report (--from, default the newest in demo-output/ or
            reports/restore_drill), one a day with a growing recovery time and every seventh failed, into a
            private temporary folder, then times what acp-drill report --history does: read and decode every
            file, and render the page. Also the single-drill page of the same report, as the baseline of one.
            """)
    )

    @Option(help: "How many reports.") var count = 1000
    @Option(help: ArgumentHelp("The report to copy.", valueName: "report.json")) var from: String?

    func run() throws {
        let candidates = [from].compactMap { $0 } + ["demo-output/reports/restore_drill", "reports/restore_drill"].compactMap { dir in
            (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix(".json") }.sorted().last.map { "\(dir)/\($0)" }
        }
        guard let path = candidates.first, let data = FileManager.default.contents(atPath: path),
              let template = try? JSONDecoder().decode(DrillReport.self, from: data) else {
            throw ValidationError("no report to copy: give --from REPORT.json, or run scripts/demo.sh first")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-drill-bench-report-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let iso = ISO8601DateFormatter()
        let now = Date()
        var bytes = 0
        for i in 0 ..< count {
            var r = template
            let started = now.addingTimeInterval(-Double(count - i) * 86400)
            r.id = SandboxProject.timestamp(started)
            r.startedAt = iso.string(from: started)
            r.finishedAt = iso.string(from: started.addingTimeInterval(r.durationSeconds))
            if i % 7 == 3 {
                r.verdict = .failed
                r.recoveryTimeSeconds = nil
                r.firstFailure = "restore.acp_billing: a failure, for the benchmark"
            } else if let rto = template.recoveryTimeSeconds {
                r.recoveryTimeSeconds = rto + Double(i) * 0.1
            }
            let encoded = try r.encoded()
            bytes += encoded.count
            try encoded.write(to: URL(fileURLWithPath: "\(dir)/\(r.id).json"))
        }
        let t0 = ContinuousClock.now
        let entries = try DeployGate.entries(in: dir)
        let t1 = ContinuousClock.now
        let page = try HistoryPage.render(entries.compactMap(\.report), folder: dir)
        let t2 = ContinuousClock.now
        let single = try DrillPage.render(template)
        let t3 = ContinuousClock.now
        let read = (t1 - t0).inSeconds, render = (t2 - t1).inSeconds, total = (t2 - t0).inSeconds
        print("history of \(count) reports (\(String(format: "%.1f", Double(bytes) / 1e6)) MB of JSON, copies of \(path)):")
        print(String(format: "  read + decode  %.2f s", read))
        print(String(format: "  render         %.2f s (%.1f MB of HTML)", render, Double(page.utf8.count) / 1e6))
        print(String(format: "  total          %.2f s = %.2f× the 2 s goal (%@)", total, total / 2, total <= 2 ? "within" : "OVER"))
        print(String(format: "one drill's page: %.3f s (%.0f kB)", (t3 - t2).inSeconds, Double(single.utf8.count) / 1e3))
    }
}
