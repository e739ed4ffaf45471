import Crypto

/// The chain's hash function (DESIGN.md §5):
/// `row_hash = SHA-256(prev_hash || enc(id) || enc(tenant_id) || enc(occurred_at) || enc(actor) ||
/// enc(action) || enc(resource) || enc(payload))`, where `enc(x)` is a 4-byte big-endian byte length and
/// the UTF-8 text of x. Row 1's `prev_hash` is 32 zero bytes.
public enum ChainHash {
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// `enc(x)`: length-prefixed UTF-8.
    public static func enc(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }

    /// The row hash of `row`'s fields chained to `prev`.
    public static func rowHash(prev: [UInt8], id: Int64, tenantID: String, occurredAt: Int64, actor: String,
                               action: String, resource: String, payload: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prev)
        for field in [String(id), tenantID, UTCTime.canonical(micros: occurredAt), actor, action, resource, payload] {
            var text = field
            text.withUTF8 { utf8 in
                let n = UInt32(utf8.count)
                hasher.update(data: [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)])
                hasher.update(bufferPointer: UnsafeRawBufferPointer(utf8))
            }
        }
        return Array(hasher.finalize())
    }

    public static func rowHash(of row: AuditRow) -> [UInt8] {
        rowHash(prev: row.prevHash, id: row.id, tenantID: row.tenantID, occurredAt: row.occurredAt, actor: row.actor,
                action: row.action, resource: row.resource, payload: row.payload)
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func bytes(hex: String) -> [UInt8]? {
        var text = Substring(hex)
        if text.hasPrefix("\\x") { text = text.dropFirst(2) }
        guard text.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(text.count / 2)
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 2)
            guard let b = UInt8(text[i ..< j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }
}
