/// Why `verify-chain` failed: the first problem found, naming the first bad id or day.
public struct ChainFailure: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case idGap = "id_gap", brokenLink = "broken_link", rowHash = "row_hash", dayOrder = "day_order"
        case rootMissing = "root_missing", rootRange = "root_range", rootHash = "root_hash"
        case rootWithoutRows = "root_without_rows", keyUnknown = "key_unknown", keyNotValid = "key_not_valid"
        case signature, historicalKeysMissing = "historical_keys_missing"
        case archivedRootMismatch = "archived_root_mismatch", snapshotMismatch = "snapshot_mismatch"
    }

    public var kind: Kind
    public var id: Int64?
    public var day: String?
    public var message: String

    public var description: String { message }

    public init(kind: Kind, id: Int64? = nil, day: String? = nil, message: String) {
        self.kind = kind
        self.id = id
        self.day = day
        self.message = message
    }
}

/// What `verify-chain` found.
public struct ChainReport: Sendable, Codable, Equatable {
    public var rows: Int64 = 0
    public var firstID: Int64?
    public var lastID: Int64?
    public var days = 0
    public var rootsVerified = 0
    /// Rows after the last root: written since the last day was sealed.
    public var unsealedRows: Int64 = 0
    public var failure: ChainFailure?

    public var passed: Bool { failure == nil }

    /// An empty report, or one that failed before any row was read.
    public init(failure: ChainFailure? = nil) { self.failure = failure }
}

/// Verifies the audit hash chain and its signed daily roots as rows stream in, in id order.
///
/// Per row it checks that ids are contiguous from 1, that `prev_hash` links to the previous `row_hash`,
/// and that `row_hash` recomputes; it folds each UTC day's row hashes into an incremental RFC 6962 tree.
/// `finish` then checks the roots: each day with rows is covered by exactly one root whose id range and leaf
/// count match the day's rows, whose hash matches the recomputed tree, and whose Ed25519 signature verifies
/// with a historical key valid at `signed_at`. Days after the last root are the unsealed tail. Memory is
/// constant per row (a few hashes per day), so millions of rows stream through.
public struct ChainVerifier: Sendable {
    private struct Day: Sendable {
        var number: Int64
        var day: String
        var first: Int64
        var last: Int64
        var tree = MerkleTree()
    }

    private let roots: [String: TransparencyRoot]
    private let rootOrder: [TransparencyRoot]
    private let keys: [String: HistoricalKey]
    private var report = ChainReport()
    private var previousHash = Hash32.zero
    private var expectedID: Int64 = 1
    /// A segment's first id (1 for a whole chain); a segment after the first takes its first row's
    /// `prev_hash` as given, and `join` checks it against the segment before.
    private let startID: Int64
    private var linkIn: (id: Int64, prevHash: Hash32, day: Int64)?
    private var current: Day?
    private var closed: [(day: String, first: Int64, last: Int64, count: Int64, root: [UInt8])] = []

    public init(roots: [TransparencyRoot], keys: [HistoricalKey]) {
        self.init(roots: roots, keys: keys, segmentFrom: 1)
    }

