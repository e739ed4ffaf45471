import Common
import Evidence
import Foundation
import Repository
import Sandbox
import Synchronization

/// What the restore left for the checks: the databases that restored, and where they are.
struct Restored: Sendable {
    var databases: [String]
    /// The first Postgres instance, as its superuser (roles, the `postgres` database).
    var target: PostgresTarget
    var sandbox: Sandbox
    /// Each restored database's owner and privilege statements, read out of its dump (sets with evidence).
    var privileges: [String: PrivilegeStatements.Selection] = [:]
    /// Each database's instance as its superuser, when the set is spread over several.
    var instances: [String: PostgresTarget] = [:]

    /// The database on its own instance, as that instance's superuser.
    func target(for db: String) -> PostgresTarget { (instances[db] ?? target).database(db) }
}

/// The restore stage: every dump the decrypt stage streamed into the sandbox's Postgres is listed, created
/// and restored there (`RestoreScript`) under one job budget (`RestorePlan`) per instance, then removed.
/// Records `list.<db>` and `restore.<db>` checks and a `restore.<db>` stage each. With several instances
/// (`placement`: a swarm's nodes), each restores its own databases at once with its own budget: they are
/// on machines of their own.
struct DatabaseRestore: Sendable {
    let sandbox: Sandbox
    let jobs: Int
    let budgetPerDatabase: Double
    let ledger: DrillLedger
    /// Database → its Postgres instance; empty: every database on the first.
    var placement: [String: Sandbox.Service] = [:]

    static let folder = "/tmp/acp-drill-restore"

    /// Restores the dumps already decrypted into the sandbox (database → plaintext bytes).
    /// With `fidelity` (a set that carries evidence and its roles), each dump's owner and privilege
    /// statements are read out of it once it restored, to be applied after the replay (`PrivilegeRestore`).
    func run(_ dumps: [String: Int64], manifest: Manifest, fidelity: Bool = false) async throws -> Restored {
        guard let first = sandbox.service(role: .postgres) else {
            throw SandboxError(code: .notFound, message: "the drill stack has no Postgres service (x-acp-drill-role: postgres)")
        }
        let instanceOf = { (db: String) in placement[db] ?? first }
        var found: [String: PostgresTarget] = [:]
        for pg in sandbox.services where pg.role == .postgres && (pg.name == first.name || placement.values.contains { $0.name == pg.name }) {
            var direct = PostgresTarget.superuser(of: pg, backend: sandbox.backend)
            direct.directAddress = await direct.reachableAddress(pg.address)
            if let address = direct.directAddress { ledger.line("bulk reads (verify-chain, reconcile) go straight to \(address):5432 from the host") }
            found[pg.name] = direct
        }
        let targets = found
        let firstTarget = targets[first.name]!
        if let v = try? await firstTarget.query("SHOW server_version").first?.first { ledger.setServerVersion(v) }
        let sizes = manifest.dumpSizes
        let restored = Mutex<[String]>([])
        let privileges = Mutex<[String: PrivilegeStatements.Selection]>([:])
        let byInstance = Dictionary(grouping: dumps.keys, by: { instanceOf($0).name })
        try await Concurrently.forEach(byInstance.keys.sorted(), limit: max(1, byInstance.count)) { instance in
            let target = targets[instance]!
            let plainSizes = dumps.filter { byInstance[instance]!.contains($0.key) }
            try await RestorePlan(sizes: plainSizes, jobs: jobs).run { item in
                if try await self.restoreOne(item.database, jobs: item.jobs, target: target,
                                             dumpBytes: sizes[item.database] ?? 0, plainBytes: plainSizes[item.database]) {
                    restored.withLock { $0.append(item.database) }
                    guard fidelity else { return }
                    do {
                        let selection = try await PrivilegeRestore.read("\(Self.folder)/\(item.database).dump", target: target.database(item.database))
                        privileges.withLock { $0[item.database] = selection }
                    } catch {
                        if Task.isCancelled { throw CancellationError() }
                        self.ledger.line("\(item.database): \(error)")
                    }
                }
            }
        }
        let done = restored.withLock { $0 }
        for (instance, target) in targets {
            _ = try? await sandbox.run(["rm", "-rf", Self.folder], in: target.service)
            // Restored: the databases open to other roles again (an exercise's app role), as PostgreSQL's default.
            let mine = done.filter { instanceOf($0).name == instance }
            guard !mine.isEmpty else { continue }
            let grant = #"for db; do printf '%s\n' 'GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO PUBLIC;' | psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$db" || exit 1; done"#
            _ = try? await sandbox.run(["sh", "-c", grant, "sh"] + mine, in: target.service, env: target.env)
        }
        return Restored(databases: done.sorted(), target: firstTarget, sandbox: sandbox, privileges: privileges.withLock { $0 },
                        instances: placement.isEmpty ? [:] : Dictionary(uniqueKeysWithValues: dumps.keys.map { ($0, targets[instanceOf($0).name]!) }))
    }

