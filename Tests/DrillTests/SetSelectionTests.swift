import Foundation
import Testing
@testable import Drill

@Suite struct SetSelectionTests {
    struct FixedRNG: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state }
    }

    let sets = ["20261120T020000Z", "20261126T020000Z", "20261010T020000Z", "20261127T020000Z"]
    let now = SetSelection.date(of: "20261127T120000Z")!

    @Test func newestIsTheLatestTimestamp() throws {
        var rng = FixedRNG(state: 1)
        #expect(try SetSelection.newest.pick(from: sets, now: now, using: &rng) == "20261127T020000Z")
    }

    @Test(arguments: [("20261126T020000Z", "20261126T020000Z"), ("20261120", "20261120T020000Z"), ("202610", "20261010T020000Z")])
    func namedSetExactOrByPrefix(asked: String, picked: String) throws {
        var rng = FixedRNG(state: 1)
        #expect(try SetSelection.timestamp(asked).pick(from: sets, now: now, using: &rng) == picked)
    }

    @Test func absentSetNamesTheNewest() {
        var rng = FixedRNG(state: 1)
        #expect(throws: DrillError.self) { try SetSelection.timestamp("20250101").pick(from: sets, now: now, using: &rng) }
        #expect(throws: DrillError.self) { try SetSelection.newest.pick(from: [], now: now, using: &rng) }
    }

    @Test func randomWithinStaysInTheWindowAndReachesEverySetInIt() throws {
        var rng = FixedRNG(state: 42)
        var seen = Set<String>()
        for _ in 0 ..< 200 { seen.insert(try SetSelection.randomWithin(seconds: 30 * 86400).pick(from: sets, now: now, using: &rng)) }
        #expect(seen == ["20261120T020000Z", "20261126T020000Z", "20261127T020000Z"])
    }

    @Test func randomWithinAnEmptyWindowIsARetentionGap() {
        var rng = FixedRNG(state: 1)
        let later = SetSelection.date(of: "20270301T000000Z")!
        #expect(throws: DrillError.self) { try SetSelection.randomWithin(seconds: 30 * 86400).pick(from: sets, now: later, using: &rng) }
    }

    @Test(arguments: ["", "2026112T020000Z", "20261127X020000Z", "20261327T020000Z", "20261127T020000"])
    func malformedTimestampsHaveNoDate(ts: String) { #expect(SetSelection.date(of: ts) == nil) }
}
