import CSHA256
import Crypto

/// The chain's hash function (docs/DESIGN.md §8):
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

    /// Decodes hex digits straight from bytes (a COPY field), without building a String: the verifier
    /// decodes two 64-digit hashes per row. An optional `\\x` prefix (PostgreSQL's bytea text) is skipped.
    /// Concrete, not generic, so that callers in other modules run the specialised loop.
    public static func bytes(hexBytes input: ArraySlice<UInt8>) -> [UInt8]? {
        var start = input.startIndex
        if input.count >= 2, input[start] == 92, input[start + 1] == 120 { start += 2 }
        let count = input.endIndex - start
        guard count % 2 == 0 else { return nil }
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: count / 2) { buffer, initialized in
            var i = start
            while i < input.endIndex {
                let hi = nibble(input[i]), lo = nibble(input[i + 1])
                if hi > 15 || lo > 15 { valid = false; break }
                buffer[initialized] = hi << 4 | lo
                initialized += 1
                i += 2
            }
        }
        return valid ? out : nil
    }

    public static func bytes(hex: String) -> [UInt8]? { bytes(hexBytes: ArraySlice(hex.utf8)) }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 48 ... 57: return c - 48
        case 97 ... 102: return c - 87
        case 65 ... 70: return c - 55
        default: return 255
        }
    }
}

/// Recomputes row hashes from raw column bytes (PostgreSQL's binary COPY format) without building
/// Strings: the verifier's per-row path. One scratch buffer is reused for every row; the row's bytes are
/// laid out in it with one exclusive access and hashed with a stack context (`CSHA256`).
public struct RowHasher: Sendable {
    private var scratch: [UInt8] = []

    public init() { scratch = [UInt8](repeating: 0, count: 4096) }

    /// `row_hash` of one row: `tenant` is the 16 bytes of the uuid, `occurredAt` UTC microseconds since
    /// 1970, the text fields their UTF-8 bytes (`payload` is jsonb's text output).
    public mutating func rowHash(
        prev: UnsafeRawBufferPointer, id: Int64, tenant: UnsafeRawBufferPointer, occurredAt: Int64,
        actor: UnsafeRawBufferPointer, action: UnsafeRawBufferPointer, resource: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer
    ) -> Hash32 {
        // prev, then seven length-prefixed fields: id (at most 20 digits), tenant (36), occurred_at (27), the texts.
        let size = prev.count + 7 * 4 + 20 + 36 + 27 + actor.count + action.count + resource.count + payload.count
        if scratch.count < size { scratch = [UInt8](repeating: 0, count: max(size, scratch.count * 2)) }
        return scratch.withUnsafeMutableBufferPointer { buffer -> Hash32 in
            let out = buffer.baseAddress!
            var n = 0
            func length(_ v: Int) {
                let v = UInt32(v)
                out[n] = UInt8(v >> 24); out[n + 1] = UInt8(v >> 16 & 0xff); out[n + 2] = UInt8(v >> 8 & 0xff); out[n + 3] = UInt8(v & 0xff)
                n += 4
            }
            func field(_ bytes: UnsafeRawBufferPointer) {
                length(bytes.count)
                if let base = bytes.baseAddress, bytes.count > 0 { (out + n).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
                n += bytes.count
            }
            if let base = prev.baseAddress, prev.count > 0 { out.update(from: base.assumingMemoryBound(to: UInt8.self), count: prev.count) }
            n = prev.count
            // id in decimal
            var v = id.magnitude
            var digits = 0
            repeat { digits += 1; v /= 10 } while v > 0
            let idCount = digits + (id < 0 ? 1 : 0)
            length(idCount)
            v = id.magnitude
            for k in stride(from: idCount - 1, through: id < 0 ? 1 : 0, by: -1) { out[n + k] = UInt8(48 + v % 10); v /= 10 }
            if id < 0 { out[n] = 45 }
            n += idCount
            // tenant_id: lower-case hyphenated uuid
            length(36)
            let hex: StaticString = "0123456789abcdef"
            hex.withUTF8Buffer { hex in
                for (i, byte) in tenant.prefix(16).enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 { out[n] = 45; n += 1 }
                    out[n] = hex[Int(byte >> 4)]; out[n + 1] = hex[Int(byte & 15)]
                    n += 2
                }
            }
            // occurred_at, canonical
            length(27)
            UTCTime.canonical(micros: occurredAt, into: out + n)
            n += 27
            field(actor); field(action); field(resource); field(payload)
            var digest = Hash32.zero
            withUnsafeMutableBytes(of: &digest) { d in
                csha256(out, n, d.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            return digest
        }
    }
}
