import Foundation
import Testing
@testable import Drill

/// Cron and CI read the last line: the verdict is one line whatever the failure's text holds.
@Suite struct VerdictLineTests {
    @Test("failure texts fold onto one line", arguments: [
        ("restore.acp_audit: pg_restore: error: a worker process died unexpectedly\npg_restore: warning: errors ignored on restore: 1\n",
         "restore.acp_audit: pg_restore: error: a worker process died unexpectedly / pg_restore: warning: errors ignored on restore: 1"),
        ("decrypt.acp_audit: age: error: no identity matched any of the recipients\r\nage: report unexpected or unhelpful errors at https://filippo.io/age/report",
         "decrypt.acp_audit: age: error: no identity matched any of the recipients / age: report unexpected or unhelpful errors at https://filippo.io/age/report"),
        ("one line", "one line"),
        ("  \n\n  padded  \n", "padded"),
    ] as [(String, String)])
    func folds(text: String, line: String) {
        #expect(DrillReport.oneLine(text) == line)
    }

    @Test("a long failure is cut with an ellipsis, never past the limit")
    func cut() {
        let line = DrillReport.oneLine(String(repeating: "x", count: 5000))
        #expect(line.count == DrillReport.lineLimit && line.hasSuffix("…"))
        #expect(DrillReport.oneLine(String(repeating: "y", count: DrillReport.lineLimit)).count == DrillReport.lineLimit)
    }
}
