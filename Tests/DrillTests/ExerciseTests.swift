import Common
import Foundation
import Sandbox
import Testing
@testable import Drill

@Suite struct ChecksFileTests {
    @Test func sqlChecksAndJobsShareOneFile() throws {
        let file = try ChecksFile.parse(yaml: """
            checks:
              - name: tenants
                database: acp_tenants
                query: SELECT count(*) FROM tenants
                expect_min: 1
              - name: scenario
                image: acp-drill/postgres:15
                command: psql -c 'select 1'
                environment: {B: "2", A: 1}
                timeout: 1m30s
                expect_exit: 3
                expect_output: "^ok$"
              - name: defaults
                image: acp-drill/postgres:15
                command: [echo, "hi there"]
            """)
        #expect(file.sql.map(\.name) == ["tenants"])
        #expect(file.jobs.count == 2)
        let s = file.jobs[0]
        #expect(s.command == ["sh", "-c", "psql -c 'select 1'"] && s.environment == ["A=1", "B=2"])
        #expect(s.timeoutSeconds == 90 && s.expectExit == 3 && s.expectOutput == "^ok$")
        let d = file.jobs[1]
        #expect(d.command == ["echo", "hi there"] && d.timeoutSeconds == 300 && d.expectExit == 0 && d.expectOutput == nil)
        #expect(try UserCheck.parse(yaml: "checks: [{name: a, image: x}]").isEmpty, "UserCheck.parse reads the SQL checks only")
    }

