/// The statements of a globals object (`pg_dumpall --globals-only --no-role-passwords`) that recreate its
/// roles, picked out so the drill can run them as superuser before the restore: only these forms, each
/// token an identifier, a keyword or a number (`VALID UNTIL` takes its date string):
///
/// - `CREATE ROLE <role>;`
/// - `ALTER ROLE <role> WITH <attributes>;` (`LOGIN`, `SUPERUSER`, `CONNECTION LIMIT n`, … never a password)
/// - `GRANT <role> TO <role> [WITH ADMIN OPTION] [GRANTED BY <role>];`
/// - `ALTER ROLE <role> SET <name> TO <value>;` (not the preload-library settings)
///
/// `ALTER ROLE … IN DATABASE …` waits for its database: the dump's own properties carry it
/// (`PrivilegeStatements`). Tablespaces, comments and labels are not restored.
public enum RoleStatements {
    static let attributes: Set<String> = [
        "SUPERUSER", "NOSUPERUSER", "INHERIT", "NOINHERIT", "CREATEROLE", "NOCREATEROLE", "CREATEDB", "NOCREATEDB",
        "LOGIN", "NOLOGIN", "REPLICATION", "NOREPLICATION", "BYPASSRLS", "NOBYPASSRLS", "CONNECTION", "LIMIT", "VALID", "UNTIL",
    ]

    public static func select(from script: String) -> PrivilegeStatements.Selection {
        PrivilegeStatements.select(from: script, using: classify)
    }

    static func classify(_ statement: String) -> PrivilegeStatements.Verdict {
        let upper = statement.prefix(20).uppercased()
        let roleStatement = upper.hasPrefix("CREATE ROLE ") || upper.hasPrefix("ALTER ROLE ") || upper.hasPrefix("GRANT ")
        guard let tokens = PrivilegeStatements.Token.scan(statement), tokens.last?.text == ";" else {
            return roleStatement ? .refuse("not a plain role statement") : .ignore
        }
        let words = tokens.map(\.keyword)
        let body = Array(tokens.dropLast())
        if words.starts(with: ["CREATE", "ROLE"]) {
            return body.count == 3 && body[2].isName ? .accept : .refuse("CREATE ROLE takes a name only here")
        }
        if words.starts(with: ["ALTER", "ROLE"]), body.count >= 4, body[2].isName {
            if words[3] == "IN" { return .ignore }
            if words[3] == "WITH" {
                var i = 4
                while i < body.count {
                    let t = body[i]
                    if t.kind == .word, attributes.contains(t.keyword) { i += 1; continue }
                    if t.kind == .number || t.text == "-" { i += 1; continue }
                    if t.kind == .string, i >= 2, words[i - 1] == "UNTIL" { i += 1; continue }
                    return .refuse("ALTER ROLE … WITH \(t.text) is not a role attribute this restores")
                }
                return .accept
            }
            if words[3] == "SET" {
                let parameter = words.count > 4 ? words[4].lowercased() : ""
                return parameter.hasSuffix("preload_libraries") ? .refuse("\(parameter) loads a library at connection") : .accept
            }
            return .refuse("not an ALTER ROLE … WITH/SET")
        }
        if words.starts(with: ["GRANT"]) {
            guard !words.contains("ON"), let to = words.firstIndex(of: "TO") else { return .ignore }
            let names = body[1 ..< to].allSatisfy { $0.isName || $0.text == "," }
            var i = to + 1
            guard i < body.count, body[i].isName else { return .refuse("GRANT … TO needs a role") }
            i += 1
            var tail = Array(words[i ..< body.count])
            if tail.starts(with: ["WITH", "ADMIN", "OPTION"]) { tail.removeFirst(3) }
            if tail.starts(with: ["GRANTED", "BY"]), tail.count == 3, body[body.count - 1].isName { tail.removeAll() }
            return names && tail.isEmpty ? .accept : .refuse("not a plain GRANT <role> TO <role>")
        }
        return .ignore
    }
}
