/// One row of `acp_audit.audit_logs`, as the chain hashes it (docs/DESIGN.md §8).
public struct AuditRow: Sendable, Equatable {
    public var id: Int64
    /// Lower-case hyphenated UUID text.
    public var tenantID: String
    /// Microseconds since 1970-01-01T00:00:00Z (PostgreSQL `timestamptz` precision).
    public var occurredAt: Int64
    public var actor: String
    public var action: String
    public var resource: String
    /// PostgreSQL's own `jsonb` text output of the payload.
    public var payload: String
    public var prevHash: [UInt8]
    public var rowHash: [UInt8]

    public init(id: Int64, tenantID: String, occurredAt: Int64, actor: String, action: String, resource: String,
                payload: String, prevHash: [UInt8], rowHash: [UInt8]) {
        self.id = id
        self.tenantID = tenantID
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.resource = resource
        self.payload = payload
        self.prevHash = prevHash
        self.rowHash = rowHash
    }

    /// The UTC day of `occurredAt`, as `YYYY-MM-DD`.
    public var day: String { UTCTime.day(micros: occurredAt) }
}

/// UTC calendar arithmetic without Foundation formatters (the verifier formats every row's time).
public enum UTCTime {
    /// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's civil_from_days).
    static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// (year, month, day) → days since 1970-01-01.
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the chain's canonical time text.
    public static func canonical(micros: Int64) -> String {
        String(unsafeUninitializedCapacity: 27) { buffer in
            canonical(micros: micros, into: buffer.baseAddress!)
            return 27
        }
    }

    /// Writes the 27 bytes of the canonical time text to `out` (the verifier's per-row path: no allocation).
    public static func canonical(micros: Int64, into out: UnsafeMutablePointer<UInt8>) {
        let days = floorDiv(micros, 86_400_000_000)
        let rest = micros - days * 86_400_000_000
        let (y, m, d) = civil(days)
        let secs = rest / 1_000_000
        let frac = rest % 1_000_000
        var i = 0
        func put(_ v: Int64, _ width: Int) {
            var v = v
            for k in stride(from: width - 1, through: 0, by: -1) { out[i + k] = UInt8(48 + v % 10); v /= 10 }
            i += width
        }
        func sep(_ c: UInt8) { out[i] = c; i += 1 }
        put(y, 4); sep(45); put(m, 2); sep(45); put(d, 2); sep(84)
        put(secs / 3600, 2); sep(58); put(secs / 60 % 60, 2); sep(58); put(secs % 60, 2)
        sep(46); put(frac, 6); sep(90)
    }

    /// The UTC day number (days since 1970-01-01) of a time.
    public static func dayNumber(micros: Int64) -> Int64 { floorDiv(micros, 86_400_000_000) }

    /// `YYYY-MM-DD` of a time.
    public static func day(micros: Int64) -> String { String(canonical(micros: micros).prefix(10)) }

    /// Parses PostgreSQL's `timestamptz` output in UTC (`2026-05-16 10:00:00.123456+00`, fraction optional)
    /// or the canonical form.
    public static func parse(_ text: String) -> Int64? { parse(bytes: Array(text.utf8)) }

    /// `parse` over raw bytes (a COPY field), without building a String.
    public static func parse(bytes b: [UInt8]) -> Int64? {
        guard b.count >= 19 else { return nil }
        func num(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r { guard b[i] >= 48 && b[i] <= 57 else { return nil }; v = v * 10 + Int64(b[i] - 48) }
            return v
        }
        guard let y = num(0 ..< 4), let mo = num(5 ..< 7), let d = num(8 ..< 10), let h = num(11 ..< 13),
            let mi = num(14 ..< 16), let s = num(17 ..< 19)
        else { return nil }
        var i = 19
        var frac: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { frac = frac * 10 + Int64(b[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 6 { frac *= 10; digits += 1 }
        }
        var offset: Int64 = 0
        if i < b.count, b[i] == 43 || b[i] == 45 {  // +hh[:mm] or -hh[:mm]
            let sign: Int64 = b[i] == 45 ? -1 : 1
            guard i + 3 <= b.count, let oh = num(i + 1 ..< i + 3) else { return nil }
            var om: Int64 = 0
            if i + 6 <= b.count, b[i + 3] == 58, let m = num(i + 4 ..< i + 6) { om = m }
            offset = sign * (oh * 3600 + om * 60)
        }
        let seconds = days(year: y, month: mo, day: d) * 86400 + h * 3600 + mi * 60 + s - offset
        return seconds * 1_000_000 + frac
    }
}
