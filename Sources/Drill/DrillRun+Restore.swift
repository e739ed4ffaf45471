import CurlHTTP
import DockerEngine
import Foundation
import Repository
import Sandbox
import Synchronization

/// Provision and restore: the sandbox comes up while the set downloads; the dumps are uploaded into the
/// Postgres container (one tar stream) and restored concurrently with `pg_restore --exit-on-error -j N`
/// under one job budget sized to the machine.
extension DrillRun {
    /// A restored database and its tables (`schema.table`).
    struct Restored: Sendable {
        var databases: [String]
        var target: PostgresTarget
        var sandbox: Sandbox
    }

    static let restoreDir = "/tmp/acp-drill-restore"

    func provision(_ project: SandboxProject) async throws -> Sandbox {
        var spec = options.spec
        if let pw = options.restorePassword, let i = spec.services.firstIndex(where: { $0.role == .postgres }) {
            spec.services[i].environment.append((name: "POSTGRES_PASSWORD", value: pw))
        }
        let sandbox = try await Sandbox.provision(spec, project: project, client: client, options: options.sandboxOptions, logger: logger) { line in
            self.emit(.line("  \(line)"))
        }
        for r in await sandbox.assertIsolation() {
            check(r.name, kind: "isolation", r.status, r.evidence,
                  fix: "the sandbox is not isolated from production: do not use its results; see acp-drill up --help for the isolation contract")
        }
        return sandbox
    }

    func restore(_ dumps: [String: String], manifest: Manifest, into sandbox: Sandbox, scratch: String) async throws -> Restored {
        guard let pg = sandbox.service(role: .postgres) else {
            throw SandboxError(code: .notFound, message: "the drill stack has no Postgres service (x-acp-drill-role: postgres)")
        }
        let target = PostgresTarget(containerID: pg.containerID, user: pg.postgresUser ?? "postgres", password: pg.postgresPassword ?? "", database: pg.postgresDatabase ?? "postgres")
        if let v = try? await target.query("SHOW server_version", client: client).first?.first { state.withLock { $0.serverVersion = v } }
        // Largest first, so that the long restore starts at once and the small ones fill in around it.
        let sizes = Dictionary(manifest.objects.compactMap { o in o.database.map { ($0, o.size) } }, uniquingKeysWith: max)
        let order = dumps.keys.sorted { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }
        let plainSizes = Dictionary(uniqueKeysWithValues: dumps.map { db, path in
            (db, ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0)
        })
        let total = plainSizes.values.reduce(0, +)
        emit(.line("uploading \(dumps.count) dump(s), \(total) bytes, into \(pg.containerName)"))
        let t0 = ContinuousClock.now
        let tar = try TarStream(entries: [TarEntry(name: "acp-drill-restore", content: .directory, mode: 0o755)]
            + order.map { TarEntry(name: "acp-drill-restore/\($0).dump", content: .file(path: dumps[$0]!), mode: 0o644) })
        try await client.putArchive(pg.containerID, path: "/tmp", tar: tar)
        // The host's plaintext goes as soon as the sandbox holds it.
        for path in dumps.values { try? FileManager.default.removeItem(atPath: path) }
        emit(.line("uploaded in \(String(format: "%.1f", Self.seconds(ContinuousClock.now - t0))) s (\(Self.rate(total, Self.seconds(ContinuousClock.now - t0))))"))

        // One job budget for the machine: as many restores at once as there are jobs; a database holding a
        // large share of the data gets -j over its tables and indexes, the small ones one job each.
        let jobs = max(1, options.jobs)
        let restored = Mutex<[String]>([])
        try await forEach(order, concurrency: jobs) { db in
            let share = total > 0 ? Double(plainSizes[db] ?? 0) / Double(total) : 0
            let j = share >= 0.25 ? jobs : 1
            if try await self.restoreOne(db, jobs: j, target: target, dumpBytes: sizes[db] ?? 0, plainBytes: plainSizes[db]) {
                restored.withLock { $0.append(db) }
            }
        }
        _ = try? await client.execCollect(pg.containerID, ["rm", "-rf", Self.restoreDir])
        return Restored(databases: restored.withLock { $0 }.sorted(), target: target, sandbox: sandbox)
    }

