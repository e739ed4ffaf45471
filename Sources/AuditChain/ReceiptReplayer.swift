/// Decides, receipt by receipt in id order, what a replay on top of a restored dump does with each one
/// (docs/RECEIPTS.md): skip it (the dump holds its row), insert it (it is the next row, it links and its hash
/// recomputes), or stop. It stops at the first receipt it cannot insert, and nothing past it is inserted:
/// a replayed chain is never longer than its first doubt.
public struct ReceiptReplayer: Sendable {
    /// Why a replay stopped before the end of the receipts.
    public enum Stop: Sendable, Equatable {
        /// A receipt (or its object) that does not parse; `place` names the object and line.
        case unreadable(place: String, message: String)
        /// Ids missing between the last inserted row and the next receipt: data loss.
        case gap(from: Int64, to: Int64, place: String)
        /// An id that was already replayed (or a batch given twice).
        case duplicate(id: Int64, place: String)
        /// The receipt's `row_hash` does not recompute from its fields: forged or altered.
        case forged(id: Int64, place: String)
        /// The receipt's `prev_hash` is not the previous row's `row_hash`.
        case brokenLink(id: Int64, place: String)
        /// The receipt of the dump's last row does not match the restored row.
        case boundaryMismatch(id: Int64, place: String)
        /// `--until`: the next receipt was written after the recovery target (not a failure).
        case reachedUntil(id: Int64)

        /// Whether the stop is a failure of the replay (everything but reaching `--until`).
        public var isFailure: Bool {
            if case .reachedUntil = self { return false }
            return true
        }

        /// The missing ids of a gap.
        public var missing: ClosedRange<Int64>? {
            if case .gap(let from, let to, _) = self { return from ... to }
            return nil
        }

        public var message: String {
            switch self {
            case .unreadable(let place, let message): "\(place): the receipt does not parse: \(message)"
            case .gap(let from, let to, let place):
                from == to ? "id \(from) has no receipt (data loss): the next receipt is id \(to + 1) (\(place))"
                    : "ids \(from)…\(to) have no receipt (\(to - from + 1) rows of data loss): the next receipt is id \(to + 1) (\(place))"
            case .duplicate(let id, let place): "id \(id) has a second receipt (\(place)): one id, one row"
            case .forged(let id, let place): "the receipt of id \(id) is forged or altered: its row_hash does not recompute from its fields (\(place))"
            case .brokenLink(let id, let place): "the receipt of id \(id) does not link: its prev_hash is not the row_hash of id \(id - 1) (\(place))"
            case .boundaryMismatch(let id, let place):
                "the receipt of id \(id), the dump's last row, does not match the restored row (\(place)): the dump or the mirror was altered"
            case .reachedUntil(let id): "stopped at --until: id \(id) and later were written after it"
            }
        }
    }

    /// What to do with one receipt.
    public enum Decision: Sendable, Equatable {
        case skip
        case insert
        case stop(Stop)
    }

    /// The dump's last row: its id (0 for an empty table), its hash and its time.
    public let boundaryID: Int64
    public let boundaryHash: [UInt8]
    /// Receipts written after this time (UTC microseconds) are not replayed.
    public let until: Int64?

    /// The last row of the chain so far (the dump's, then each inserted receipt's).
    public private(set) var lastID: Int64
    public private(set) var lastHash: [UInt8]
    /// The time of the last inserted receipt (nil while none is).
    public private(set) var lastTime: Int64?
    public private(set) var inserted = 0
    public private(set) var stopped: Stop?

    public init(boundaryID: Int64, boundaryHash: [UInt8], until: Int64? = nil) {
        self.boundaryID = boundaryID
        self.boundaryHash = boundaryID == 0 ? ChainHash.genesis : boundaryHash
        self.until = until
        lastID = boundaryID
        lastHash = self.boundaryHash
    }

    /// The decision on the next receipt in id order; `place` names where it came from (object and line).
    /// After a stop every later receipt is refused with the same stop.
    public mutating func add(_ receipt: Receipt, place: @autoclosure () -> String) -> Decision {
        if let stopped { return .stop(stopped) }
        let row = receipt.row
        if row.id <= boundaryID {
            if row.id == boundaryID, row.rowHash != boundaryHash { return stop(.boundaryMismatch(id: row.id, place: place())) }
            return .skip
        }
        if row.id <= lastID { return stop(.duplicate(id: row.id, place: place())) }
        if row.id > lastID + 1 { return stop(.gap(from: lastID + 1, to: row.id - 1, place: place())) }
        if let until, row.occurredAt > until { return stop(.reachedUntil(id: row.id)) }
        guard receipt.recomputes else { return stop(.forged(id: row.id, place: place())) }
        guard row.prevHash == lastHash else { return stop(.brokenLink(id: row.id, place: place())) }
        lastID = row.id
        lastHash = row.rowHash
        lastTime = row.occurredAt
        inserted += 1
        return .insert
    }

    /// Records a receipt that could not be read.
    public mutating func unreadable(place: String, message: String) {
        if stopped == nil { stopped = .unreadable(place: place, message: message) }
    }

    private mutating func stop(_ s: Stop) -> Decision {
        stopped = s
        return .stop(s)
    }
}
