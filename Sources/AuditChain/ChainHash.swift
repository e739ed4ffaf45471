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
/// Strings: the verifier's per-row path. One scratch buffer is reused for every row.
public struct RowHasher: Sendable {
    private var scratch: [UInt8] = []

    public init() { scratch.reserveCapacity(4096) }

    /// `row_hash` of one row: `tenant` is the 16 bytes of the uuid, `occurredAt` UTC microseconds since
    /// 1970, the text fields their UTF-8 bytes (`payload` is jsonb's text output).
    public mutating func rowHash(
        prev: UnsafeRawBufferPointer, id: Int64, tenant: UnsafeRawBufferPointer, occurredAt: Int64,
        actor: UnsafeRawBufferPointer, action: UnsafeRawBufferPointer, resource: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer
    ) -> Hash32 {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: prev)
        // id in decimal
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let idCount = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            let b = raw.bindMemory(to: UInt8.self)
            var v = id.magnitude
            var n = 0
            repeat { b[23 - n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
            if id < 0 { b[23 - n] = 45; n += 1 }
            return n
        }
        appendLength(idCount)
        withUnsafeBytes(of: &digits) { scratch.append(contentsOf: $0[(24 - idCount)...]) }
        // tenant_id: lower-case hyphenated uuid
        appendLength(36)
        let hexDigits: StaticString = "0123456789abcdef"
        hexDigits.withUTF8Buffer { hex in
            for (i, byte) in tenant.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 { scratch.append(45) }
                scratch.append(hex[Int(byte >> 4)])
                scratch.append(hex[Int(byte & 15)])
            }
        }
        // occurred_at, canonical
        appendLength(27)
        let at = scratch.count
        scratch.append(contentsOf: repeatElement(0, count: 27))
        scratch.withUnsafeMutableBufferPointer { UTCTime.canonical(micros: occurredAt, into: $0.baseAddress! + at) }
        appendField(actor); appendField(action); appendField(resource); appendField(payload)
        return scratch.withUnsafeBytes { Hash32(SHA256.hash(data: $0)) }
    }

    private mutating func appendField(_ field: UnsafeRawBufferPointer) {
        appendLength(field.count)
        scratch.append(contentsOf: field)
    }

    private mutating func appendLength(_ n: Int) {
        let v = UInt32(n)
        scratch.append(UInt8(v >> 24)); scratch.append(UInt8(v >> 16 & 0xff)); scratch.append(UInt8(v >> 8 & 0xff)); scratch.append(UInt8(v & 0xff))
    }
}
