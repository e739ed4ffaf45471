import Common
import Foundation
import Testing
@testable import Drill

/// The newest complete set against --max-age, and the newer folders that never got a manifest.
@Suite struct FreshnessTests {
    static let now = SetSelection.date(of: "20261202T120000Z")!

    @Test("judged on the newest complete set, whichever is drilled", arguments: [
        (["20261202T020000Z", "20261101T020000Z"], ["20261202T020000Z", "20261101T020000Z"], 86400.0, CheckResult.Status.passed, "is 10h 0m old"),
        (["20261130T020000Z"], ["20261130T020000Z"], 86400.0, .failed, "is 2d old (--max-age 24h 0m): older than the recovery point objective"),
        (["20261201T020000Z"], ["20261202T020000Z", "20261201T020000Z"], 86400.0, .failed, "without a manifest (a backup that failed, or is still running): 20261202T020000Z"),
        (["20261202T020000Z"], ["20261202T110000Z", "20261202T020000Z", "20261201T000000Z"], 86400.0, .passed, "without a manifest (a backup that failed, or is still running): 20261202T110000Z"),
        (["20261202T115930Z"], ["20261202T115930Z"], 10.0, .failed, "is 30s old (--max-age 10s)"),
    ] as [([String], [String], Double, CheckResult.Status, String)])
    func judged(complete: [String], all: [String], maxAge: Double, status: CheckResult.Status, says: String) {
        let r = Freshness.judge(complete: complete, all: all, maxAge: maxAge, now: Self.now)
        #expect(r.name == "freshness" && r.status == status && r.evidence.contains(says), "\(r.evidence)")
        #expect((r.fix != nil) == (status == .failed))
    }

    @Test("an older incomplete folder is not named: only newer ones mean a missed backup")
    func olderIncomplete() {
        let r = Freshness.judge(complete: ["20261202T020000Z"], all: ["20261202T020000Z", "20261130T020000Z"], maxAge: 86400, now: Self.now)
        #expect(r.status == .passed && !r.evidence.contains("without a manifest"))
    }
}
