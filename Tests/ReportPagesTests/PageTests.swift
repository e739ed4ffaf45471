import Common
import Foundation
import Testing
@testable import Drill
@testable import ReportPages

@Suite struct PageRenderingTests {
    @Test func evidenceIsEscapedEverywhere() throws {
        let html = try DrillPage.render(PageFixtures.report(.failed))
        #expect(!html.contains("<script"), "no script reaches the page, not even from evidence")
        #expect(html.contains("&quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; &amp; &quot;quoted&quot;"))
        #expect(html.contains("fix: keep the sandbox (--keep) &amp; rerun it"))
        #expect(!html.contains("http://") || !html.contains("src="), "no external asset")
        #expect(!html.contains("<link") && !html.contains("@import"))
    }

    @Test func aFailedDrillNamesItsCheckAndTheTimelineHasEveryStage() throws {
        let r = PageFixtures.report(.failed)
        let html = try DrillPage.render(r)
        #expect(html.contains("Restore drill FAILED"))
        #expect(html.contains("class=\"check failed\""))
        let bars = html.components(separatedBy: "<rect class=\"bar ").count - 1
        #expect(bars == r.stages.filter { $0.name != "total" }.count)
        #expect(html.contains("data-stage=\"restore.Legacy-Shop\""))
    }

    @Test(arguments: [(1.0, 0.5, 0.0, 3.0, "[2]"), (0.5, 4.0, 0.0, 1.0, "[0]")])
    func trends(slope: Double, intercept: Double, now: Double, level: Double, expected: String) throws {
        let points = (0 ..< 5).map { (time: Double($0), value: intercept + slope * Double($0)) }
        let t = try #require(Trend(points))
        #expect(abs(t.slope - slope) < 1e-9 && abs(t.intercept - intercept) < 1e-9)
        switch t.crossing(level, after: now) {
        case .at(let when): #expect("[\(Int(when.rounded()))]" == expected || expected == "[2]" && abs(when - 2.5) < 1e-9)
        case .already: #expect(expected == "[0]" && intercept >= level)
        case .never: Issue.record("rising trend never crosses")
        }
        #expect(Trend([(time: 1, value: 2)]) == nil && Trend([(time: 1, value: 2), (time: 1, value: 3)]) == nil)
        #expect(Trend([(time: 0, value: 5), (time: 1, value: 4)])?.crossing(10, after: 0) == .never)
    }

    @Test func historyOf1000DrillsRendersQuickly() throws {
        let reports = PageFixtures.history(1000)
        let t0 = ContinuousClock.now
        let html = try HistoryPage.render(reports, folder: "reports/restore_drill", now: Date(timeIntervalSince1970: 1_796_000_000))
        let seconds = (ContinuousClock.now - t0).inSeconds
        print("history of 1000 drills rendered in \(String(format: "%.2f", seconds)) s (debug build; figure, not a limit)")
        #expect(html.contains("1000 drill(s)"))
        #expect(html.components(separatedBy: "<tr class=\"check ").count - 1 == 1000)
    }
}

let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
let browserRequired = ProcessInfo.processInfo.environment["ACP_DRILL_REQUIRE_DOCKER"] == "1"
/// Chromium loads both cores: scripts/test.sh runs these apart, after the main suite (ACP_DRILL_APART=1).
let browserRuns = ProcessInfo.processInfo.environment["ACP_DRILL_APART"] == "1" || !browserRequired

/// The pages in a real browser: headless Chromium from Debian, driven over the DevTools protocol.
@Suite(.enabled(if: browserRuns && (chromium != nil || browserRequired), "needs chromium (scripts/setup.sh --browser), run apart by scripts/test.sh"), .serialized)
struct PagesInABrowserTests {
    struct Seen: Decodable {
        var errors: [String]
        var text: String
        var counts: [String: Int]
        var visible: [String: Int]
        var scripts: Int
        var title: String
    }

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func look(_ html: String, count: [String: String] = [:], visible: [String: String] = [:]) async throws -> Seen {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-drill-page-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("page.html")
        try html.write(to: page, atomically: true, encoding: .utf8)
        var args = [Self.repo.appendingPathComponent("scripts/browser_check.py").path, page.path]
        for (k, v) in count { args += ["--count", "\(k)=\(v)"] }
        for (k, v) in visible { args += ["--visible", "\(k)=\(v)"] }
        let arguments = args
        let out = try await BlockingExecutor.run("chromium") { () throws -> Data in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + arguments
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.standardError
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return data
        }
        return try JSONDecoder().decode(Seen.self, from: out)
    }

