import Common
import Foundation
import Synchronization

/// `row_counts.<db>`: the exact `count(*)` of every table of every restored database, from the one read of
/// the restored copy's evidence (`CheckContext.restoredEvidence`) that `rows.<db>` compares.
struct RowCountsCheck: DrillCheck {
    let descriptor = CheckDescriptor("row_counts.<db>", kind: .core, needs: [.restoredDatabases],
                                     "every table of the database answers an exact count(*) (each partition, and each populated materialized view, on its own)")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        let results = Mutex<[String: (CheckResult, [String: Int64]?)]>([:])
        try await Concurrently.forEach(context.databases, limit: 4) { db in
            let t0 = ContinuousClock.now
            do {
                let evidence = try await context.restoredEvidence(db)
                let counts = evidence.rows
                let total = counts.values.reduce(0, +)
                let top = counts.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                results.withLock { $0[db] = (.timed("row_counts.\(db)", .core, .passed, "\(counts.count) table(s), \(total) rows: \(top)", since: t0), counts) }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                results.withLock { $0[db] = (.timed("row_counts.\(db)", .core, .failed, "\(error)", since: t0), nil) }
            }
        }
        var out: [CheckResult] = []
        for db in context.databases {
            guard let (c, counts) = results.withLock({ $0[db] }) else { continue }
            if let counts { context.ledger.setRowCounts(counts, of: db) }
            out.append(c)
        }
        return out
    }
}
