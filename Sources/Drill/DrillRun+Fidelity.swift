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
        let instances = sandbox.services.filter { $0.role == .postgres }
        guard !instances.isEmpty else { return nil }
        return try await stage("roles") {
            // On every instance: a database's roles are wherever it is restored.
            let outcomes = Mutex<[String: RoleRestore.Outcome]>([:])
            try await Concurrently.forEach(instances, limit: instances.count) { pg in
                let target = PostgresTarget.superuser(of: pg, backend: sandbox.backend)
                let o = try await RoleRestore(target: target).run(globals: globals, roles: manifest.roles, loginPassword: self.options.loginPassword)
                outcomes.withLock { $0[pg.name] = o }
            }
            let all = outcomes.withLock { $0 }
            var outcome = all[instances[0].name]!
            for pg in instances.dropFirst() { outcome.errors += (all[pg.name]?.errors ?? []).map { "\(pg.name): \($0)" } }
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
                let outcome = try await PrivilegeRestore.apply(restored.privileges[db]!, target: restored.target(for: db))
                out.withLock { $0[db] = outcome }
            }
            return out.withLock { $0 }
        }
    }
}
