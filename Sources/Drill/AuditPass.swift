import Synchronization

/// What the one read of `audit_logs` gives besides the chain (docs/EVIDENCE.md, "read each large table
/// once"): its exact row count (for `row_counts`/`rows`, so the evidence query does not count it again) and
/// the audit side of reconcile (its `tool.execute` rows merged, in id order, against the usage events).
/// The usage events load beside the pass: the rows that go by before they are in wait in order, and are
/// merged first once the merge is attached (`attach`). What it counted and merged stands only once the
/// pass has read the table to its end (`finish`): a chain read that stopped early gives neither.
final class AuditPass: Sendable {
    private let state: Mutex<(rows: Int64, merge: Reconcile.Merge?, pending: [Reconcile.Event], complete: Bool)>
    /// The dump's boundary when reconcile rides along (rows past it have no usage events), else nil.
    private let boundary: Int64?

    init(reconcileUpTo boundary: Int64?) {
        self.boundary = boundary
        state = Mutex((0, nil, [], false))
    }

    /// One row of `ChainCheck.rowsQuery`.
    func see(_ row: CopyBinaryReader.Row) {
        let event = boundary.flatMap { b in
            Reconcile.auditEvent(row, id: 0, tenant: 1, occurredAt: 2, action: 4, payload: 6).flatMap { $0.auditID <= b ? $0 : nil }
        }
        state.withLock { s in
            s.rows += 1
            guard let event else { return }
            if s.merge != nil { s.merge!.audit(event) } else { s.pending.append(event) }
        }
    }

    /// The merge, its usage events loaded: the rows seen so far are merged now, the rest as they come.
    func attach(_ merge: Reconcile.Merge) {
        state.withLock { s in
            var m = merge
            for e in s.pending { m.audit(e) }
            s.pending = []
            s.merge = m
        }
    }

    /// The table was read to its end.
    func finish() { state.withLock { $0.complete = true } }

    /// The table's exact row count, once it was read to its end.
    var rows: Int64? { state.withLock { $0.complete ? $0.rows : nil } }

    /// The merge, finished (nil when it was never attached, or the table was not read to its end).
    func reconcile(replayed: Int) -> Reconcile.Result? {
        state.withLock { s in s.complete ? s.merge.map { m in var m = m; return m.finish(replayed: replayed) } : nil }
    }
}
