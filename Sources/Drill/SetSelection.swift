public import Foundation

/// Which backup set a drill restores: the newest complete one, a named one, or one drawn at random from
/// a window (`--random-within 30d`), which catches retention gaps and lost keys that the newest set hides.
public enum SetSelection: Sendable, Equatable, CustomStringConvertible {
    case newest
    /// An exact set timestamp, or a prefix of one (`20260516` picks that day's newest set).
    case timestamp(String)
    case randomWithin(seconds: Double)

    public var description: String {
        switch self {
        case .newest: "the newest complete set"
        case .timestamp(let ts): "set \(ts)"
        case .randomWithin(let s): "a random complete set from the last \(Int(s / 86400)) day(s)"
        }
    }

    /// Picks among `sets` (timestamps of complete sets, any order).
    public func pick(from sets: [String], now: Date = Date(), using rng: inout some RandomNumberGenerator) throws(DrillError) -> String {
        let sorted = sets.sorted(by: >)
        guard let newest = sorted.first else {
            throw DrillError(.noBackupSet, "no complete backup set (a set is complete once its manifest.json is written)")
        }
        switch self {
        case .newest:
            return newest
        case .timestamp(let ts):
            if sorted.contains(ts) { return ts }
            if let match = sorted.first(where: { $0.hasPrefix(ts) }) { return match }
            throw DrillError(.noBackupSet, "no complete backup set \(ts) (newest: \(newest); \(sorted.count) complete set(s))")
        case .randomWithin(let seconds):
            let cutoff = now.addingTimeInterval(-seconds)
            let window = sorted.filter { Self.date(of: $0).map { $0 >= cutoff } ?? false }
            guard let pick = window.randomElement(using: &rng) else {
                throw DrillError(.noBackupSet, "no complete backup set in the last \(Int(seconds / 86400)) day(s) (newest: \(newest)): a retention gap")
            }
            return pick
        }
    }

    /// The time of a set named `yyyyMMddTHHmmssZ`.
    public static func date(of timestamp: String) -> Date? {
        let b = Array(timestamp.utf8)
        guard b.count == 16, b[8] == 84, b[15] == 90 else { return nil }
        func num(_ r: Range<Int>) -> Int? { Int(String(decoding: b[r], as: UTF8.self)) }
        guard let y = num(0 ..< 4), let mo = num(4 ..< 6), let d = num(6 ..< 8), let h = num(9 ..< 11), let mi = num(11 ..< 13), let s = num(13 ..< 15),
              (1 ... 12).contains(mo), (1 ... 31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var c = DateComponents()
        c.year = y; c.month = mo; c.day = d; c.hour = h; c.minute = mi; c.second = s
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal.date(from: c)
    }
}
