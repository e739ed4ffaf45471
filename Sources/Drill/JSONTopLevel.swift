/// Reads one key of a JSON object's top level from its text, as PostgreSQL's `->>` gives it: a string's
/// contents unescaped, any other value's text, nil when the key is absent, the value is `null`, or the text
/// is not an object. It reads jsonb's own output (what binary COPY carries), whose keys are unique and
/// written with only the escapes they need, so a key is matched by its bytes. Reconcile takes a
/// `tool.execute` row's `units` from the payload the chain's pass already has, rather than asking the
/// server to extract it from every row a second time.
enum JSONTopLevel {
    private static let nullText = Array("null".utf8)

    static func value(_ key: [UInt8], in text: UnsafeRawBufferPointer) -> [UInt8]? {
        var i = 0
        let n = text.count
        func skipSpace() { while i < n, text[i] == 32 || text[i] == 9 || text[i] == 10 || text[i] == 13 { i += 1 } }
        /// Past a string whose opening quote is at `i`; returns the range of its contents.
        func string() -> Range<Int>? {
            guard i < n, text[i] == 34 else { return nil }
            let start = i + 1
            i = start
            while i < n {
                if text[i] == 92 { i += 2; continue }
                if text[i] == 34 { i += 1; return start ..< i - 1 }
                i += 1
            }
            return nil
        }
        /// Past any value starting at `i`; returns its range.
        func value() -> Range<Int>? {
            guard i < n else { return nil }
            let start = i
            switch text[i] {
            case 34:
                guard string() != nil else { return nil }
            case 123, 91:
                var depth = 0
                while i < n {
                    switch text[i] {
                    case 34: guard string() != nil else { return nil }; continue
                    case 123, 91: depth += 1
                    case 125, 93: depth -= 1
                    default: break
                    }
                    i += 1
                    if depth == 0 { break }
                }
                guard depth == 0 else { return nil }
            default:
                scan: while i < n {
                    switch text[i] {
                    case 44, 125, 93, 32, 9, 10, 13: break scan
                    default: i += 1
                    }
                }
            }
            return start ..< i
        }
        skipSpace()
        guard i < n, text[i] == 123 else { return nil }
        i += 1
        while true {
            skipSpace()
            guard i < n, text[i] != 125, let name = string() else { return nil }
            skipSpace()
            guard i < n, text[i] == 58 else { return nil }
            i += 1
            skipSpace()
            guard let range = value() else { return nil }
            if name.count == key.count, zip(text[name], key).allSatisfy({ $0 == $1 }) {
                if text[range.lowerBound] == 34 { return unescape(text[range.lowerBound + 1 ..< range.upperBound - 1]) }
                let raw = text[range]
                return raw.elementsEqual(nullText) ? nil : Array(raw)
            }
            skipSpace()
            guard i < n, text[i] == 44 else { return nil }
            i += 1
        }
    }

    /// A JSON string's contents without its escapes; a `\u` escape outside ASCII stays as it was written
    /// (what is read here is then compared or parsed as a number, never shown).
    static func unescape(_ s: Slice<UnsafeRawBufferPointer>) -> [UInt8] {
        guard s.contains(92) else { return Array(s) }
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            guard c == 92, i + 1 < s.endIndex else { out.append(c); i += 1; continue }
            let e = s[i + 1]
            switch e {
            case 98: out.append(8)
            case 102: out.append(12)
            case 110: out.append(10)
            case 114: out.append(13)
            case 116: out.append(9)
            case 117 where i + 5 < s.endIndex:
                let hex = String(decoding: s[i + 2 ... i + 5], as: UTF8.self)
                if let v = UInt8(hex, radix: 16), v < 128, hex.hasPrefix("00") {
                    out.append(v)
                } else {
                    out.append(contentsOf: s[i ... i + 5])
                }
                i += 6
                continue
            default: out.append(e)
            }
            i += 2
        }
        return out
    }
}
