/// PostgreSQL's COPY text format.
public enum CopyText {
    /// One value escaped for a COPY text line: backslash, tab, newline and carriage return.
    public static func escape(_ value: String) -> String {
        // Most values need nothing: returned as they are, without a copy.
        guard value.utf8.contains(where: { $0 == 92 || $0 == 9 || $0 == 10 || $0 == 13 }) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
