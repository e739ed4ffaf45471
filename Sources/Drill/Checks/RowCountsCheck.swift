import Common
import Foundation
import Synchronization

/// `row_counts.<db>`: the exact `count(*)` of every table of every restored database. It runs first: the
/// tables it finds tell the platform checks where their tables are.
struct RowCountsCheck: DrillCheck {
    let descriptor = CheckDescriptor("row_counts.<db>", kind: .core, needs: [.restoredDatabases],
                                     "every table of the database answers an exact count(*) (partitions counted in their parent)")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        let results = Mutex<[String: (CheckResult, [String: Int64]?)]>([:])
        try await Concurrently.forEach(context.databases, limit: 4) { db in
            let t0 = ContinuousClock.now
            do {
                let counts = try await Self.rowCounts(context.target(db))
                let total = counts.values.reduce(0, +)
                let top = counts.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                results.withLock { $0[db] = (.timed("row_counts.\(db)", .core, .passed, "\(counts.count) table(s), \(total) rows: \(top)", since: t0), counts) }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                results.withLock { $0[db] = (.timed("row_counts.\(db)", .core, .failed, "\(error)", since: t0), nil) }
            }
        }
        var tables: [String: Set<String>] = [:]
        var out: [CheckResult] = []
        for db in context.databases {
            guard let (c, counts) = results.withLock({ $0[db] }) else { continue }
            if let counts {
                tables[db] = Set(counts.keys)
                context.ledger.setRowCounts(counts, of: db)
            }
            out.append(c)
        }
        context.recordTables(tables)
        return out
    }

    /// `count(*)` of every ordinary and partitioned table (partitions are counted in their parent), in one
    /// statement: `query_to_xml` runs each count inside the server.
    static func rowCounts(_ target: PostgresTarget) async throws -> [String: Int64] {
        let rows = try await target.query("""
            SELECT n.nspname || '.' || c.relname,
                   (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1
            """)
        var counts: [String: Int64] = [:]
        for row in rows where row.count == 2 {
            guard let n = Int64(row[1]) else { throw QueryError(database: target.database, message: "row count of \(row[0]): unexpected \(row[1])") }
            counts[row[0]] = n
        }
        return counts
    }
}
