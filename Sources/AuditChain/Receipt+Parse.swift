extension Receipt {
    /// The fields a receipt must carry, in the order `line()` writes them.
    static let fields = ["receipt", "id", "tenant_id", "occurred_at", "actor", "action", "resource", "payload", "prev_hash", "row_hash"]

    /// Reads one receipt line (without its `\n`). Strict: a flat JSON object of strings and integers, every
    /// field present once, the version known, the time canonical, the hashes 64 hex digits. Unknown fields
    /// are ignored (a later v1 writer may add some); a field given twice is refused, since two readers could
    /// take different ones.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(ReceiptParseError) -> Receipt {
        var p = FlatJSON(bytes)
        let values = try p.object()
        func string(_ name: String) throws(ReceiptParseError) -> String {
            guard let v = values[name] else { throw ReceiptParseError("the field \"\(name)\" is missing") }
            guard case .string(let s) = v else { throw ReceiptParseError("the field \"\(name)\" is not a string") }
            return s
        }
        let version = try string("receipt")
        guard version == Self.version else { throw ReceiptParseError("unknown receipt version \"\(version.prefix(40))\" (this acp-drill reads \(Self.version))") }
        guard let idValue = values["id"] else { throw ReceiptParseError("the field \"id\" is missing") }
        guard case .integer(let id) = idValue, id > 0 else { throw ReceiptParseError("the field \"id\" is not a positive integer") }
        let at = try string("occurred_at")
        guard at.utf8.count == 27, let micros = UTCTime.parse(at), UTCTime.canonical(micros: micros) == at else {
            throw ReceiptParseError("id \(id): occurred_at \"\(at.prefix(40))\" is not the canonical YYYY-MM-DDTHH:MM:SS.ffffffZ")
        }
        func hash(_ name: String) throws(ReceiptParseError) -> [UInt8] {
            let text = try string(name)
            guard text.utf8.count == 64, let bytes = ChainHash.bytes(hex: text) else { throw ReceiptParseError("id \(id): \(name) is not 64 hex digits") }
            return bytes
        }
        let row = AuditRow(id: id, tenantID: try string("tenant_id"), occurredAt: micros, actor: try string("actor"), action: try string("action"),
                           resource: try string("resource"), payload: try string("payload"), prevHash: try hash("prev_hash"), rowHash: try hash("row_hash"))
        return Receipt(row: row)
    }

    public static func parse(_ text: String) throws(ReceiptParseError) -> Receipt { try parse(ArraySlice(text.utf8)) }
}

/// A reader of one flat JSON object (string and integer values only): the receipt's shape, read without
/// Foundation so that a replay reads tens of thousands of receipts a second.
struct FlatJSON {
    enum Value: Equatable {
        case string(String)
        case integer(Int64)
    }

    let b: ArraySlice<UInt8>
    var i: Int

    init(_ bytes: ArraySlice<UInt8>) {
        b = bytes
        i = bytes.startIndex
    }