    @Test(arguments: [
        ("checks: [{name: a, image: x, query: q}]", "not both"),
        ("checks: [{name: a, image: ''}]", "`image`"),
        ("checks: [{name: a, image: x, command: 5}]", "`command`"),
        ("checks: [{name: a, image: x, timeout: 0s}]", "`timeout`"),
        ("checks: [{name: a, image: x, expect_exit: 300}]", "`expect_exit`"),
        ("checks: [{name: a, image: x, expect_output: '('}]", "not a regular expression"),
        ("checks: [{name: a, image: x, database: d}]", "unknown key `database`"),
        ("checks: [{name: a, image: x, environment: [NOEQUALS]}]", "NAME=VALUE"),
        ("checks: [{name: a, image: x}, {name: a, database: d, query: q, expect: 1}]", "already exists"),
    ])
    func badJobsAreNamed(yaml: String, message: String) {
        do {
            _ = try ChecksFile.parse(yaml: yaml, file: "x.yml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.contains(message) && error.message.contains("x.yml"), "\(error.message)")
        }
    }

    @Test(arguments: [
        (0, "ok\n", 0, nil as String?, true),
        (1, "ok\n", 0, nil, false),
        (3, "", 3, nil, true),
        (0, "line\ncontained\n", 0, "^contained$", true),
        (0, "not contained here\n", 0, "^contained$", false),
        (2, "ERROR:  permission denied for table audit_logs\n", 0, "permission denied", false),
    ])
    func judging(exit: Int, output: String, expectExit: Int, pattern: String?, passed: Bool) {
        let job = JobSpec(name: "j", image: "i", command: [], expectExit: expectExit, expectOutput: pattern)
        let (ok, evidence) = job.judge(exitCode: exit, output: output)
        #expect(ok == passed, "\(evidence)")
        if !ok && exit != expectExit { #expect(evidence.contains("exited \(exit), expected \(expectExit)")) }
    }

    @Test func evidenceKeepsTheTail() {
        let long = String(repeating: "x", count: 2000) + "END"
        #expect(JobSpec.tail(long).hasSuffix("END") && JobSpec.tail(long).count == 601)
    }
}

@Suite struct DeployGateTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    static func report(_ daysAgo: Double, _ verdict: DrillReport.Verdict, kind: DrillReport.RunKind? = .drill, overBudget: Bool = false) -> DrillReport {
        let finished = now.addingTimeInterval(-daysAgo * 86400)
        let iso = ISO8601DateFormatter().string(from: finished)
        return DrillReport(
            id: SandboxProject.timestamp(finished), verdict: verdict, budgetExceeded: overBudget,
            firstFailure: verdict == .passed ? nil : "restore.acp_audit: boom", rowsVerified: 1, chainRowsVerified: nil,
            recoveryTimeSeconds: nil, durationSeconds: 1, startedAt: iso, finishedAt: iso, operator: "o", host: "h", set: nil,
            budgets: DrillBudgets(), stages: [], checks: [], databases: [], versions: .init(tool: "t", pgRestore: "p"), sandbox: nil, kind: kind)
    }

    static func entries(_ reports: [DrillReport]) -> [DeployGate.Entry] {
        reports.sorted { $0.id > $1.id }.map { DeployGate.Entry(file: "\($0.id).json", report: $0, problem: nil) }
    }

    @Test(arguments: [
        // (reports as (days ago, verdict, kind), gate kind, max age days, open, reason contains)
        ([(1.0, "PASSED", "drill")], "drill", 92.0, true, "PASSED"),
        ([(1.0, "FAILED", "drill"), (5, "PASSED", "drill")], "drill", 92, false, "FAILED — restore.acp_audit: boom"),
        ([(100.0, "PASSED", "drill")], "drill", 92, false, "older than 92d"),
        ([(1.0, "ABORTED", "drill")], "drill", 92, false, "ABORTED"),
        ([(1.0, "PASSED", "drill"), (10, "FAILED", "exercise")], "exercise", 92, false, "the newest exercise"),
        ([(1.0, "FAILED", "drill"), (10, "PASSED", "exercise")], "exercise", 92, true, "PASSED"),
        ([(1.0, "PASSED", "exercise")], "drill", 92, true, "the newest drill"),
        ([(1.0, "PASSED", "old")], "drill", 92, true, "PASSED"),
        ([(1.0, "PASSED", "old")], "exercise", 92, false, "no exercise report found"),
        ([], "drill", 92, false, "no drill report found"),
    ])
    func decisions(runs: [(Double, String, String)], kind: String, maxAgeDays: Double, open: Bool, reason: String) {
        let reports = runs.map { r in
            Self.report(r.0, DrillReport.Verdict(rawValue: r.1)!, kind: r.2 == "old" ? nil : DrillReport.RunKind(rawValue: r.2))
        }
        let gate = DeployGate(kind: DeployGate.Kind(rawValue: kind)!, maxAgeSeconds: maxAgeDays * 86400)
        let d = gate.decide(Self.entries(reports), now: Self.now)
        #expect(d.open == open && d.reason.contains(reason), "\(d.reason)")
        #expect(gate.prometheus(d).contains("acp_drill_gate_open{kind=\"\(kind)\"} \(open ? 1 : 0)"))
    }

    @Test func anUnreadableNewerReportClosesTheGate() {
        var entries = Self.entries([Self.report(3, .passed)])
        entries.insert(DeployGate.Entry(file: "99999999T000000Z.json", report: nil, problem: "not a drill report"), at: 0)
        let d = DeployGate().decide(entries, now: Self.now)
        #expect(!d.open && d.reason.contains("99999999T000000Z.json") && d.reason.contains("unreadable"))
    }

    @Test func aPassOverBudgetOpensTheGateAndSaysSo() {
        let d = DeployGate().decide(Self.entries([Self.report(0.5, .passed, overBudget: true)]), now: Self.now)
        #expect(d.open && d.reason.contains("over a time budget"))
    }

    @Test func theDrillsOwnTextfileCarriesTheGate() {
        var r = Self.report(0, .passed, kind: .exercise)
        #expect(r.prometheus.contains("acp_drill_gate_open{kind=\"exercise\"} 1"))
        r.verdict = .failed
        #expect(r.prometheus.contains("acp_drill_gate_open{kind=\"exercise\"} 0"))
        #expect(r.runbookRow.hasSuffix("| FAIL (exercise) |"))
    }
}
