/// The statements of a dump that give its objects their owners and privileges, picked out of the SQL
/// pg_restore prints (`SQLScript`) so the drill can run them as superuser once the dump's own code has
/// run contained (docs/EVIDENCE.md §restore). Only these forms are taken, and only when every token is
/// an identifier, a number or punctuation (no string, no second statement), so none of them can run code:
///
/// - `ALTER <kind> <name> OWNER TO <role>;` (tables, schemas, functions, types, large objects, the database…)
/// - `GRANT … ON … TO …;` and `REVOKE … ON … FROM …;` (object privileges; never a role membership)
/// - `ALTER DEFAULT PRIVILEGES …;`
/// - `ALTER DATABASE <db> SET <name> TO <value>;`, `ALTER ROLE <role> IN DATABASE <db> SET …;` (string
///   values allowed; the preload-library settings refused)
/// - `SET SESSION AUTHORIZATION <role>;`, `RESET SESSION AUTHORIZATION;` (a grant by another grantor)
public enum PrivilegeStatements {
    /// What a script held.
    public struct Selection: Sendable, Equatable {
        /// The statements to run, in the script's order.
        public var accepted: [String] = []
        /// Statements of these forms that failed validation, with why.
        public var refused: [String] = []
    }

    public static func select(from script: String) -> Selection { select(from: script, using: classify) }

    /// The statements of `script` that `classify` accepts, and those it refuses with why.
    static func select(from script: String, using classify: (String) -> Verdict) -> Selection {
        var selection = Selection()
        for statement in SQLScript.statements(script) {
            switch classify(statement) {
            case .accept: selection.accepted.append(statement)
            case .refuse(let why): selection.refused.append("\(why): \(statement.prefix(160))")
            case .ignore: break
            }
        }
        return selection
    }

    enum Verdict: Equatable { case accept, refuse(String), ignore }

    static func classify(_ statement: String) -> Verdict {
        guard let tokens = Token.scan(statement) else {
            return looksLikePrivileges(statement) ? .refuse("not a plain statement") : .ignore
        }
        let words = tokens.map { $0.keyword }
        func starts(_ prefix: [String]) -> Bool { words.count >= prefix.count && Array(words.prefix(prefix.count)) == prefix }
        guard words.last == ";" else { return .ignore }
        let body = tokens.dropLast()
        let literals = body.contains { $0.kind == .string }
        if starts(["SET", "SESSION", "AUTHORIZATION"]) {
            return tokens.count == 5 && tokens[3].isName ? .accept : .refuse("SET SESSION AUTHORIZATION takes one role")
        }
        if starts(["RESET", "SESSION", "AUTHORIZATION"]) { return tokens.count == 4 ? .accept : .refuse("malformed RESET SESSION AUTHORIZATION") }
        if starts(["ALTER", "DEFAULT", "PRIVILEGES"]) { return literals ? .refuse("a string in ALTER DEFAULT PRIVILEGES") : .accept }
        if starts(["GRANT"]) || starts(["REVOKE"]) {
            guard words.contains("ON") else { return .refuse("a role membership is not a database's privilege") }
            return literals ? .refuse("a string in a GRANT/REVOKE") : .accept
        }
        if starts(["ALTER", "DATABASE"]) || starts(["ALTER", "ROLE"]), let set = words.firstIndex(of: "SET"),
           (starts(["ALTER", "DATABASE"]) && set == 3 && tokens[2].isName)
            || (starts(["ALTER", "ROLE"]) && set == 6 && words[3] == "IN" && words[4] == "DATABASE" && tokens[2].isName && tokens[5].isName) {
            let parameter = words.count > set + 1 ? words[set + 1].lowercased() : ""
            if parameter.hasSuffix("preload_libraries") { return .refuse("\(parameter) loads a library at connection") }
            return .accept
        }
        if starts(["ALTER"]), words.count >= 6, Array(words.suffix(4).prefix(2)) == ["OWNER", "TO"], tokens[tokens.count - 2].isName {
            return isOwnerChange(Array(tokens.dropLast(4))) ? .accept : .refuse("not a plain ALTER <kind> <name> OWNER TO <role>")
        }
        return .ignore
    }

    /// The kinds of object `ALTER <kind> <name> OWNER TO` names (longest first, so that
    /// `MATERIALIZED VIEW` wins over a name).
    static let ownedKinds: [[String]] = [
        ["FOREIGN", "DATA", "WRAPPER"], ["TEXT", "SEARCH", "CONFIGURATION"], ["TEXT", "SEARCH", "DICTIONARY"],
        ["MATERIALIZED", "VIEW"], ["FOREIGN", "TABLE"], ["LARGE", "OBJECT"], ["EVENT", "TRIGGER"], ["OPERATOR", "CLASS"],
        ["OPERATOR", "FAMILY"], ["PROCEDURAL", "LANGUAGE"], ["TABLE"], ["SEQUENCE"], ["VIEW"], ["SCHEMA"], ["FUNCTION"], ["PROCEDURE"],
        ["AGGREGATE"], ["ROUTINE"], ["TYPE"], ["DOMAIN"], ["DATABASE"], ["COLLATION"], ["CONVERSION"], ["OPERATOR"], ["PUBLICATION"],
        ["SUBSCRIPTION"], ["SERVER"], ["STATISTICS"], ["LANGUAGE"], ["TABLESPACE"],
    ]

