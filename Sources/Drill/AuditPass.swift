import Synchronization

/// What the one read of `audit_logs` gives besides the chain (docs/EVIDENCE.md, "read each large table
/// once"): its exact row count (for `row_counts`/`rows`, so the evidence query does not count it again) and
/// the audit side of reconcile (its `tool.execute` rows merged, in id order, against the usage events).
///
/// The read may run as several segments of ids at once (`segment(startingAt:)`); each reader feeds its own
/// `Segment`, with its own lock and its own merge over the usage events of its ids, and the merges are
/// combined at the end. The usage events load beside the pass: a segment's rows that go by before they
/// are in wait in order, and are merged first once the merge is attached (`attach`). What it counted and
/// merged stands only once the pass has read the table to its end (`finish`): a chain read that stopped
/// early gives neither.
final class AuditPass: Sendable {
    /// What one reader's rows gave.
    final class Segment: Sendable {
        private let state = Mutex<(rows: Int64, merge: Reconcile.Merge?, pending: [Reconcile.Event])>((0, nil, []))
        private let boundary: Int64?

        init(boundary: Int64?) { self.boundary = boundary }

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

        fileprivate func attach(_ merge: Reconcile.Merge) {
            state.withLock { s in
                var m = merge
                for e in s.pending { m.audit(e) }
                s.pending = []
                s.merge = m
            }
        }

        fileprivate var rows: Int64 { state.withLock { $0.rows } }
        fileprivate var merge: Reconcile.Merge? { state.withLock { $0.merge } }
    }

    private let state: Mutex<(starts: [Int64], segments: [Segment], loaded: Reconcile.Merge?, complete: Bool)>
    /// The dump's boundary when reconcile rides along (rows past it have no usage events), else nil.
    private let boundary: Int64?

    init(reconcileUpTo boundary: Int64?) {
        self.boundary = boundary
        state = Mutex(([], [Segment(boundary: boundary)], nil, false))
    }

    /// Starts the pass over, read as segments beginning at 1 and at each of `starts` (ascending); [] for
    /// one reader. Rows seen before are forgotten. Returns each segment's sink, in id order.
    @discardableResult
    func segment(startingAt starts: [Int64]) -> [Segment] {
        state.withLock { s in
            s.starts = starts
            s.segments = (0 ... starts.count).map { _ in Segment(boundary: boundary) }
            s.complete = false
            if let loaded = s.loaded { for (segment, merge) in zip(s.segments, loaded.segments(startingAt: starts)) { segment.attach(merge) } }
            return s.segments
        }
    }

    /// The sink of the one-reader pass.
    var whole: Segment { state.withLock { $0.segments[0] } }

    /// The merge, its usage events loaded: the rows seen so far are merged now, the rest as they come.
    func attach(_ merge: Reconcile.Merge) {
        state.withLock { s in
            s.loaded = merge
            for (segment, m) in zip(s.segments, merge.segments(startingAt: s.starts)) { segment.attach(m) }
        }
    }

    /// The table was read to its end.
    func finish() { state.withLock { $0.complete = true } }

    /// The table's exact row count, once it was read to its end.
    var rows: Int64? { state.withLock { $0.complete ? $0.segments.reduce(0) { $0 + $1.rows } : nil } }

    /// The merge, finished (nil when it was never attached, or the table was not read to its end).
    func reconcile(replayed: Int) -> Reconcile.Result? {
        state.withLock { s in
            guard s.complete else { return nil }
            let merges = s.segments.compactMap(\.merge)
            guard merges.count == s.segments.count else { return nil }
            var m = Reconcile.Merge.combined(merges)
            return m.finish(replayed: replayed)
        }
    }
}
