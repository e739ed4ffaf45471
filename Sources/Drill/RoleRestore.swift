import Common
import Evidence
import Foundation
import Sandbox

/// The set's roles, created in the sandbox before any database is restored (docs/EVIDENCE.md): the globals
/// object's role statements (`RoleStatements`: validated forms only) run as the sandbox's superuser, then
/// every login role of the set gets the drill's login password (`RESTORE_DB_PASSWORD`, else one generated
/// per drill and shown only where a kept sandbox is announced). Passwords travel on psql's standard input,
/// never in an argument list, a log or the report.
struct RoleRestore: Sendable {
    let target: PostgresTarget

    /// What became of the roles.
    struct Outcome: Sendable {
        var applied = 0
        /// Statements the server refused (other than a role the sandbox already has), with its message.
        var errors: [String] = []
        /// Statements of the globals that failed validation and were not run.
        var refused: [String] = []
        var loginRoles: [String] = []
    }

    func run(globals: [UInt8], roles: [RoleEvidence]?, loginPassword: String) async throws -> Outcome {
        let selection = RoleStatements.select(from: String(decoding: globals, as: UTF8.self))
        var outcome = Outcome(refused: selection.refused)
        let script = (["SET client_min_messages = warning;"] + selection.accepted).joined(separator: "\n") + "\n"
        let r = try await target.backend.run(["psql", "-X", "-q", "-d", "postgres"], in: target.service, env: target.env, stdin: BytesInput(script))
        outcome.errors = PsqlErrors.lines(r.stderrText).filter { !$0.contains("already exists") }
        outcome.applied = selection.accepted.count
        // Login roles: the set's evidence says which; the sandbox's own superuser keeps its password.
        let login = (roles ?? []).filter { $0.canLogin && $0.name != target.user }.map(\.name)
        if !login.isEmpty {
            var lines = ["SET log_statement = 'none';", "SET log_min_duration_statement = -1;", "\\set pw \(Self.psqlQuoted(loginPassword))"]
            for (i, role) in login.enumerated() {
                lines.append("\\set r\(i) \(Self.psqlQuoted(role))")
                lines.append("ALTER ROLE :\"r\(i)\" PASSWORD :'pw';")
            }
            let p = try await target.backend.run(["psql", "-X", "-q", "-d", "postgres"], in: target.service, env: target.env,
                                                 stdin: BytesInput(lines.joined(separator: "\n") + "\n"))
            outcome.errors += PsqlErrors.lines(p.stderrText)
            outcome.loginRoles = login
        }
        return outcome
    }

    /// A value quoted for a psql meta-command argument (`'…'`, `''` for a quote, `\\` for a backslash).
    static func psqlQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// psql's `ERROR:` lines (with their statement position dropped), for evidence.
enum PsqlErrors {
    static func lines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "ERROR:") else { return nil }
            return String(line[r.lowerBound...]).trimmingCharacters(in: .whitespaces)
        }
    }
}
