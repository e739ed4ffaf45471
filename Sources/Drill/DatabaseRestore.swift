import Common
import Evidence
import Foundation
import Repository
import Sandbox
import Synchronization

/// What the restore left for the checks: the databases that restored, and where they are.
struct Restored: Sendable {
    var databases: [String]
    var target: PostgresTarget
    var sandbox: Sandbox
    /// Each restored database's owner and privilege statements, read out of its dump (sets with evidence).
    var privileges: [String: PrivilegeStatements.Selection] = [:]
}

/// The restore stage: every dump the decrypt stage streamed into the sandbox's Postgres is listed, created
/// and restored there (`RestoreScript`) under one job budget (`RestorePlan`), then removed. Records
/// `list.<db>` and `restore.<db>` checks and a `restore.<db>` stage each.
struct DatabaseRestore: Sendable {
    let sandbox: Sandbox
    let jobs: Int
    let budgetPerDatabase: Double
    let ledger: DrillLedger

    static let folder = "/tmp/acp-drill-restore"

    /// Restores the dumps already decrypted into the sandbox (database → plaintext bytes).
    /// With `fidelity` (a set that carries evidence and its roles), each dump's owner and privilege
    /// statements are read out of it once it restored, to be applied after the replay (`PrivilegeRestore`).
    func run(_ dumps: [String: Int64], manifest: Manifest, fidelity: Bool = false) async throws -> Restored {
        guard let pg = sandbox.service(role: .postgres) else {
            throw SandboxError(code: .notFound, message: "the drill stack has no Postgres service (x-acp-drill-role: postgres)")
        }
        var direct = PostgresTarget.superuser(of: pg, backend: sandbox.backend)
        direct.directAddress = await direct.reachableAddress(pg.address)
        let target = direct
        if let address = target.directAddress { ledger.line("bulk reads (verify-chain, reconcile) go straight to \(address):5432 from the host") }
        if let v = try? await target.query("SHOW server_version").first?.first { ledger.setServerVersion(v) }
        let sizes = Dictionary(manifest.objects.compactMap { o in o.database.map { ($0, o.size) } }, uniquingKeysWith: max)
        let plainSizes = dumps
        let restored = Mutex<[String]>([])
        let privileges = Mutex<[String: PrivilegeStatements.Selection]>([:])
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
        _ = try? await sandbox.run(["rm", "-rf", Self.folder], in: pg)
        // Restored: the databases open to other roles again (an exercise's app role), as PostgreSQL's default.
        let done = restored.withLock { $0 }
        if !done.isEmpty {
            let grant = #"for db; do printf '%s\n' 'GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO PUBLIC;' | psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$db" || exit 1; done"#
            _ = try? await sandbox.run(["sh", "-c", grant, "sh"] + done, in: target.service, env: target.env)
        }
        return Restored(databases: restored.withLock { $0 }.sorted(), target: target, sandbox: sandbox, privileges: privileges.withLock { $0 })
    }

    /// Lists, creates and restores one database; returns whether it was restored.
    func restoreOne(_ db: String, jobs: Int, target: PostgresTarget, dumpBytes: Int64, plainBytes: Int64?) async throws -> Bool {
        let file = "\(Self.folder)/\(db).dump"
        var database = DrillReport.Database(name: db, dumpBytes: dumpBytes, plaintextBytes: plainBytes, jobs: jobs, restoreSeconds: nil, restored: false, rowCounts: [:])
        defer { ledger.add(database) }
        // One transaction per database when it has one job (with wal_level=minimal, COPY into a table
        // created in the same transaction writes no WAL).
        let how = jobs > 1 ? "-j \(jobs)" : "--single-transaction"
        ledger.line("restoring \(db) (pg_restore \(how))")
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
