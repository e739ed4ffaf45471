import Foundation
import Synchronization

/// What the one read of `audit_logs` gives besides the chain (docs/EVIDENCE.md, "read each large table
/// once"): its exact row count (for `row_counts`/`rows`, so the evidence query does not count it again) and
/// the audit side of reconcile (its `tool.execute` rows merged, in id order, against the usage events
/// loaded before the pass).
final class AuditPass: Sendable {
    private let state: Mutex<(rows: Int64, merge: Reconcile.Merge?)>

    /// `merge`: reconcile's merge join with its usage events, or nil when reconcile does not ride along.
    init(merge: Reconcile.Merge?) { state = Mutex((0, merge)) }

    /// One row of `ChainCheck.rowsQuery(withUnits: true)`.
    func see(_ row: CopyBinaryReader.Row) {
        state.withLock { s in
            s.rows += 1
            // Rows past the dump's boundary (replayed from receipts) have no usage events: not compared.
            guard let boundary = s.merge?.boundary, row.count == 10, let units = row.field(9), let id = row.integer(0), id <= boundary,
                  let tenant = row.field(1) else { return }
            let occurredAt = row.integer(2).map { $0 &+ ChainCheck.postgresEpochMicros }
            s.merge!.audit(Reconcile.Event(auditID: id, tenant: Self.uuidText(tenant), units: parseInt64(ArraySlice(units)), occurredAt: occurredAt))
        }
    }

    var rows: Int64 { state.withLock { $0.rows } }

    /// The merge, finished.
    func reconcile(replayed: Int) -> Reconcile.Result? {
        state.withLock { s in s.merge.map { m in var m = m; return m.finish(replayed: replayed) } }
    }

    /// A uuid's 16 bytes as PostgreSQL prints it (lower-case, hyphenated), as the usage side reads it.
    static func uuidText(_ bytes: UnsafeRawBufferPointer) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(45) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
