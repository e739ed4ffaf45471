/// The one duration grammar of every flag, variable and stack-file key that takes a duration
/// (`--ttl`, `--keep-ttl`, `--random-within`, `--budget`, a healthcheck's `interval`, …).
///
/// A duration is one or more `<number><unit>` groups, e.g. `90s`, `1.5h`, `1h30m`, `500ms`, `7d`, or a bare
/// number of seconds (`45`, `2.5`). Numbers are decimal (digits, an optional fraction); units are `us`,
/// `ms`, `s`, `m`, `h`, `d` and `w`, in either case; white space around the text is ignored. Nothing
/// negative, no exponent, no `inf`/`nan`.
public enum DurationText {
    public static let units: [(unit: String, seconds: Double)] = [
        ("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800),
    ]

    /// Examples for error messages.
    public static let examples = "e.g. 90s, 30m, 1.5h, 1h30m, 7d, 500ms"

    /// The duration `text` names, or nil when it is not one.
    public static func parse(_ text: String) -> Duration? {
        seconds(text).map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
    }

    /// The seconds `text` names, or nil when it is not a duration.
    public static func seconds(_ text: String) -> Double? {
        let t = Array(text.trimmingWhitespace().lowercased().utf8)
        guard !t.isEmpty else { return nil }
        var i = 0
        var total = 0.0
        var groups = 0
        while i < t.count {
            let numberStart = i
            while i < t.count, t[i] >= UInt8(ascii: "0"), t[i] <= UInt8(ascii: "9") { i += 1 }
            let whole = i - numberStart
            var fraction = 0
            if i < t.count, t[i] == UInt8(ascii: ".") {
                i += 1
                let f = i
                while i < t.count, t[i] >= UInt8(ascii: "0"), t[i] <= UInt8(ascii: "9") { i += 1 }
                fraction = i - f
            }
            guard whole + fraction > 0, let value = Double(String(decoding: t[numberStart ..< i], as: UTF8.self)) else { return nil }
            let unitStart = i
            while i < t.count, t[i] >= UInt8(ascii: "a"), t[i] <= UInt8(ascii: "z") { i += 1 }
            let unit = String(decoding: t[unitStart ..< i], as: UTF8.self)
            if unit.isEmpty {
                // A bare number is seconds, and only as the whole text.
                guard groups == 0, i == t.count else { return nil }
                return value
            }
            guard let factor = units.first(where: { $0.unit == unit })?.seconds else { return nil }
            total += value * factor
            groups += 1
        }
        return total.isFinite ? total : nil
    }

    /// `seconds` for a duration that must be longer than zero (a TTL, a budget, a window).
    public static func positiveSeconds(_ text: String) -> Double? {
        seconds(text).flatMap { $0 > 0 ? $0 : nil }
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}
