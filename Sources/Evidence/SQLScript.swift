/// Splits a SQL script as pg_restore prints it into its top-level statements, the way the server's lexer
/// sees them: a `;` inside a string (`'…'`, `E'…'`), a quoted identifier, a dollar-quoted body (`$fn$ … $fn$`)
/// or a comment (`--`, nested `/* */`) ends nothing. psql's meta-commands (`\connect`, `\restrict`) and
/// comments are dropped; each statement keeps its final `;`, trimmed of surrounding whitespace.
public enum SQLScript {
    public static func statements(_ text: String) -> [String] {
        let s = Array(text.utf8)
        var out: [String] = []
        var start = 0
        var i = 0
        var atStatementStart = true
        func flush(to end: Int) {
            let piece = String(decoding: s[start ..< end], as: UTF8.self).trimmingWhitespace()
            if !piece.isEmpty { out.append(piece) }
        }
        while i < s.count {
            let c = s[i]
            if atStatementStart {
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; start = i; continue }
                if c == 0x5C {  // a meta-command: to the end of its line
                    while i < s.count && s[i] != 0x0A { i += 1 }
                    start = i
                    continue
                }
                atStatementStart = false
            }
            switch c {
            case 0x27:  // '…', with '' inside; E'…' also takes backslash escapes
                let escapes = i > 0 && (s[i - 1] == 0x45 || s[i - 1] == 0x65) && (i < 2 || !isWordByte(s[i - 2]))
                i += 1
                while i < s.count {
                    if escapes && s[i] == 0x5C { i += 2; continue }
                    if s[i] == 0x27 { if i + 1 < s.count && s[i + 1] == 0x27 { i += 2; continue }; break }
                    i += 1
                }
                i += 1
            case 0x22:  // "…", with "" inside
                i += 1
                while i < s.count { if s[i] == 0x22 { if i + 1 < s.count && s[i + 1] == 0x22 { i += 2; continue }; break }; i += 1 }
                i += 1
            case 0x2D where i + 1 < s.count && s[i + 1] == 0x2D:  // -- to the end of the line
                let commentStart = i
                while i < s.count && s[i] != 0x0A { i += 1 }
                if commentStart == start { start = i; atStatementStart = true }
            case 0x2F where i + 1 < s.count && s[i + 1] == 0x2A:  // /* … */, nested
                var depth = 1
                i += 2
                while i < s.count && depth > 0 {
                    if s[i] == 0x2F && i + 1 < s.count && s[i + 1] == 0x2A { depth += 1; i += 2 } else if s[i] == 0x2A && i + 1 < s.count && s[i + 1] == 0x2F { depth -= 1; i += 2 } else { i += 1 }
                }
            case 0x24:  // $tag$ … $tag$ (not $1, a parameter; not inside a word, as in a$b)
                if let tagEnd = dollarTagEnd(s, i), i == 0 || !isWordByte(s[i - 1]) {
                    let tag = Array(s[i ... tagEnd])
                    i = tagEnd + 1
                    while i < s.count {
                        if s[i] == 0x24 && i + tag.count <= s.count && Array(s[i ..< i + tag.count]) == tag { i += tag.count; break }
                        i += 1
                    }
                } else { i += 1 }
            case 0x3B:
                flush(to: i + 1)
                i += 1
                start = i
                atStatementStart = true
            default:
                i += 1
            }
        }
        if start < s.count { flush(to: s.count) }
        return out
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
    }

    /// The index of the closing `$` of a dollar-quote tag opening at `i`, or nil (a tag is `$`, then
    /// letters, digits or `_` not starting with a digit, then `$`).
    static func dollarTagEnd(_ s: [UInt8], _ i: Int) -> Int? {
        var j = i + 1
        if j < s.count && s[j] >= 0x30 && s[j] <= 0x39 { return nil }
        while j < s.count && s[j] != 0x24 {
            guard isWordByte(s[j]) else { return nil }
            j += 1
        }
        return j < s.count ? j : nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let f = scalars.first, f.isWhitespace { scalars.removeFirst() }
        while let l = scalars.last, l.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
