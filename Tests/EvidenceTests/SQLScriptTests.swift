@testable import Evidence
import Testing

@Suite struct SQLScriptTests {
    @Test("statements end at a top-level ; only: strings, E-strings, quoted identifiers, dollar quotes and comments hide theirs")
    func table() {
        let cases: [(String, [String])] = [
            ("SELECT 1; SELECT 2;", ["SELECT 1;", "SELECT 2;"]),
            ("SELECT ';'; x;", ["SELECT ';';", "x;"]),
            ("SELECT 'it''s;'; y;", ["SELECT 'it''s;';", "y;"]),
            (#"SELECT E'a\';b'; z;"#, [#"SELECT E'a\';b';"#, "z;"]),
            (#"SELECT "a;""b"; w;"#, [#"SELECT "a;""b";"#, "w;"]),
            ("CREATE FUNCTION f() AS $$ GRANT x; $$; v;", ["CREATE FUNCTION f() AS $$ GRANT x; $$;", "v;"]),
            ("CREATE FUNCTION f() AS $body$ a; $$ b; $body$; v;", ["CREATE FUNCTION f() AS $body$ a; $$ b; $body$;", "v;"]),
            ("SELECT $1; u;", ["SELECT $1;", "u;"]),
            ("-- a comment; with a semicolon\nGRANT a ON b TO c;", ["GRANT a ON b TO c;"]),
            ("SELECT 1 /* a; /* nested; */ still; */ ; t;", ["SELECT 1 /* a; /* nested; */ still; */ ;", "t;"]),
            ("\\connect shop\nALTER TABLE t OWNER TO a;\n\\restrict abc\n", ["ALTER TABLE t OWNER TO a;"]),
            ("SELECT 'unterminated; x", ["SELECT 'unterminated; x"]),
        ]
        for (script, expected) in cases {
            #expect(SQLScript.statements(script) == expected, "\(script)")
        }
    }

    @Test("property: statements joined with ; and newlines split back into themselves, whatever their strings and bodies hold")
    func roundTrip() {
        var rng = SplitMix(seed: 42)
        let pieces = ["a", ";", "'", "''", "\"", "$$", "$x$", "--", "/*", "*/", "\n", " ", "\\", "é"]
        for _ in 0 ..< 500 {
            var statements: [String] = []
            for _ in 0 ..< Int.random(in: 1 ... 5, using: &rng) {
                // The payload may hold anything, inside a form that quotes it.
                let payload = (0 ..< Int.random(in: 0 ... 8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
                switch Int.random(in: 0 ... 2, using: &rng) {
                case 0: statements.append("SELECT '\(payload.replacingOccurrences(of: "'", with: "''"))';")
                case 1: statements.append("SELECT \"\(payload.replacingOccurrences(of: "\"", with: "\"\""))\";")
                default:
                    let body = payload.replacingOccurrences(of: "$q$", with: "")
                    statements.append(body.hasSuffix("$q") || body.hasSuffix("$") ? "SELECT 1;" : "DO $q$\(body)$q$;")
                }
            }
            #expect(SQLScript.statements(statements.joined(separator: "\n")) == statements)
        }
    }
}

/// A seeded generator, for properties that replay.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