    @Test(arguments: [DrillReport.Verdict.passed, .failed, .aborted])
    func aDrillPage(verdict: DrillReport.Verdict) async throws {
        let r = PageFixtures.report(verdict)
        let seen = try await look(try DrillPage.render(r),
                                  count: ["bars": "#timeline rect.bar", "dbBars": "#timeline rect.bar.db"],
                                  visible: ["verdict": "#verdict", "failed": "tr.check.failed", "checks": "tr.check"])
        #expect(seen.errors.isEmpty, "console errors: \(seen.errors)")
        #expect(seen.visible["verdict"] == 1 && seen.text.contains("Restore drill \(verdict.rawValue)"))
        #expect(seen.counts["bars"] == r.stages.filter { $0.name != "total" }.count, "one bar per stage and per database")
        #expect(seen.counts["dbBars"] == r.databases.count)
        #expect(seen.visible["checks"] == r.checks.count)
        #expect(seen.scripts == 0)
        switch verdict {
        case .failed:
            #expect(seen.visible["failed"] == 1 && seen.text.contains("restore.acp_tenants"))
            #expect(seen.text.contains("\"<script>alert('x')</script>\" & \"quoted\""), "the evidence's markup is shown as text")
        case .aborted: #expect(seen.visible["failed"] == 1 && seen.text.contains("interrupted"))
        case .passed: #expect(seen.visible["failed"] == 0 && seen.text.contains("<script>alert('x')</script>"))
        }
    }

    @Test func aHistoryOf200Drills() async throws {
        let reports = PageFixtures.history(200)
        let seen = try await look(try HistoryPage.render(reports, folder: "reports/restore_drill", now: Date(timeIntervalSince1970: 1_796_000_000)),
                                  count: ["rto": "#rto-chart circle.rto", "totals": "#rto-chart circle.total", "objective": "#rto-chart line.objective",
                                          "trend": "#rto-chart line.trend"],
                                  visible: ["drills": "#drills tbody tr", "databases": "#databases tbody tr", "chart": "#rto-chart"])
        #expect(seen.errors.isEmpty, "console errors: \(seen.errors)")
        #expect(seen.counts["totals"] == 200 && seen.counts["rto"] == reports.filter { $0.verdict == .passed }.count)
        #expect(seen.counts["objective"] == 1 && seen.counts["trend"] == 1 && seen.visible["chart"] == 1)
        #expect(seen.visible["drills"] == 200 && seen.visible["databases"] == 3)
        #expect(seen.text.contains("crosses the 15m objective around"), "the RTO creeps up 2 s a day: \(seen.text.prefix(400))")
        #expect(seen.scripts == 0)
    }
}

@Suite struct AxisTests {
    @Test(arguments: [(0.07, 0.1), (0.3, 0.5), (1.2, 2.0), (7.0, 10.0), (12.0, 15.0), (40.0, 60.0), (170.0, 300.0), (181.5, 300.0), (1000.0, 1800.0), (100_000.0, 172_800.0)])
    func timeSteps(raw: Double, step: Double) {
        #expect(abs(Timeline.niceTimeStep(raw) - step) < 1e-9)
    }

    @Test func aTrendNeedsThreePointsOverAWeek() {
        let close = [(time: 0.0, value: 1.0), (time: 600, value: 2), (time: 1200, value: 3)]
        #expect(Trend(close, minimumPoints: Trend.minimumPoints, minimumSpan: Trend.minimumSpanSeconds) == nil)
        let spread = close.map { (time: $0.time * 1000, value: $0.value) }
        #expect(Trend(spread, minimumPoints: Trend.minimumPoints, minimumSpan: Trend.minimumSpanSeconds) != nil)
        #expect(Trend(Array(spread.prefix(2)), minimumPoints: Trend.minimumPoints, minimumSpan: 0) == nil)
    }
}
