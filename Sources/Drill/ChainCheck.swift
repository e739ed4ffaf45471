public import AuditChain

import Foundation

/// `verify-chain` against a live database: the audit rows stream out with COPY (constant memory) into the
/// `ChainVerifier`; roots and historical keys are read whole (one row per day / per key).
public enum ChainCheck {
    /// The rows in binary COPY format: no text formatting on the server (no to_char, no hex), no escaping
    /// to undo here. The casts pin each column's binary representation whatever the table's declared types.
    /// Reconcile's audit side is taken from the same columns (`AuditPass`): nothing is extracted per row on
    /// the server, whose one backend is the pass's narrowest point.
    static let rowsQuery = "SELECT id::int8, tenant_id::uuid, occurred_at::timestamptz, actor::text, action::text, resource::text, "
        + "payload::jsonb, prev_hash::bytea, row_hash::bytea FROM public.audit_logs ORDER BY id"

    /// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
    static let postgresEpochMicros: Int64 = 946_684_800_000_000

    /// Reads `transparency_roots` (empty when the table does not exist).
    public static func roots(_ target: PostgresTarget) async throws -> [TransparencyRoot] {
        try await target.query("""
            SELECT day, first_id, last_id, leaf_count, encode(root_hash, 'hex'), key_id, encode(signature, 'hex'),
            to_char(signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM public.transparency_roots ORDER BY day
            """).map { f in
            TransparencyRoot(day: f[0], firstID: Int64(f[1]) ?? -1, lastID: Int64(f[2]) ?? -1, leafCount: Int64(f[3]) ?? -1,
                             rootHash: ChainHash.bytes(hex: f[4]) ?? [], keyID: f[5], signature: ChainHash.bytes(hex: f[6]) ?? [],
                             signedAt: UTCTime.parse(f[7]) ?? 0)
        }
    }

    public static func keys(_ target: PostgresTarget) async throws -> [HistoricalKey] {
        try await target.query("""
            SELECT key_id, algorithm, encode(public_key, 'hex'), to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            coalesce(to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '') FROM public.transparency_historical_keys
            """).map { f in
            HistoricalKey(keyID: f[0], algorithm: f[1], publicKey: ChainHash.bytes(hex: f[2]) ?? [], validFrom: UTCTime.parse(f[3]) ?? 0,
                          validTo: f[4].isEmpty ? nil : UTCTime.parse(f[4]))
        }
    }

    /// Verifies the chain and its roots in `target` (normally `acp_audit`). Rows stream out as binary COPY
    /// and are hashed from their raw bytes: constant memory, no per-field Strings.
    /// `readers`: how many segments of ids are read at once (cut at sealed days; 1 below 400,000 rows).
    /// Each reader keeps a server backend and a hasher busy: on its own, verify-chain uses every core.
    /// `rowsPerSegment`: the fewest rows a segment is cut for.
    public static func verify(_ target: PostgresTarget, pinnedKeys: [HistoricalKey]? = nil, readers: Int? = nil, rowsPerSegment: Int64 = rowsPerSegment) async throws -> ChainReport {
        try await read(target, pinnedKeys: pinnedKeys, readers: readers ?? ProcessInfo.processInfo.activeProcessorCount, rowsPerSegment: rowsPerSegment).report
    }

    /// Readers for the chain inside a drill: a core for the server and one for the hasher per reader. The
    /// checks stage runs beside it; measured on 2 cores at 2.49M rows, a second reader there made the
    /// stage slower (5.4–6.5 s against 4.4–4.6 s; again after the pass started at once: 7.5–8.8 s against
    /// 6.1–6.5 s), alone it made verify-chain faster (2.6 s against 3.3 s).
    public static var drillReaders: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    /// `verify`, also returning the roots and keys it read: one pass over the platform tables feeds
    /// verify_chain and the roots comparisons. With `pinnedKeys` (the operator's), roots are verified with
    /// those keys only, never with keys the restored database carries; a restored key that is not pinned
    /// (the same id and public key) fails the chain, named.
    /// `pass`, when given, sees every row too (after the chain has).
    static func read(_ target: PostgresTarget, pinnedKeys: [HistoricalKey]? = nil, pass: AuditPass? = nil, readers: Int = drillReaders,
                     rowsPerSegment: Int64 = rowsPerSegment) async throws -> (report: ChainReport, roots: [TransparencyRoot], keys: [HistoricalKey]) {
        let target = pinned(target)
        try await checkKinds(target)
        let roots = try await roots(target)
        let keys = try await keys(target)
        if let pinnedKeys, let foreign = keys.first(where: { k in !pinnedKeys.contains { $0.keyID == k.keyID && $0.publicKey == k.publicKey } }) {
            let failure = ChainFailure(kind: .keyUnknown,
                                       message: "key \"\(foreign.keyID)\" is in the restored transparency_historical_keys but not among the pinned transparency keys (a key the dump brought is never trusted)")
            return (ChainReport(failure: failure), roots, keys)
        }
        let verifierKeys = pinnedKeys ?? keys
        let starts = readers > 1 ? segmentStarts(roots: roots, lastID: try await Reconcile.lastID(target), readers: readers, rowsPerSegment: rowsPerSegment) : []
        if !starts.isEmpty, let report = try await readSegments(target, starts: starts, roots: roots, keys: verifierKeys, pass: pass) {
            return (report, roots, keys)
        }
        // One reader: a small table, one day, or a day that ran across a seam. The table is read as it lies
        // first; rows that lie out of id order are read again in id order, which judges any gap.
        var whole: ChainVerifier
        if let laid = try await readAsLaid(target, roots: roots, keys: verifierKeys, sink: pass?.segment(startingAt: []).first) {
            whole = laid
        } else {
            whole = try await readSegment(target, range: nil, roots: roots, keys: verifierKeys, sink: pass?.segment(startingAt: []).first)
        }
        let report = whole.finish()
        pass?.finish()
        return (report, roots, keys)
    }