    /// Lists, creates and restores one database; returns whether it was restored.
    func restoreOne(_ db: String, jobs: Int, target: PostgresTarget, dumpBytes: Int64, plainBytes: Int64?) async throws -> Bool {
        let file = "\(Self.folder)/\(db).dump"
        var database = DrillReport.Database(name: db, dumpBytes: dumpBytes, plaintextBytes: plainBytes, jobs: jobs, restoreSeconds: nil, restored: false, rowCounts: [:])
        if !placement.isEmpty { database.instance = target.service.name }
        database.node = target.service.node
        defer { ledger.add(database) }
        // One transaction per database when it has one job (with wal_level=minimal, COPY into a table
        // created in the same transaction writes no WAL).
        let how = jobs > 1 ? "-j \(jobs)" : "--single-transaction"
        ledger.line("restoring \(db) (pg_restore \(how))" + (placement.isEmpty ? "" : " on \(target.service.name)") + (target.service.node.map { ", node \($0)" } ?? ""))
        let restoreArgs = ["--exit-on-error", "--no-owner", "--no-privileges", "--no-tablespaces"]
            + (jobs > 1 ? ["-j", String(jobs)] : ["--single-transaction"]) + ["-d", db, file]
        let offset = ledger.elapsed
        let t0 = ContinuousClock.now
        let role = RestoreScript.restoreRole(for: db)
        let r = try await sandbox.run(["sh", "-c", RestoreScript.text, "sh", file, db, role] + restoreArgs, in: target.service, env: target.env)
        let seconds = (ContinuousClock.now - t0).inSeconds
        let errorText = r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        // 1. The table of contents must be readable.
        guard r.exitCode != RestoreScript.listFailed else {
            ledger.check("list.\(db)", .core, .failed, "pg_restore --list: \(errorText)",
                         fix: "the decrypted object is not a pg_dump custom-format archive (pg_dump --format=custom), or was written by a newer pg_dump than the sandbox's")
            return false
        }
        let lines = r.stdoutText.split(separator: "\n")
        let entries = lines.filter { !$0.hasPrefix(";") }.count
        let header = { (key: String) in
            lines.first { $0.hasPrefix(";") && $0.contains("\(key):") }.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        }
        database.archiveDatabase = header("dbname")
        ledger.check("list.\(db)", .core, .passed, "pg_restore --list reads \(entries) entries (dumped from \(header("Dumped from database version").map { "PostgreSQL \($0)" } ?? "?"), encoding \(header("Encoding") ?? "?"), locale \(header("Locale") ?? "?"))")
        // 2. Created fresh, then restored.
        guard r.exitCode != RestoreScript.createFailed else {
            ledger.check("restore.\(db)", .core, .failed, "CREATE DATABASE: \(errorText)")
            return false
        }
        guard r.exitCode != RestoreScript.roleFailed else {
            ledger.check("restore.\(db)", .core, .failed, "setting up the restore role \(role): \(errorText)")
            return false
        }
        database.restoreSeconds = seconds
        ledger.record("restore.\(db)", offset: offset, seconds: seconds, budget: budgetPerDatabase, status: r.exitCode == 0 ? .done : .failed, detail: "pg_restore \(how)")
        guard r.exitCode == 0 else {
            let (statement, fix) = PgRestoreFailure.parse(r.stderrText)
            ledger.check("restore.\(db)", .core, .failed, "restored as \(role), without superuser: " + statement, fix: fix, seconds: seconds)
            return false
        }
        database.restored = true
        let bytes = plainBytes ?? dumpBytes
        ledger.check("restore.\(db)", .core, .passed, "pg_restore --exit-on-error \(how) as \(role) (no superuser): \(entries) entries in \(String(format: "%.1f", seconds)) s (\(Rate.text(bytes, seconds)))", seconds: seconds)
        return true
    }
}
