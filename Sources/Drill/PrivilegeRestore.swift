import Common
import Evidence
import Foundation
import Sandbox

/// Owners and privileges, put back once the dump's own code has run contained (docs/EVIDENCE.md): the
/// restore runs `--no-owner --no-privileges` as the database's restore role; the dump's owner, GRANT,
/// REVOKE, default-privilege and database-property statements are then read out of it
/// (`pg_restore --create` without data, printed, never run) and only the validated forms
/// (`PrivilegeStatements`) run, as the sandbox's superuser, after the receipts replay. No statement of the
/// dump that could run code ever runs as superuser.
enum PrivilegeRestore {
    /// The owner and privilege statements of the dump at `file` in the sandbox.
    static func read(_ file: String, target: PostgresTarget) async throws -> PrivilegeStatements.Selection {
        let script = #"""
            list=$(mktemp) || exit 1
            pg_restore --list "$1" | grep -v -E '^[0-9]+; [0-9]+ [0-9]+ (TABLE DATA|BLOBS|SEQUENCE SET|MATERIALIZED VIEW DATA) ' > "$list"
            pg_restore --create --use-list="$list" --file=- "$1"; status=$?
            rm -f "$list"
            exit $status
            """#
        let r = try await target.backend.run(["sh", "-c", script, "sh", file], in: target.service, env: target.env, stdin: nil)
        guard r.exitCode == 0 else {
            throw QueryError(database: target.database, message: "reading the dump's owners and privileges: \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return PrivilegeStatements.select(from: r.stdoutText)
    }

    /// What applying them did.
    struct Outcome: Sendable {
        var applied = 0
        var errors: [String] = []
        var refused: [String] = []
    }

    /// Runs the accepted statements in `target`'s database, as its superuser; each failure is kept.
    static func apply(_ selection: PrivilegeStatements.Selection, target: PostgresTarget) async throws -> Outcome {
        var outcome = Outcome(refused: selection.refused)
        guard !selection.accepted.isEmpty else { return outcome }
        let script = (["SET client_min_messages = warning;"] + selection.accepted + ["RESET SESSION AUTHORIZATION;"]).joined(separator: "\n") + "\n"
        let r = try await target.backend.run(["psql", "-X", "-q", "-d", target.database], in: target.service, env: target.env, stdin: BytesInput(script))
        outcome.errors = PsqlErrors.lines(r.stderrText)
        outcome.applied = selection.accepted.count
        return outcome
    }
}