    /// `ALTER <kind> <qualified name> [(<signature>)] [USING <method>]`, nothing more: one subcommand of
    /// ALTER TABLE could add a constraint that runs a function, so a comma outside a signature, or
    /// anything but names and types inside one, is refused.
    static func isOwnerChange(_ head: [Token]) -> Bool {
        let words = head.map(\.keyword)
        guard let kind = ownedKinds.first(where: { words.count > $0.count && Array(words[1 ... $0.count]) == $0 }) else { return false }
        var i = 1 + kind.count
        let operatorKind = kind.first == "OPERATOR"
        if kind == ["LARGE", "OBJECT"] { return head.count == i + 1 && head[i].kind == .number }
        // The qualified name: name (. name)*; an operator's last part may be its symbol.
        func namePart() -> Bool {
            guard i < head.count else { return false }
            if head[i].isName || (operatorKind && head[i].kind == .punctuation && !".,()[]".contains(head[i].text)) { i += 1; return true }
            return false
        }
        guard namePart() else { return false }
        while i < head.count, head[i].text == "." { i += 1; guard namePart() else { return false } }
        if i < head.count, head[i].text == "(" {
            var depth = 0
            repeat {
                let t = head[i]
                if t.text == "(" { depth += 1 } else if t.text == ")" { depth -= 1 } else if t.kind == .string { return false }
                guard depth <= 2 else { return false }
                i += 1
            } while i < head.count && depth > 0
            guard depth == 0 else { return false }
        }
        if i < head.count, words[i] == "USING" { i += 1; guard i < head.count, head[i].isName else { return false }; i += 1 }
        return i == head.count
    }

    static func looksLikePrivileges(_ statement: String) -> Bool {
        let upper = statement.prefix(40).uppercased()
        return ["GRANT ", "REVOKE ", "ALTER DEFAULT PRIVILEGES", "SET SESSION AUTHORIZATION", "ALTER DATABASE ", "ALTER ROLE "].contains { upper.hasPrefix($0) }
            || (upper.hasPrefix("ALTER ") && statement.uppercased().contains(" OWNER TO "))
    }

    /// One token of a privileges statement.
    struct Token: Equatable {
        enum Kind: Equatable { case word, quoted, number, string, punctuation }
        var kind: Kind
        var text: String
        /// Words upper-cased (keywords compare so); anything else as written.
        var keyword: String { kind == .word ? text.uppercased() : text }
        var isName: Bool { kind == .word || kind == .quoted }

        /// The tokens, or nil when something else is there (a dollar quote, a comment, a `;` before the end).
        static func scan(_ statement: String) -> [Token]? {
            let s = Array(statement.utf8)
            var out: [Token] = []
            var i = 0
            let operators = Set("+-*/<>=~!@#%^&|`?".utf8)
            while i < s.count {
                let c = s[i]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
                let start = i
                if SQLScript.isWordByte(c) && !(c >= 0x30 && c <= 0x39) {
                    while i < s.count && (SQLScript.isWordByte(s[i]) || s[i] == 0x24) { i += 1 }
                    out.append(Token(kind: .word, text: String(decoding: s[start ..< i], as: UTF8.self)))
                } else if c >= 0x30 && c <= 0x39 {
                    while i < s.count && s[i] >= 0x30 && s[i] <= 0x39 { i += 1 }
                    out.append(Token(kind: .number, text: String(decoding: s[start ..< i], as: UTF8.self)))
                } else if c == 0x22 || c == 0x27 {
                    i += 1
                    while i < s.count { if s[i] == c { if i + 1 < s.count && s[i + 1] == c { i += 2; continue }; break }; i += 1 }
                    guard i < s.count else { return nil }
                    if c == 0x27 && (s[start ..< i].contains(0x5C)) { return nil }  // no backslash in a string
                    i += 1
                    out.append(Token(kind: c == 0x22 ? .quoted : .string, text: String(decoding: s[start ..< i], as: UTF8.self)))
                } else if c == 0x3B {
                    guard s[(i + 1)...].allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) else { return nil }
                    out.append(Token(kind: .punctuation, text: ";"))
                    i = s.count
                } else if ".,()[]".utf8.contains(c) {
                    i += 1
                    out.append(Token(kind: .punctuation, text: String(UnicodeScalar(c))))
                } else if operators.contains(c) {
                    if c == 0x2D && i + 1 < s.count && s[i + 1] == 0x2D { return nil }
                    if c == 0x2F && i + 1 < s.count && s[i + 1] == 0x2A { return nil }
                    while i < s.count && operators.contains(s[i]) { i += 1 }
                    out.append(Token(kind: .punctuation, text: String(decoding: s[start ..< i], as: UTF8.self)))
                } else {
                    return nil
                }
            }
            return out
        }
    }
}