    /// Verifies the rows from `startID` on (`startID` 1: the whole chain). A later segment's first row
    /// must be `startID`; its `prev_hash` is taken as the link, for `join` to check.
    public init(roots: [TransparencyRoot], keys: [HistoricalKey], segmentFrom startID: Int64) {
        self.startID = startID
        self.expectedID = startID
        self.rootOrder = roots.sorted { $0.day < $1.day }
        var byDay: [String: TransparencyRoot] = [:]
        for r in roots where byDay[r.day] == nil { byDay[r.day] = r }
        self.roots = byDay
        self.keys = Dictionary(keys.map { ($0.keyID, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public var failed: Bool { report.failure != nil }

    private mutating func fail(_ kind: ChainFailure.Kind, id: Int64? = nil, day: String? = nil, _ message: String) {
        if report.failure == nil { report.failure = ChainFailure(kind: kind, id: id, day: day, message: message) }
    }

    /// Feeds the next row (in id order). After the first failure the rest is still counted, not checked.
    public mutating func add(_ row: AuditRow) {
        add(id: row.id, occurredAt: row.occurredAt, prevHash: Hash32(row.prevHash) ?? .unmatchable, rowHash: Hash32(row.rowHash) ?? .unmatchable) {
            Hash32(ChainHash.rowHash(of: row))!
        }
    }

    /// Feeds the next row by its parts: `recompute` returns the row hash recomputed from its fields, and is
    /// called only while the chain still holds (the streaming path computes it from raw column bytes).
    public mutating func add(id: Int64, occurredAt: Int64, prevHash: Hash32, rowHash: Hash32, recompute: () -> Hash32) {
        report.rows += 1
        if report.firstID == nil { report.firstID = id }
        report.lastID = id
        guard !failed else { return }
        if id != expectedID {
            if expectedID == 1 {
                fail(.idGap, id: 1, "ids do not start at 1: the first row is id \(id) (rows 1…\(id - 1) are missing)")
            } else {
                fail(.idGap, id: expectedID, "ids are not contiguous: id \(expectedID) is missing (after id \(expectedID - 1) comes \(id))")
            }
            return
        }
        expectedID += 1
        if startID != 1 && linkIn == nil {
            linkIn = (id, prevHash, UTCTime.dayNumber(micros: occurredAt))
            previousHash = prevHash
        }
        if prevHash != previousHash {
            fail(.brokenLink, id: id, "id \(id): prev_hash does not link to the row_hash of id \(id - 1)")
            return
        }
        let computed = recompute()
        if computed != rowHash {
            fail(.rowHash, id: id, "id \(id): row_hash does not recompute — the row was changed (stored \(ChainHash.hex(rowHash.bytes).prefix(16))…, computed \(ChainHash.hex(computed.bytes).prefix(16))…)")
            return
        }
        previousHash = rowHash
        let dayNumber = UTCTime.dayNumber(micros: occurredAt)
        if current?.number != dayNumber {
            if let c = current {
                if dayNumber < c.number {
                    let day = UTCTime.day(micros: occurredAt)
                    fail(.dayOrder, id: id, day: day, "id \(id): occurred_at goes back from \(c.day) to \(day); a day's ids must be contiguous")
                    return
                }
                closeDay(c)
            }
            current = Day(number: dayNumber, day: UTCTime.day(micros: occurredAt), first: id, last: id)
        }
        current!.last = id
        current!.tree.append(hash: rowHash)
    }

    private mutating func closeDay(_ d: Day) {
        closed.append((d.day, d.first, d.last, d.tree.count, d.tree.root))
    }

    /// Appends the segment that follows this one (`next` began where this one's ids end), as if its rows
    /// had been fed here: the first failure in id order is the one reported, the link and the id
    /// sequence are checked across the seam, and the days continue. Returns false, changing nothing,
    /// when a day runs across the seam (its tree was split): the caller then reads the chain whole.
    public mutating func join(_ next: ChainVerifier) -> Bool {
        if !failed, let link = next.linkIn, let c = current, c.number == link.day { return false }
        report.rows += next.report.rows
        if report.firstID == nil { report.firstID = next.report.firstID }
        if let last = next.report.lastID { report.lastID = last }
        guard !failed else { return true }
        if let first = next.report.firstID {
            // The next segment's first row, checked here as `add` would have.
            if first != expectedID || next.startID != expectedID {
                if expectedID == 1 {
                    fail(.idGap, id: 1, "ids do not start at 1: the first row is id \(first) (rows 1…\(first - 1) are missing)")
                } else {
                    fail(.idGap, id: expectedID, "ids are not contiguous: id \(expectedID) is missing (after id \(expectedID - 1) comes \(first))")
                }
                return true
            }
            if let link = next.linkIn, link.prevHash != previousHash {
                fail(.brokenLink, id: first, "id \(first): prev_hash does not link to the row_hash of id \(first - 1)")
                return true
            }
            // A failure of that first row itself (its hash) comes before the day order, as in `add`.
            if let failure = next.report.failure, failure.id == first {
                report.failure = failure
                return true
            }
            if let link = next.linkIn, let c = current, link.day < c.number {
                let day = UTCTime.day(micros: link.day * 86_400_000_000)
                fail(.dayOrder, id: first, day: day, "id \(first): occurred_at goes back from \(c.day) to \(day); a day's ids must be contiguous")
                return true
            }
        }
        guard next.report.firstID != nil else { return true }
        // The days continue, up to the next segment's own first failure if it has one.
        if let c = current { closeDay(c) }
        closed.append(contentsOf: next.closed)
        current = next.current
        previousHash = next.previousHash
        expectedID = next.expectedID
        report.failure = next.report.failure
        return true
    }

    /// Checks the roots against the days seen and returns the report.
    public mutating func finish() -> ChainReport {
        if let c = current { closeDay(c); current = nil }
        report.days = closed.count
        guard !failed else { return report }
        if !rootOrder.isEmpty && keys.isEmpty {
            fail(.historicalKeysMissing,
                 "transparency_historical_keys is empty but \(rootOrder.count) root(s) exist: the historical-keys table was probably left out of the backup")
            return report
        }
        let lastSealed = rootOrder.last?.day
        let seenDays = Set(closed.map(\.day))
        if let orphan = rootOrder.first(where: { !seenDays.contains($0.day) }) {
            fail(.rootWithoutRows, day: orphan.day,
                 "day \(orphan.day): a root covers ids \(orphan.firstID)…\(orphan.lastID), but no audit rows of that day exist (deleted?)")
            return report
        }
        for d in closed {
            guard let root = roots[d.day] else {
                if let lastSealed, d.day < lastSealed {
                    fail(.rootMissing, id: d.first, day: d.day, "day \(d.day): ids \(d.first)…\(d.last) have no root, but later days do")
                    return report
                }
                report.unsealedRows += d.count
                continue
            }
            if root.firstID != d.first || root.lastID != d.last || root.leafCount != d.count {
                fail(.rootRange, id: min(root.firstID, d.first), day: d.day,
                     "day \(d.day): the root covers ids \(root.firstID)…\(root.lastID) (\(root.leafCount) leaves), the restored rows are \(d.first)…\(d.last) (\(d.count))")
                return report
            }
            if root.rootHash != d.root {
                fail(.rootHash, id: d.first, day: d.day,
                     "day \(d.day): root_hash does not match the rows (stored \(ChainHash.hex(root.rootHash).prefix(16))…, recomputed \(ChainHash.hex(d.root).prefix(16))…)")
                return report
            }
            guard let key = keys[root.keyID] else {
                fail(.keyUnknown, day: d.day, "day \(d.day): the root is signed by key \"\(root.keyID)\", which is not in transparency_historical_keys")
                return report
            }
            guard key.isValid(at: root.signedAt) else {
                fail(.keyNotValid, day: d.day, "day \(d.day): key \"\(root.keyID)\" was not valid at signed_at \(UTCTime.canonical(micros: root.signedAt))")
                return report
            }
            guard key.verify(root.signature, of: root.message) else {
                fail(.signature, day: d.day, "day \(d.day): the signature does not verify with key \"\(root.keyID)\"")
                return report
            }
            report.rootsVerified += 1
        }
        return report
    }

    /// Compares restored roots with a separately stored list (the backup's snapshot, or a customer's
    /// archive): every day in `reference` must have its root in `restored`.
    /// Compares each reference root with the restored root of its day: what customers archive (the root
    /// hash, the first and last id, the leaf count) always; the signature only where the reference has one.
    /// The first day that differs is named with every field that differs.
    public static func compare(restored: [TransparencyRoot], reference: [TransparencyRoot], kind: ChainFailure.Kind) -> ChainFailure? {
        let byDay = Dictionary(restored.map { ($0.day, $0) }, uniquingKeysWith: { a, _ in a })
        for ref in reference.sorted(by: { $0.day < $1.day }) {
            guard let r = byDay[ref.day] else {
                return ChainFailure(kind: kind, day: ref.day, message: "day \(ref.day): in the reference roots but not in the restored table")
            }
            var differs: [String] = []
            if r.rootHash != ref.rootHash { differs.append("root_hash \(ChainHash.hex(r.rootHash).prefix(16))… vs \(ChainHash.hex(ref.rootHash).prefix(16))…") }
            if r.firstID != ref.firstID { differs.append("first_id \(r.firstID) vs \(ref.firstID)") }
            if r.lastID != ref.lastID { differs.append("last_id \(r.lastID) vs \(ref.lastID)") }
            if r.leafCount != ref.leafCount { differs.append("leaf_count \(r.leafCount) vs \(ref.leafCount)") }
            // What a customer archives may carry no signature: one is compared only where the reference has it.
            if !ref.signature.isEmpty && r.signature != ref.signature { differs.append("the signature differs") }
            if !differs.isEmpty {
                return ChainFailure(kind: kind, day: ref.day,
                                    message: "day \(ref.day): the restored root differs from the reference (restored vs reference): " + differs.joined(separator: ", "))
            }
        }
        return nil
    }
}
