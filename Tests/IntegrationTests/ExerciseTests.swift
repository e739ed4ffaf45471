import Common
import DockerEngine
import Drill
import Foundation
import Sandbox
import Testing

/// The quarterly DR exercise: job checks against the restored stack, the worked example of the README, and
/// the deploy gate on the reports they leave.
@Suite(.serialized) struct ExerciseTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/exercise").path

    @Test("the worked example passes; jobs that fail, time out, lack their image or reach for production fail, named; the gate reads it all")
    func exercise() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("exercise")
            let restorePassword = "ex-\(UUID().uuidString.prefix(12))"

            // The README's recipe, as written.
            let ok = try await source.drill(repo, name: "exercise", ["-f", "\(Self.examples)/stack.yml", "--checks", "\(Self.examples)/checks.yml",
                                                                 "--html", "\(source.dir)/exercise.html"],
                                            env: ["RESTORE_DB_PASSWORD": restorePassword])
            #expect(ok.code == 0, "\(ok.stdout)\n\(ok.stderr)")
            let report = try #require(ok.report)
            #expect(report.kind == .exercise)
            for name in ["health.api", "user.every tenant has its settings", "job.the app role cannot rewrite audit history", "job.production is out of reach"] {
                #expect(ok.check(name)?.status == .passed, "\(name): \(ok.check(name)?.evidence ?? "missing")")
            }
            #expect(ok.check("job.the app role cannot rewrite audit history")?.evidence.contains("permission denied for table audit_logs") == true)
            #expect(ok.check("job.the app role cannot rewrite audit history")?.evidence.contains("reads 12450") == true, "the role read the restored rows")
            let jobs = try #require(report.jobs)
            #expect(jobs.map(\.name) == ["the app role cannot rewrite audit history", "production is out of reach"])
            #expect(jobs.allSatisfy { $0.imageID?.hasPrefix("sha256:") == true && $0.exitCode == 0 && $0.status == .passed }, "\(jobs)")
            let page = try String(contentsOfFile: "\(source.dir)/exercise.html", encoding: .utf8)
            #expect(page.contains("Restore drill PASSED") && page.contains("Exercise jobs") && page.contains("production is out of reach"))
            #expect(!page.contains(restorePassword))
            let log = try String(contentsOfFile: "\(source.dir)/out-exercise/restore_drill.md", encoding: .utf8)
            #expect(log.contains("| PASS (exercise) |"))
            #expect(!(ok.stdout + ok.stderr).contains(restorePassword), "the sandbox password never appears")
            let reportText = try String(contentsOfFile: "\(source.dir)/out-exercise/reports/\(report.id).json", encoding: .utf8)
            #expect(!reportText.contains(restorePassword), "not in the report either")

            // Every way a job can fail.
            let checks = "\(source.dir)/jobs.yml"
            try """
                checks:
                  - name: passes
                    image: acp-drill/postgres:15
                    command: env | grep -c '^PG' ; env ; psql -Atc 'select 41 + 1'
                    expect_output: "^42$"
                  - name: fails
                    image: acp-drill/postgres:15
                    command: echo about to fail; exit 3
                  - name: hangs
                    image: acp-drill/postgres:15
                    command: echo started; sleep 120
                    timeout: 8s
                  - name: no image
                    image: acp-drill/no-such-image:1
                  - name: reaches for production
                    image: acp-drill/postgres:15
                    command: psql -h acp_postgres -U postgres -c 'select 1'
                    expect_exit: 2
                    expect_output: "could not translate host name \\"acp_postgres\\""
                """.write(toFile: checks, atomically: true, encoding: .utf8)
            let bad = try await source.drill(repo, name: "jobs", ["--checks", checks], env: ["RESTORE_DB_PASSWORD": restorePassword])
            #expect(bad.code == 1)
            #expect(bad.check("job.passes")?.status == .passed, "\(bad.check("job.passes")?.evidence ?? "missing")")
            #expect(bad.check("job.passes")?.evidence.contains("<password>") == true && bad.check("job.passes")?.evidence.contains(restorePassword) == false,
                    "a job that prints its environment does not leak the password into the evidence")
            #expect(bad.check("job.fails")?.status == .failed && bad.check("job.fails")?.evidence.contains("exited 3, expected 0") == true
                    && bad.check("job.fails")?.evidence.contains("about to fail") == true, "\(bad.check("job.fails")?.evidence ?? "missing")")
            #expect(bad.check("job.hangs")?.status == .timedOut && bad.check("job.hangs")?.evidence.contains("started") == true,
                    "\(bad.check("job.hangs")?.evidence ?? "missing")")
            #expect((bad.check("job.hangs")?.seconds ?? 99) < 20, "the timeout stopped it")
            #expect(bad.check("job.no image")?.status == .failed && bad.check("job.no image")?.evidence.contains("is not on this engine") == true
                    && bad.check("job.no image")?.fix?.contains("never pulls") == true, "\(bad.check("job.no image")?.evidence ?? "missing")")
            #expect(bad.check("job.reaches for production")?.status == .passed, "contained: \(bad.check("job.reaches for production")?.evidence ?? "missing")")
            #expect(bad.report?.jobs?.map(\.status) == [.passed, .failed, .timedOut, .failed, .passed])
            #expect(bad.report?.firstFailure?.hasPrefix("job.fails:") == true)

            // The gate on what these runs left.
            let exerciseReports = "\(source.dir)/out-exercise/reports", jobReports = "\(source.dir)/out-jobs/reports"
            var (code, out, _) = try await runCLI(["gate", "--reports", exerciseReports, "--kind", "exercise", "--metrics", "\(source.dir)/gate.prom"])
            #expect(code == 0 && out.contains("deploy gate OPEN") && out.contains("PASSED"), "\(out)")
            #expect(try String(contentsOfFile: "\(source.dir)/gate.prom", encoding: .utf8).contains("acp_drill_gate_open{kind=\"exercise\"} 1"))
            (code, out, _) = try await runCLI(["gate", "--reports", jobReports, "--kind", "exercise"])
            #expect(code == 1 && out.contains("deploy gate CLOSED") && out.contains("FAILED — job.fails:"), "\(out)")
            let empty = "\(source.dir)/no-reports"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            (code, out, _) = try await runCLI(["gate", "--reports", empty])
            #expect(code == 1 && out.contains("no drill report found"), "\(out)")
            // Stale: the same passing report, finished 120 days ago.
            let stale = "\(source.dir)/stale"
            var old = report
            old.finishedAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-120 * 86400))
            try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
            _ = try old.write(toDirectory: stale)
            (code, out, _) = try await runCLI(["gate", "--reports", stale, "--kind", "exercise", "--max-age", "92d"])
            #expect(code == 1 && out.contains("older than 92d"), "\(out)")
            (code, out, _) = try await runCLI(["gate", "--reports", stale, "--max-age", "200d"])
            #expect(code == 0, "\(out)")
            (code, _, _) = try await runCLI(["gate", "--reports", stale, "--max-age", "soon"])
            #expect(code == 2, "a bad duration is a usage error")
        } catch { await source.close(); throw error }
        await source.close()
    }
}
