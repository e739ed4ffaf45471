/// An incremental parser of PostgreSQL's binary COPY format (`COPY … TO STDOUT (FORMAT binary)`):
/// an 11-byte signature, flags and a header extension, then per tuple a 16-bit field count and each
/// field as a 32-bit length (-1 for NULL) and its bytes, then a -1 trailer. Bytes arrive in chunks of any
/// size; each complete tuple is handed over as offsets into one buffer, without copying its fields.
struct CopyBinaryReader: Sendable {
    static let signature: [UInt8] = [80, 71, 67, 79, 80, 89, 10, 255, 13, 10, 0]

    struct FormatError: Error, Sendable, CustomStringConvertible {
        var message: String
        var description: String { "binary COPY stream: \(message)" }
    }

    /// One tuple: its fields as views into the reader's buffer, valid only during the callback.
    struct Row {
        let bytes: UnsafeRawBufferPointer
        let fields: UnsafeBufferPointer<Int>  // pairs: start, length (-1: NULL)

        var count: Int { fields.count / 2 }

        func field(_ i: Int) -> UnsafeRawBufferPointer? {
            let length = fields[2 * i + 1]
            guard length >= 0 else { return nil }
            return UnsafeRawBufferPointer(rebasing: bytes[fields[2 * i] ..< fields[2 * i] + length])
        }

        /// A big-endian integer field (int8, or int4/int2 widened); nil for NULL or another width.
        func integer(_ i: Int) -> Int64? {
            guard let f = field(i), [2, 4, 8].contains(f.count) else { return nil }
            var v: Int64 = f[0] & 0x80 != 0 ? -1 : 0
            for b in f { v = v << 8 | Int64(b) }
            return v
        }
    }

    private var buffer: [UInt8] = []
    private var headerRead = false
    private(set) var finished = false
    private var offsets: [Int] = []
    private(set) var rows = 0

    init() {}

    mutating func feed(_ chunk: UnsafeRawBufferPointer, row: (Row) throws -> Void) throws {
        guard !chunk.isEmpty else { return }
        guard !finished else { throw FormatError(message: "bytes after the trailer") }
        buffer.append(contentsOf: chunk)
        var pos = 0
        let consumed: Int = try buffer.withUnsafeBytes { raw in
            func int32(_ at: Int) -> Int { Int(Int32(bitPattern: UInt32(raw[at]) << 24 | UInt32(raw[at + 1]) << 16 | UInt32(raw[at + 2]) << 8 | UInt32(raw[at + 3]))) }
            if !headerRead {
                guard raw.count >= 19 else { return 0 }
                guard Array(raw[0 ..< 11]) == Self.signature else { throw FormatError(message: "no PGCOPY signature (not binary COPY output)") }
                let extLength = int32(15)
                guard extLength >= 0 else { throw FormatError(message: "bad header extension length") }
                guard raw.count >= 19 + extLength else { return 0 }
                pos = 19 + extLength
                headerRead = true
            }
            while raw.count - pos >= 2 {
                let fieldCount = Int(Int16(bitPattern: UInt16(raw[pos]) << 8 | UInt16(raw[pos + 1])))
                if fieldCount == -1 {
                    finished = true
                    pos += 2
                    guard pos == raw.count else { throw FormatError(message: "bytes after the trailer") }
                    break
                }
                guard fieldCount >= 0 else { throw FormatError(message: "bad field count \(fieldCount)") }
                var p = pos + 2
                offsets.removeAll(keepingCapacity: true)
                var complete = true
                for _ in 0 ..< fieldCount {
                    guard raw.count - p >= 4 else { complete = false; break }
                    let length = int32(p)
                    p += 4
                    if length < 0 { offsets.append(p); offsets.append(-1); continue }
                    guard raw.count - p >= length else { complete = false; break }
                    offsets.append(p); offsets.append(length)
                    p += length
                }
                guard complete else { break }
                try offsets.withUnsafeBufferPointer { try row(Row(bytes: raw, fields: $0)) }
                rows += 1
                pos = p
            }
            return pos
        }
        if consumed > 0 { buffer.removeFirst(consumed) }
    }

    /// The stream ended: it must have ended with the trailer.
    func finish() throws {
        guard finished else {
            throw FormatError(message: headerRead ? "ended after \(rows) rows without the trailer (\(buffer.count) bytes of a partial row)" : "ended before the header")
        }
    }
}