    /// Lists, creates and restores one database; returns whether it was restored.
    func restoreOne(_ db: String, jobs: Int, target: PostgresTarget, dumpBytes: Int64, plainBytes: Int64?) async throws -> Bool {
        let file = "\(Self.restoreDir)/\(db).dump"
        var database = DrillReport.Database(name: db, dumpBytes: dumpBytes, plaintextBytes: plainBytes, jobs: jobs, restoreSeconds: nil, restored: false, rowCounts: [:])
        defer { let d = database; state.withLock { $0.databases.append(d) } }
        // 1. The table of contents must be readable.
        let list = try await client.execCollect(target.containerID, ["pg_restore", "--list", file], env: target.env)
        guard list.exitCode == 0 else {
            check("list.\(db)", kind: "core", .failed, "pg_restore --list: \(list.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
                  fix: "the decrypted object is not a pg_dump custom-format archive (pg_dump --format=custom), or was written by a newer pg_dump than the sandbox's")
            return false
        }
        let lines = list.stdoutText.split(separator: "\n")
        let entries = lines.filter { !$0.hasPrefix(";") }.count
        let header = { (key: String) in lines.first { $0.contains(key) }.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } }
        let encoding = header("Encoding") ?? "UTF8"
        check("list.\(db)", kind: "core", .passed, "pg_restore --list reads \(entries) entries (dumped from \(header("Dumped from database version").map { "PostgreSQL \($0)" } ?? "?"), encoding \(encoding))")
        // 2. Created fresh, then restored.
        emit(.line("restoring \(db) (pg_restore -j \(jobs))"))
        let safeEncoding = encoding.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } ? encoding : "UTF8"
        let create = try await client.execCollect(target.containerID, ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c",
                                                                       "CREATE DATABASE \(Self.quoteIdent(db)) TEMPLATE template0 ENCODING '\(safeEncoding)'"], env: target.env)
        guard create.exitCode == 0 else {
            check("restore.\(db)", kind: "core", .failed, "CREATE DATABASE: \(create.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            return false
        }
        let offset = elapsed
        let t0 = ContinuousClock.now
        let r = try await client.execCollect(target.containerID, ["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", "--no-tablespaces",
                                                                  "-j", String(jobs), "-d", db, file], env: target.env)
        let seconds = Self.seconds(ContinuousClock.now - t0)
        database.restoreSeconds = seconds
        record("restore.\(db)", offset: offset, seconds: seconds, budget: options.budgets.restorePerDatabase, status: r.exitCode == 0 ? "done" : "failed", detail: "pg_restore -j \(jobs)")
        guard r.exitCode == 0 else {
            let (statement, fix) = Self.failingStatement(r.stderrText)
            check("restore.\(db)", kind: "core", .failed, statement, fix: fix, seconds: seconds)
            return false
        }
        database.restored = true
        let bytes = plainBytes ?? dumpBytes
        check("restore.\(db)", kind: "core", .passed, "pg_restore --exit-on-error -j \(jobs): \(entries) entries in \(String(format: "%.1f", seconds)) s (\(Self.rate(bytes, seconds)))", seconds: seconds)
        return true
    }

    /// pg_restore's error, the TOC entry and the statement that failed, and the runbook's fix for it.
    static func failingStatement(_ stderr: String) -> (String, String) {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let error = lines.first { $0.contains("ERROR:") || $0.contains("error:") } ?? lines.last ?? "pg_restore failed"
        let toc = lines.first { $0.contains("from TOC entry") }
        var command: String?
        if let i = stderr.range(of: "Command was: ") {
            command = String(stderr[i.upperBound...].prefix(600)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let detail = lines.first { $0.hasPrefix("DETAIL:") }
        var text = error
        if let detail { text += " \(detail)" }
        if let toc { text += "; \(toc)" }
        if let command { text += "; failing statement: \(command)" }
        let fix: String
        if error.contains("foreign key") || (command ?? "").contains("FOREIGN KEY") {
            fix = "pg_restore restores parents first and adds foreign keys after all the data, so rows in the dump violate the constraint: orphaned rows in production, or a partial dump (--table/--exclude-table). Fix the data at the source and take a new backup"
        } else if error.contains("role") && error.contains("does not exist") {
            fix = "the dump refers to a role the sandbox lacks: the drill restores with --no-owner --no-privileges; check for roles named in functions or policies"
        } else if error.contains("extension") || error.contains("could not open extension control file") {
            fix = "the sandbox's Postgres lacks an extension the database uses: add it to the drill image (compose/drill.yml)"
        } else {
            fix = "keep the sandbox (--keep) and rerun the failing statement by hand: acp-drill exec PROJECT postgres -- psql"
        }
        return (text, fix)
    }

    static func quoteIdent(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