    mutating func object() throws(ReceiptParseError) -> [String: Value] {
        var out: [String: Value] = [:]
        skipSpace()
        try expect(UInt8(ascii: "{"), "not a JSON object")
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return try end(out) }
        while true {
            skipSpace()
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"), "a ':' is missing after \"\(key.prefix(40))\"")
            skipSpace()
            let value: Value
            if peek == UInt8(ascii: "\"") { value = .string(try string()) } else { value = .integer(try integer(key)) }
            guard out.updateValue(value, forKey: key) == nil else { throw ReceiptParseError("the field \"\(key.prefix(40))\" is given twice") }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"), "a ',' or '}' is missing after \"\(key.prefix(40))\"")
            return try end(out)
        }
    }

    var peek: UInt8? { i < b.endIndex ? b[i] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 32 || c == 9 || c == 13 || c == 10 { i += 1 }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(ReceiptParseError) {
        guard peek == c else { throw ReceiptParseError(what + " (at byte \(i - b.startIndex))") }
        i += 1
    }

    mutating func end(_ out: [String: Value]) throws(ReceiptParseError) -> [String: Value] {
        skipSpace()
        guard i == b.endIndex else { throw ReceiptParseError("text after the object (at byte \(i - b.startIndex))") }
        return out
    }

    mutating func integer(_ key: String) throws(ReceiptParseError) -> Int64 {
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        while let c = peek, c >= 48, c <= 57 { i += 1 }
        guard let v = parseDecimal(b[start ..< i]) else {
            throw ReceiptParseError("the field \"\(key.prefix(40))\" is neither a string nor an integer (at byte \(start - b.startIndex))")
        }
        return v
    }

    func parseDecimal(_ s: ArraySlice<UInt8>) -> Int64? {
        var v: Int64 = 0
        var j = s.startIndex
        let negative = j < s.endIndex && s[j] == 45
        if negative { j += 1 }
        guard j < s.endIndex, s.endIndex - j <= 19, !(s[j] == 48 && s.endIndex - j > 1) else { return nil }
        while j < s.endIndex {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(s[j] - 48))
            guard !o1, !o2 else { return nil }
            v = a
            j += 1
        }
        return negative ? -v : v
    }

    /// A JSON string: escapes decoded (surrogate pairs joined), control characters and invalid UTF-8 refused.
    mutating func string() throws(ReceiptParseError) -> String {
        try expect(UInt8(ascii: "\""), "a string was expected")
        let start = i
        // The common case, no escapes: one validated copy.
        while let c = peek, c != 34, c != 92, c >= 0x20 { i += 1 }
        if peek == 34 {
            let raw = b[start ..< i]
            i += 1
            guard let s = String(validating: raw, as: UTF8.self) else { throw ReceiptParseError("a string is not valid UTF-8 (at byte \(start - b.startIndex))") }
            return s
        }
        var bytes = Array(b[start ..< i])
        while true {
            guard let c = peek else { throw ReceiptParseError("a string is not closed (at byte \(start - b.startIndex))") }
            i += 1
            switch c {
            case 34:
                guard let s = String(validating: bytes, as: UTF8.self) else { throw ReceiptParseError("a string is not valid UTF-8 (at byte \(start - b.startIndex))") }
                return s
            case 92:
                guard let e = peek else { throw ReceiptParseError("a string is not closed (at byte \(start - b.startIndex))") }
                i += 1
                switch e {
                case 34, 92, 47: bytes.append(e)
                case UInt8(ascii: "b"): bytes.append(8)
                case UInt8(ascii: "f"): bytes.append(12)
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "t"): bytes.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800 ..< 0xDC00).contains(scalar) {
                        guard peek == 92, i + 1 < b.endIndex, b[i + 1] == UInt8(ascii: "u") else { throw ReceiptParseError("a lone surrogate in a string (at byte \(i - b.startIndex))") }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00 ..< 0xE000).contains(low) else { throw ReceiptParseError("a lone surrogate in a string (at byte \(i - b.startIndex))") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw ReceiptParseError("a lone surrogate in a string (at byte \(i - b.startIndex))") }
                    bytes.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw ReceiptParseError("an unknown escape \\\(Character(Unicode.Scalar(e))) in a string (at byte \(i - b.startIndex))")
                }
            case 0 ..< 0x20: throw ReceiptParseError("a control character in a string (at byte \(i - 1 - b.startIndex))")
            default: bytes.append(c)
            }
        }
    }

    mutating func hex4() throws(ReceiptParseError) -> UInt32 {
        guard i + 4 <= b.endIndex else { throw ReceiptParseError("a \\u escape is cut short (at byte \(i - b.startIndex))") }
        var v: UInt32 = 0
        for _ in 0 ..< 4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 48 ... 57: d = UInt32(c - 48)
            case 97 ... 102: d = UInt32(c - 87)
            case 65 ... 70: d = UInt32(c - 55)
            default: throw ReceiptParseError("a \\u escape is not 4 hex digits (at byte \(i - b.startIndex))")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}
