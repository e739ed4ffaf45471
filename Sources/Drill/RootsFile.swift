public import AuditChain
public import Foundation

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
        let decoder = JSONDecoder()
        var lines: [Line] = []
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("[") {
            do { lines = try decoder.decode([Line].self, from: Data(text.utf8)) } catch { throw DrillError(.configuration, "\(source): not a JSON array of roots: \(error)") }
        } else {
            for (i, raw) in text.split(separator: "\n").enumerated() where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
                do { lines.append(try decoder.decode(Line.self, from: Data(raw.utf8))) } catch {
                    throw DrillError(.configuration, "\(source): line \(i + 1) is not a root (day, first_id, last_id, root_hash, …)")
                }
            }
        }
        return try lines.map { l throws(DrillError) in
            guard let hash = ChainHash.bytes(hex: l.root_hash) else { throw DrillError(.configuration, "\(source): day \(l.day): root_hash is not hex") }
            return TransparencyRoot(day: String(l.day.prefix(10)), firstID: l.first_id, lastID: l.last_id, leafCount: l.leaf_count ?? (l.last_id - l.first_id + 1),
                                    rootHash: hash, keyID: l.key_id ?? "", signature: l.signature.flatMap { ChainHash.bytes(hex: $0) } ?? [],
                                    signedAt: l.signed_at.flatMap { UTCTime.parse($0) } ?? 0)
        }
    }
}