    /// The fewest rows a segment is cut for (below twice this, one reader).
    public static let rowsPerSegment: Int64 = 200_000

    /// Where to cut the chain for `readers` readers at once: at the first id of a sealed day (a root's
    /// `first_id`), so that each day's tree is whole in one segment, each cut the one nearest an equal share
    /// of `lastID`. [] for one reader.
    static func segmentStarts(roots: [TransparencyRoot], lastID: Int64, readers: Int, rowsPerSegment: Int64 = rowsPerSegment) -> [Int64] {
        let n = Int(min(Int64(max(1, min(readers, 4))), lastID / rowsPerSegment))
        guard n > 1 else { return [] }
        let candidates = Set(roots.map(\.firstID).filter { $0 > 1 && $0 <= lastID })
        var starts: [Int64] = []
        for k in 1 ..< n {
            let target = lastID * Int64(k) / Int64(n)
            if let best = candidates.min(by: { abs($0 - target) < abs($1 - target) }), best > (starts.last ?? 1) { starts.append(best) }
        }
        return starts
    }

    /// The segments read at once, each by its own reader into its own verifier, joined in id order; nil
    /// when a day ran across a seam (only a tampered chain does: the cuts are at sealed days' first ids).
    static func readSegments(_ target: PostgresTarget, starts: [Int64], roots: [TransparencyRoot], keys: [HistoricalKey], pass: AuditPass?) async throws -> ChainReport? {
        let sinks = pass?.segment(startingAt: starts)
        let bounds = [nil] + starts.map(Optional.some) + [nil]
        let verifiers = try await withThrowingTaskGroup(of: (Int, ChainVerifier).self) { group in
            for k in 0 ..< bounds.count - 1 {
                group.addTask { (k, try await readSegment(target, range: (bounds[k], bounds[k + 1]), roots: roots, keys: keys, sink: sinks?[k])) }
            }
            var out: [Int: ChainVerifier] = [:]
            for try await (k, v) in group { out[k] = v }
            return (0 ..< bounds.count - 1).map { out[$0]! }
        }
        var whole = verifiers[0]
        for next in verifiers.dropFirst() { guard whole.join(next) else { return nil } }
        let report = whole.finish()
        pass?.finish()
        return report
    }

    /// Reads the rows with ids in `range` (from, up to but excluding; nil: unbounded, and the last
    /// segment also takes any row without an id) into a verifier of that segment.
    static func readSegment(_ target: PostgresTarget, range: (from: Int64?, to: Int64?)?, roots: [TransparencyRoot], keys: [HistoricalKey],
                            sink: AuditPass.Segment?) async throws -> ChainVerifier {
        var filter = ""
        switch (range?.from, range?.to) {
        case (nil, let to?): filter = " WHERE id < \(to)"
        case (let from?, let to?): filter = " WHERE id >= \(from) AND id < \(to)"
        case (let from?, nil): filter = " WHERE id >= \(from) OR id IS NULL"
        default: break
        }
        let query = rowsQuery.replacingOccurrences(of: " ORDER BY id", with: filter + " ORDER BY id")
        let start = (verifier: ChainVerifier(roots: roots, keys: keys, segmentFrom: range?.from ?? 1), hasher: RowHasher())
        return try await target.copyOutBinary(query, into: start) { s, row in
            try add(row, to: &s.verifier, hasher: &s.hasher, database: target.database)
            sink?.see(row)
        }.verifier
    }

