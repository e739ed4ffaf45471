/// Where a batch of receipts is stored (docs/RECEIPTS.md): `<YYYY-MM-DD>/<first id>-<last id>.jsonl`, the day
/// being the UTC day of the batch's first row, the ids zero-padded to 19 digits.
///
/// - A day is one prefix: listing a day of receipts is one listing (one S3 ListObjectsV2 page per 1000
///   batches), and the days are listed with a delimiter without reading any receipt.
/// - Within a day, and across days, the names sort in id order; a replay skips every batch whose last id
///   its dump already holds without fetching it.
/// - The writer stores one batch per second (the receipts of the rows it committed that second): a
///   per-row object would make S3 PUTs, not rows, the audit service's bottleneck, and costs at most one
///   second of loss. A batch is written after its rows commit, so no receipt names a row that is not there.
public struct ReceiptKey: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var day: String
    public var firstID: Int64
    public var lastID: Int64

    public init(day: String, firstID: Int64, lastID: Int64) {
        self.day = day
        self.firstID = firstID
        self.lastID = lastID
    }

    /// The key of a batch of rows (in id order).
    public init(batch rows: [AuditRow]) {
        self.init(day: rows.first.map { $0.day } ?? "1970-01-01", firstID: rows.first?.id ?? 0, lastID: rows.last?.id ?? 0)
    }

    public static let suffix = ".jsonl"

    public var description: String { "\(day)/\(Self.pad(firstID))-\(Self.pad(lastID))\(Self.suffix)" }

    static func pad(_ id: Int64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 19 - digits.count)) + digits
    }

    /// Reads a key (relative to the receipts location); nil for one not in this layout.
    public static func parse(_ key: String) -> ReceiptKey? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, isDay(parts[0]), parts[1].hasSuffix(suffix) else { return nil }
        let ids = parts[1].dropLast(suffix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard ids.count == 2, ids[0].count == 19, ids[1].count == 19, let first = Int64(ids[0]), let last = Int64(ids[1]), first > 0, first <= last else { return nil }
        return ReceiptKey(day: String(parts[0]), firstID: first, lastID: last)
    }

    /// `YYYY-MM-DD`, digits where digits belong.
    public static func isDay(_ text: Substring) -> Bool {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45 else { return false }
        return b.enumerated().allSatisfy { $0.offset == 4 || $0.offset == 7 || (48 ... 57).contains($0.element) }
    }

    public static func < (a: ReceiptKey, b: ReceiptKey) -> Bool {
        (a.firstID, a.lastID, a.day) < (b.firstID, b.lastID, b.day)
    }
}
