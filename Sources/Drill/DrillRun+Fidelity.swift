import Common
import Evidence
import Repository
import Sandbox
import Synchronization

/// Roles before the restore, owners and privileges after it (docs/EVIDENCE.md): a set that carries its
/// evidence is restored as production had it, not owned by the sandbox's superuser.
extension DrillRun {
    /// Creates the set's roles from its globals object; nil for a set without one (an older format).
    func restoreRoles(_ globals: [UInt8]?, manifest: Manifest, sandbox: Sandbox) async throws -> RoleRestore.Outcome? {
        guard manifest.object(kind: "globals") != nil else { return nil }
        guard let globals else {
            ledger.line("roles: the set's globals object did not decrypt (see decrypt.globals); databases restore without their roles")
            return RoleRestore.Outcome(errors: ["the globals object did not decrypt"])
        }
        guard let pg = sandbox.service(role: .postgres) else { return nil }
        let target = PostgresTarget.superuser(of: pg, backend: sandbox.backend)
        return try await stage("roles") {
            let outcome = try await RoleRestore(target: target).run(globals: globals, roles: manifest.roles, loginPassword: options.loginPassword)
            ledger.line("roles: \(outcome.applied) statement(s) of the globals, \(outcome.loginRoles.count) login role(s) given the drill's login password"
                        + (outcome.errors.isEmpty ? "" : "; \(outcome.errors.count) error(s)") + (outcome.refused.isEmpty ? "" : "; \(outcome.refused.count) refused"))
            return outcome
        }
    }

    /// Applies each restored database's owner and privilege statements as the sandbox's superuser.
    func restorePrivileges(_ restored: Restored) async throws -> [String: PrivilegeRestore.Outcome] {
        guard !restored.privileges.isEmpty else { return [:] }
        return try await stage("privileges") {
            let out = Mutex<[String: PrivilegeRestore.Outcome]>([:])
            try await Concurrently.forEach(restored.databases.filter { restored.privileges[$0] != nil }, limit: max(1, options.jobs)) { db in
                let outcome = try await PrivilegeRestore.apply(restored.privileges[db]!, target: restored.target.database(db))
                out.withLock { $0[db] = outcome }
            }
            return out.withLock { $0 }
        }
    }
}