    /// The whole table read in the order it lies on disk, with no index (a sequential scan costs the
    /// server a tenth less than walking the primary key). A restored audit log lies in id order: it was
    /// appended in that order, dumped as it lay and restored in the dump's order. Nil, the read stopped
    /// at once, when a row is not the next id (a row moved by an update, or a gap): the caller then reads
    /// in id order, which judges it. Synchronized scans (a concurrent `count(*)` would make this scan
    /// start mid-table) and parallel workers (which interleave rows) are off for this read.
    static func readAsLaid(_ target: PostgresTarget, roots: [TransparencyRoot], keys: [HistoricalKey], sink: AuditPass.Segment?) async throws -> ChainVerifier? {
        struct OutOfOrder: Error {}
        let laid = target.adding(sessionOptions: "-c synchronize_seqscans=off -c max_parallel_workers_per_gather=0")
        let query = rowsQuery.replacingOccurrences(of: " ORDER BY id", with: "")
        let start = (verifier: ChainVerifier(roots: roots, keys: keys), hasher: RowHasher(), next: Int64(1))
        do {
            return try await laid.copyOutBinary(query, into: start) { s, row in
                guard row.integer(0) == s.next else { throw OutOfOrder() }
                s.next += 1
                try add(row, to: &s.verifier, hasher: &s.hasher, database: target.database)
                sink?.see(row)
            }.verifier
        } catch is OutOfOrder {
            return nil
        }
    }

    /// The audit chain's table, schema-qualified as the evidence names it.
    static let auditTable = "public.audit_logs"

    /// The platform tables the chain is read from, each in `public`.
    static let tables = ["audit_logs", "transparency_roots", "transparency_historical_keys"]

    /// `target` with a search path that only the system catalog is on: the reads name their tables by
    /// schema, and no function or operator a dump defined (in `public`, ahead of `pg_catalog` through an
    /// `ALTER DATABASE … SET search_path`) can stand in for a built-in one.
    static func pinned(_ target: PostgresTarget) -> PostgresTarget {
        target.adding(sessionOptions: "-c search_path=pg_catalog,pg_temp")
    }

    /// Each platform table present must be an ordinary table: a view, a materialized view, a foreign or
    /// partitioned table can answer one reader differently from the next (a view over a function that
    /// forges the first read), so the chain is not read from one.
    static func checkKinds(_ target: PostgresTarget) async throws {
        let names = tables.map { "'\($0)'" }.joined(separator: ", ")
        let rows = try await target.query("""
            SELECT c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
            WHERE n.nspname = 'public' AND c.relname IN (\(names)) ORDER BY c.relname
            """)
        for row in rows where row.count == 2 && row[1] != "r" {
            throw QueryError(database: target.database,
                             message: "public.\(row[0]) is \(kindName(row[1])), not an ordinary table: the chain, its roots and keys are read only from ordinary tables (a view or a function can answer each read differently)")
        }
    }

    static func kindName(_ relkind: String) -> String {
        switch relkind {
        case "v": "a view"
        case "m": "a materialized view"
        case "f": "a foreign table"
        case "p": "a partitioned table"
        case "S": "a sequence"
        default: "of relkind '\(relkind)'"
        }
    }

    static func add(_ row: CopyBinaryReader.Row, to verifier: inout ChainVerifier, hasher: inout RowHasher, database: String) throws {
        guard row.count == 9 else { throw QueryError(database: database, message: "audit_logs row with \(row.count) columns, expected 9") }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let id = row.integer(0) ?? -1
        let micros = (row.integer(2) ?? 0) &+ postgresEpochMicros
        let prev = row.field(7).flatMap { Hash32($0) } ?? .unmatchable
        let stored = row.field(8).flatMap { Hash32($0) } ?? .unmatchable
        verifier.add(id: id, occurredAt: micros, prevHash: prev, rowHash: stored) {
            // jsonb's binary form is a version byte (1) followed by its text output.
            var payload = row.field(6) ?? empty
            if let first = payload.first, first == 1 { payload = UnsafeRawBufferPointer(rebasing: payload.dropFirst()) }
            return hasher.rowHash(prev: row.field(7) ?? empty, id: id, tenant: row.field(1) ?? empty, occurredAt: micros,
                                  actor: row.field(3) ?? empty, action: row.field(4) ?? empty, resource: row.field(5) ?? empty,
                                  payload: payload)
        }
    }
}

/// A decimal integer from bytes; nil for anything else.
func parseInt64<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int64? {
    guard !bytes.isEmpty else { return nil }
    var value: Int64 = 0
    var negative = false
    var i = bytes.startIndex
    if bytes[i] == 45 { negative = true; bytes.formIndex(after: &i) }
    guard i < bytes.endIndex else { return nil }
    while i < bytes.endIndex {
        let b = bytes[i]
        guard b >= 48, b <= 57 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(b - 48))
        guard !o1, !o2 else { return nil }
        value = a
        bytes.formIndex(after: &i)
    }
    return negative ? -value : value
}
