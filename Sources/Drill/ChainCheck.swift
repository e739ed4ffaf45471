public import AuditChain
public import DockerEngine
import Foundation
import Synchronization

/// `verify-chain` against a live database: the audit rows stream out with COPY (constant memory) into the
/// `ChainVerifier`; roots and historical keys are read whole (one row per day / per key).
public enum ChainCheck {
    static let rowsQuery = """
        SELECT id, tenant_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor, action, resource, \
        payload::text, encode(prev_hash, 'hex'), encode(row_hash, 'hex') FROM audit_logs ORDER BY id
        """

    /// Reads `transparency_roots` (empty when the table does not exist).
    public static func roots(_ target: PostgresTarget, client: DockerClient) async throws -> [TransparencyRoot] {
        try await target.query("""
            SELECT day, first_id, last_id, leaf_count, encode(root_hash, 'hex'), key_id, encode(signature, 'hex'),
            to_char(signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM transparency_roots ORDER BY day
            """, client: client).map { f in
            TransparencyRoot(day: f[0], firstID: Int64(f[1]) ?? -1, lastID: Int64(f[2]) ?? -1, leafCount: Int64(f[3]) ?? -1,
                             rootHash: ChainHash.bytes(hex: f[4]) ?? [], keyID: f[5], signature: ChainHash.bytes(hex: f[6]) ?? [],
                             signedAt: UTCTime.parse(f[7]) ?? 0)
        }
    }

    public static func keys(_ target: PostgresTarget, client: DockerClient) async throws -> [HistoricalKey] {
        try await target.query("""
            SELECT key_id, algorithm, encode(public_key, 'hex'), to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            coalesce(to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '') FROM transparency_historical_keys
            """, client: client).map { f in
            HistoricalKey(keyID: f[0], algorithm: f[1], publicKey: ChainHash.bytes(hex: f[2]) ?? [], validFrom: UTCTime.parse(f[3]) ?? 0,
                          validTo: f[4].isEmpty ? nil : UTCTime.parse(f[4]))
        }
    }

    /// Verifies the chain and its roots in `target` (normally `acp_audit`).
    public static func verify(_ target: PostgresTarget, client: DockerClient) async throws -> ChainReport {
        let roots = try await roots(target, client: client)
        let keys = try await keys(target, client: client)
        let verifier = Mutex(ChainVerifier(roots: roots, keys: keys))
        try await target.copyOut(rowsQuery, client: client) { line in
            let f = splitTabs(line)
            guard f.count == 9 else { throw QueryError(database: target.database, message: "unexpected audit_logs line with \(f.count) fields") }
            // id, time and the hex digests are never escaped by COPY: they are parsed from the bytes directly.
            let row = AuditRow(
                id: parseInt64(f[0]) ?? -1, tenantID: copyUnescape(f[1]) ?? "",
                occurredAt: UTCTime.parse(bytes: Array(f[2])) ?? 0, actor: copyUnescape(f[3]) ?? "",
                action: copyUnescape(f[4]) ?? "", resource: copyUnescape(f[5]) ?? "", payload: copyUnescape(f[6]) ?? "",
                prevHash: ChainHash.bytes(hexBytes: f[7]) ?? [], rowHash: ChainHash.bytes(hexBytes: f[8]) ?? [])
            verifier.withLock { $0.add(row) }
        }
        return verifier.withLock { $0.finish() }
    }
}

/// A decimal integer from bytes; nil for anything else.
func parseInt64(_ bytes: ArraySlice<UInt8>) -> Int64? {
    guard !bytes.isEmpty else { return nil }
    var value: Int64 = 0
    var negative = false
    var i = bytes.startIndex
    if bytes[i] == 45 { negative = true; i += 1 }
    guard i < bytes.endIndex else { return nil }
    while i < bytes.endIndex {
        let b = bytes[i]
        guard b >= 48, b <= 57 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(b - 48))
        guard !o1, !o2 else { return nil }
        value = a
        i += 1
    }
    return negative ? -value : value
}
