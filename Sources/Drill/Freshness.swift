public import Common
public import Foundation

/// `freshness`: the newest complete set is younger than `--max-age` (default 24 h, the runbook's recovery
/// point objective for a restore from the nightly backup), whichever set the drill restores. Set folders
/// newer than it without a manifest (a nightly backup that failed, or is still running) are named, so a
/// silently failing job shows up in the report.
public enum Freshness {
    /// The check, from the set timestamps of one listing.
    public static func judge(complete: [String], all: [String], maxAge: Double, now: Date = Date()) -> CheckResult {
        let fix = "the nightly backup has not completed a set since: check its job (acp-drill backup: its schedule, its log, its exit code) and the repository's retention"
        guard let newest = complete.max(), let taken = SetSelection.date(of: newest) else {
            return .failed("freshness", "no complete set to judge", fix: fix)
        }
        let age = now.timeIntervalSince(taken)
        let newer = all.filter { $0 > newest }.sorted(by: >)
        let incomplete = newer.isEmpty ? "" : "; newer set folder(s) without a manifest (a backup that failed, or is still running): " + newer.joined(separator: ", ")
        let what = "the newest complete set, \(newest), is \(DrillReport.humanDuration(max(0, age))) old (--max-age \(DrillReport.humanDuration(maxAge)))"
        return age <= maxAge ? .passed("freshness", what + incomplete) : .failed("freshness", what + ": older than the recovery point objective" + incomplete, fix: fix)
    }
}
