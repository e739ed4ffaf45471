import Foundation

/// A least-squares line through (time, value) points, and when it crosses a level: "is the RTO heading for
/// the 15-minute objective, and when does it get there?"
public struct Trend: Sendable, Equatable {
    /// Value change per second of time.
    public var slope: Double
    /// The value at time 0 (1970).
    public var intercept: Double

    /// The fewest points, and the shortest span of time, that make a trend worth drawing: two drills an
    /// hour apart say nothing about next month.
    public static let minimumPoints = 3
    public static let minimumSpanSeconds = 7.0 * 86400

    /// The line through `points` when they are at least `minimumPoints` spread over `minimumSpan`
    /// seconds (the defaults above; 2 and any span for the bare arithmetic), else nil.
    public init?(_ points: [(time: Double, value: Double)], minimumPoints: Int = 2, minimumSpan: Double = 0) {
        guard points.count >= max(2, minimumPoints) else { return nil }
        let times = points.map(\.time)
        guard let lo = times.min(), let hi = times.max(), hi - lo >= minimumSpan else { return nil }
        let n = Double(points.count)
        let mt = points.reduce(0) { $0 + $1.time } / n
        let mv = points.reduce(0) { $0 + $1.value } / n
        let sxx = points.reduce(0) { $0 + ($1.time - mt) * ($1.time - mt) }
        guard sxx > 0 else { return nil }
        let sxy = points.reduce(0) { $0 + ($1.time - mt) * ($1.value - mv) }
        slope = sxy / sxx
        intercept = mv - slope * mt
    }

    public func value(at time: Double) -> Double { intercept + slope * time }

    /// Where the line meets `level` after `now`: `.never` when it is flat or falling below the level,
    /// `.already` when it is at or above it now.
    public enum Crossing: Sendable, Equatable {
        case never
        case already
        case at(Double)
    }

    public func crossing(_ level: Double, after now: Double) -> Crossing {
        if value(at: now) >= level { return .already }
        guard slope > 0 else { return .never }
        return .at((level - intercept) / slope)
    }
}
