public import AuditChain
public import Foundation
import Common

/// Transparency roots kept apart from the database: the backup's `transparency_roots/<ts>.jsonl` snapshot
/// or a customer's archive (`--customer-roots`). One JSON object per line — or a JSON array of them — with
/// `day`, `first_id`, `last_id`, `leaf_count`, `root_hash` (hex), `key_id`, `signature` (hex), `signed_at`.
public enum RootsFile {
    struct Line: Decodable {
        var day: String
        var first_id: Int64
        var last_id: Int64
        var leaf_count: Int64?
        var root_hash: String
        var key_id: String?
        var signature: String?
        var signed_at: String?
    }

    public static func parse(_ data: Data, source: String) throws(DrillError) -> [TransparencyRoot] {
        let lines: [Line]
        do { lines = try JSONRecords.decode(Line.self, from: data) } catch {
            throw DrillError(.configuration, error.line.map { "\(source): line \($0) is not a root (day, first_id, last_id, root_hash, …)" }
                                                ?? "\(source): not a JSON array of roots: \(error.reason)")
        }
        return try lines.map { l throws(DrillError) in
            guard let hash = ChainHash.bytes(hex: l.root_hash) else { throw DrillError(.configuration, "\(source): day \(l.day): root_hash is not hex") }
            return TransparencyRoot(day: String(l.day.prefix(10)), firstID: l.first_id, lastID: l.last_id, leafCount: l.leaf_count ?? (l.last_id - l.first_id + 1),
                                    rootHash: hash, keyID: l.key_id ?? "", signature: l.signature.flatMap { ChainHash.bytes(hex: $0) } ?? [],
                                    signedAt: l.signed_at.flatMap { UTCTime.parse($0) } ?? 0)
        }
    }
}

/// The transparency keys an operator pins (`--transparency-keys`): JSON lines (or one array) of
/// `key_id`, `public_key` (hex, 32-byte Ed25519), `valid_from`, `valid_to` (RFC 3339; absent or null: still
/// valid), `algorithm` (`ed25519`), the columns of `transparency_historical_keys`.
public enum TransparencyKeysFile {
    struct Line: Decodable {
        var key_id: String
        var algorithm: String?
        var public_key: String
        var valid_from: String
        var valid_to: String?
    }

    public static func parse(_ data: Data, source: String) throws(DrillError) -> [HistoricalKey] {
        let lines: [Line]
        do { lines = try JSONRecords.decode(Line.self, from: data) } catch {
            throw DrillError(.configuration, error.line.map { "\(source): line \($0) is not a key (key_id, public_key, valid_from, valid_to)" }
                                                ?? "\(source): not a JSON array of keys")
        }
        guard !lines.isEmpty else { throw DrillError(.configuration, "\(source): no keys in the file") }
        return try lines.map { l throws(DrillError) in
            guard let key = ChainHash.bytes(hex: l.public_key), key.count == 32 else {
                throw DrillError(.configuration, "\(source): key \(l.key_id): public_key is not 32 bytes of hex")
            }
            guard let from = UTCTime.parse(l.valid_from) else { throw DrillError(.configuration, "\(source): key \(l.key_id): valid_from is not a time") }
            let to = try l.valid_to.map { t throws(DrillError) -> Int64 in
                guard let v = UTCTime.parse(t) else { throw DrillError(.configuration, "\(source): key \(l.key_id): valid_to is not a time") }
                return v
            }
            return HistoricalKey(keyID: l.key_id, algorithm: l.algorithm ?? "ed25519", publicKey: key, validFrom: from, validTo: to)
        }
    }
}
