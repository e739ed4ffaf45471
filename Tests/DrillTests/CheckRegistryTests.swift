import Common
@testable import Drill
import Foundation
import Testing

/// The check registry is the one list of check names: the schema doc, `--help` and JUnit read it.
@Suite struct CheckRegistryTests {
    @Test func namesAreUniqueAndEachKindHasChecks() {
        let names = CheckRegistry.all.map(\.name)
        #expect(Set(names).count == names.count)
        for kind in CheckResult.Kind.allCases { #expect(CheckRegistry.all.contains { $0.kind == kind }, "\(kind)") }
        #expect(CheckRegistry.afterRestore.first?.descriptor.name == "row_counts.<db>", "row counts are reported first")
    }

    @Test func theSchemaDocHoldsTheRegistrysTable() throws {
        let doc = try String(contentsOfFile: repositoryFile("docs/report-schema.md"), encoding: .utf8)
        let begin = try #require(doc.range(of: "<!-- checks:begin -->\n"))
        let end = try #require(doc.range(of: "\n<!-- checks:end -->"))
        #expect(String(doc[begin.upperBound ..< end.lowerBound]) == CheckRegistry.markdownTable,
                "regenerate it: acp-drill checks --markdown")
    }

    @Test(arguments: [
        ("row_counts.acp_audit", "row_counts.<db>"), ("restore.Legacy-Shop", "restore.<db>"), ("restore", "restore"),
        ("checksum.transparency_roots", "checksum.<object>"), ("isolation.dns", "isolation.dns"), ("health.redis", "health.<service>"),
        ("user.eight tools", "user.<name>"), ("verify_chain", "verify_chain"), ("pick", "<stage>"), ("provision", "<stage>"),
    ])
    func reportedNamesBelongToTheirDescriptor(name: String, descriptor: String) {
        #expect(CheckRegistry.descriptor(for: name)?.name == descriptor)
    }

    @Test func aFamilyNeedsItsItem() {
        let family = CheckRegistry.all.first { $0.name == "row_counts.<db>" }!
        #expect(family.matches("row_counts.x") && !family.matches("row_counts.") && !family.matches("row_counts"))
    }

    @Test func platformChecksDeclareTheirTables() {
        for name in ["smoke.audit_logs", "verify_chain", "reconcile"] {
            let d = CheckRegistry.all.first { $0.name == name }!
            #expect(d.kind == .platform && d.needs.contains { if case .table = $0 { true } else { false } }, "\(name)")
        }
    }
}

/// A file of this repository, found from this source file's path.
func repositoryFile(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

@Suite struct CheckResultTests {
    @Test func aFixIsKeptOnlyOnFailures() {
        #expect(CheckResult(name: "a", status: .passed, evidence: "e", fix: "f").fix == nil)
        #expect(CheckResult(name: "a", status: .skipped, evidence: "e", fix: "f").fix == nil)
        #expect(CheckResult(name: "a", status: .failed, evidence: "e", fix: "f").fix == "f")
        #expect(CheckResult(name: "a", status: .timedOut, evidence: "e", fix: "f").fix == "f")
    }

    @Test func encodesAsReportsAlwaysHaveAndReadsTheOlderIsolationShape() throws {
        let c = CheckResult(name: "user.x", kind: .user, status: .timedOut, evidence: "slow", fix: "look", seconds: 2)
        let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        #expect(json.contains("\"status\":\"timed_out\"") && json.contains("\"kind\":\"user\""))
        #expect(try JSONDecoder().decode(CheckResult.self, from: Data(json.utf8)) == c)
        // `up --json` before the shapes were one: name, status, evidence only.
        let old = try JSONDecoder().decode(CheckResult.self, from: Data(#"{"name":"isolation.dns","status":"passed","evidence":"e"}"#.utf8))
        #expect(old.kind == .core && old.seconds == 0 && old.status == .passed)
    }

    @Test func junitCarriesWhatEachCheckProves() {
        let report = DrillReport(
            id: "20261127T000000Z", verdict: .passed, budgetExceeded: false, firstFailure: nil, rowsVerified: 1, chainRowsVerified: nil,
            recoveryTimeSeconds: 1, durationSeconds: 2, startedAt: "2026-11-27T00:00:00Z", finishedAt: "2026-11-27T00:00:02Z", operator: "o", host: "h",
            set: nil, budgets: DrillBudgets(), stages: [],
            checks: [CheckResult.passed("row_counts.app", "1 table(s)"), CheckResult.passed("pick", "x")], databases: [],
            versions: .init(tool: ToolVersion.current, pgRestore: "x"), sandbox: nil)
        #expect(report.junit.contains("<system-out>row_counts.&lt;db&gt;: every table of the database answers an exact count(*)"))
        #expect(report.junit.contains("<system-out>&lt;stage&gt;: a stage that failed outright"))
    }
}
