import CurlHTTP
import DockerEngine
import Foundation
import Repository
import Sandbox
import Synchronization

/// Provision and restore: the sandbox comes up while the set downloads; the dumps are uploaded into the
/// Postgres container (one tar stream) and restored concurrently with `pg_restore --exit-on-error` under
/// one job budget sized to the machine (`jobPlan`, `runPlan`).
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
        return try await Sandbox.provision(spec, project: project, client: client, options: options.sandboxOptions,
                                           holdBack: Sandbox.appServicesToHoldBack(spec), logger: logger) { line in
            self.emit(.line("  \(line)"))
        }
    }

    /// The isolation assertions, recorded as checks. A second run (after app services started) replaces
    /// the first's results: the report describes the stack as it was checked last.
    func assertIsolation(_ sandbox: Sandbox) async {
        let results = await sandbox.assertIsolation()
        state.withLock { $0.checks.removeAll { $0.kind == "isolation" } }
        for r in results {
            check(r.name, kind: "isolation", r.status, r.evidence,
                  fix: "the sandbox is not isolated from production: do not use its results; see acp-drill up --help for the isolation contract")
        }
    }

    /// DESIGN.md §3 "start dependent services": the stack's app services start once the data is restored,
    /// and only in a sandbox whose isolation held; then isolation is asserted again over the whole stack.
    func startHeldServices(_ sandbox: Sandbox) async throws {
        let held = Sandbox.appServicesToHoldBack(options.spec)
        guard !held.isEmpty else { return }
        let names = held.sorted().joined(separator: ", ")
        let isolated = state.withLock { s in !s.checks.contains { $0.kind == "isolation" && $0.status != "passed" && $0.status != "skipped" } }
        guard isolated else {
            check("services.start", kind: "core", .failed, "\(names) not started: the sandbox's isolation assertions failed")
            return
        }
        do {
            try await stage("services") {
                try await sandbox.start(held, from: options.spec) { line in self.emit(.line("  \(line)")) }
            }
            check("services.start", kind: "core", .passed, "started after the restore: \(names)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            check("services.start", kind: "core", .failed, "\(error)", fix: "see the service's logs: keep the sandbox (--keep) and run acp-drill exec PROJECT SERVICE -- …, or docker logs")
            return
        }
        await assertIsolation(sandbox)
    }

    func restore(_ plain: Plain, manifest: Manifest, into sandbox: Sandbox) async throws -> Restored {
        let dumps = plain.dumps
        guard let pg = sandbox.service(role: .postgres) else {
            throw SandboxError(code: .notFound, message: "the drill stack has no Postgres service (x-acp-drill-role: postgres)")
        }
        var direct = PostgresTarget(containerID: pg.containerID, user: pg.postgresUser ?? "postgres", password: pg.postgresPassword ?? "", database: pg.postgresDatabase ?? "postgres")
        direct.directAddress = await direct.reachableAddress(pg.address, client: client)
        let target = direct
        if let address = target.directAddress { emit(.line("bulk reads (verify-chain, reconcile) go straight to \(address):5432 from the host")) }
        if let v = try? await target.query("SHOW server_version", client: client).first?.first { state.withLock { $0.serverVersion = v } }
        let sizes = Dictionary(manifest.objects.compactMap { o in o.database.map { ($0, o.size) } }, uniquingKeysWith: max)
        let plainSizes = dumps.mapValues { FileDigest.size(path: $0) ?? 0 }
        let total = plainSizes.values.reduce(0, +)
        emit(.line("uploading \(dumps.count) dump(s), \(total) bytes, into \(pg.containerName)"))
        let t0 = ContinuousClock.now
        let tar = try TarStream(entries: [TarEntry(name: "acp-drill-restore", content: .directory, mode: 0o755)]
            + dumps.keys.sorted().map { TarEntry(name: "acp-drill-restore/\($0).dump", content: .file(path: dumps[$0]!), mode: 0o644) })
        try await client.putArchive(pg.containerID, path: "/tmp", tar: tar)
        // The host's plaintext goes as soon as the sandbox holds it.
        for path in dumps.values { try? FileManager.default.removeItem(atPath: path) }
        let upload = (ContinuousClock.now - t0).inSeconds
        emit(.line("uploaded in \(String(format: "%.1f", upload)) s (\(Self.rate(total, upload)))"))

        let restored = Mutex<[String]>([])
        try await Self.runPlan(Self.jobPlan(plainSizes, jobs: options.jobs), jobs: options.jobs) { item in
            if try await self.restoreOne(item.database, jobs: item.jobs, target: target,
                                         dumpBytes: sizes[item.database] ?? 0, plainBytes: plainSizes[item.database]) {
                restored.withLock { $0.append(item.database) }
            }
        }
        _ = try? await client.execCollect(pg.containerID, ["rm", "-rf", Self.restoreDir])
        return Restored(databases: restored.withLock { $0 }.sorted(), target: target, sandbox: sandbox)
    }

    /// One database of a restore plan.
    public struct PlannedRestore: Sendable, Equatable {
        public var database: String
        /// `pg_restore -j`: more than one only for a database holding a quarter or more of the data.
        public var jobs: Int
        /// Under 5 % of the data: restored in the light lane, where time goes to process and connection
        /// start-up rather than CPU.
        public var light: Bool
    }

    /// The restore plan under one job budget for the machine, largest first, so that the long restore
    /// starts at once: a database holding a quarter or more of the data gets `-j jobs` over its tables and
    /// indexes, the others one job; the small ones go to the light lane.
    public static func jobPlan(_ sizes: [String: Int64], jobs: Int) -> [PlannedRestore] {
        let total = sizes.values.reduce(0, +)
        return sizes.keys.sorted { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }.map { db in
            let share = total > 0 ? Double(sizes[db] ?? 0) / Double(total) : 0
            return PlannedRestore(database: db, jobs: share >= 0.25 ? max(1, jobs) : 1, light: share < 0.05 && sizes.count > 1)
        }
    }

    /// Runs a plan: the heavy restores `jobs` at a time, and beside them the light lane, `jobs` small
    /// databases at a time (they would otherwise queue behind the large ones and finish the restore with a
    /// tail of start-ups, which cost latency rather than CPU).
    public static func runPlan(_ plan: [PlannedRestore], jobs: Int, _ body: @escaping @Sendable (PlannedRestore) async throws -> Void) async throws {
        async let light: Void = forEach(plan.filter(\.light), concurrency: max(1, jobs), body)
        try await forEach(plan.filter { !$0.light }, concurrency: max(1, jobs), body)
        try await light
    }

    /// Lists, creates and restores one database; returns whether it was restored. All three run in one
    /// exec (every exec is a runc start: CPU the restores need), and inside the sandbox: the dump is
    /// untrusted input until it restores, and the host never parses it.
    func restoreOne(_ db: String, jobs: Int, target: PostgresTarget, dumpBytes: Int64, plainBytes: Int64?) async throws -> Bool {
        let file = "\(Self.restoreDir)/\(db).dump"
        var database = DrillReport.Database(name: db, dumpBytes: dumpBytes, plaintextBytes: plainBytes, jobs: jobs, restoreSeconds: nil, restored: false, rowCounts: [:])
        defer { let d = database; state.withLock { $0.databases.append(d) } }
        // One transaction per database when it has one job (with wal_level=minimal, COPY into a table
        // created in the same transaction writes no WAL).
        let how = jobs > 1 ? "-j \(jobs)" : "--single-transaction"
        emit(.line("restoring \(db) (pg_restore \(how))"))
        let restoreArgs = ["--exit-on-error", "--no-owner", "--no-privileges", "--no-tablespaces"]
            + (jobs > 1 ? ["-j", String(jobs)] : ["--single-transaction"]) + ["-d", db, file]
        let offset = elapsed
        let t0 = ContinuousClock.now
        let r = try await client.execCollect(target.containerID, ["sh", "-c", Self.listCreateRestore, "sh", file, db] + restoreArgs, env: target.env)
        let seconds = (ContinuousClock.now - t0).inSeconds
        let errorText = r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        // 1. The table of contents must be readable.
        guard r.exitCode != Self.listFailed else {
            check("list.\(db)", kind: "core", .failed, "pg_restore --list: \(errorText)",
                  fix: "the decrypted object is not a pg_dump custom-format archive (pg_dump --format=custom), or was written by a newer pg_dump than the sandbox's")
            return false
        }
        let lines = r.stdoutText.split(separator: "\n")
        let entries = lines.filter { !$0.hasPrefix(";") }.count
        let header = { (key: String) in
            lines.first { $0.hasPrefix(";") && $0.contains("\(key):") }.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        }
        check("list.\(db)", kind: "core", .passed, "pg_restore --list reads \(entries) entries (dumped from \(header("Dumped from database version").map { "PostgreSQL \($0)" } ?? "?"), encoding \(header("Encoding") ?? "?"), locale \(header("Locale") ?? "?"))")
        // 2. Created fresh, then restored.
        guard r.exitCode != Self.createFailed else {
            check("restore.\(db)", kind: "core", .failed, "CREATE DATABASE: \(errorText)")
            return false
        }
        database.restoreSeconds = seconds
        record("restore.\(db)", offset: offset, seconds: seconds, budget: options.budgets.restorePerDatabase, status: r.exitCode == 0 ? "done" : "failed", detail: "pg_restore \(how)")
        guard r.exitCode == 0 else {
            let (statement, fix) = Self.failingStatement(r.stderrText)
            check("restore.\(db)", kind: "core", .failed, statement, fix: fix, seconds: seconds)
            return false
        }
        database.restored = true
        let bytes = plainBytes ?? dumpBytes
        check("restore.\(db)", kind: "core", .passed, "pg_restore --exit-on-error \(how): \(entries) entries in \(String(format: "%.1f", seconds)) s (\(Self.rate(bytes, seconds)))", seconds: seconds)
        return true
    }

    /// `sh -c` script, run in the sandbox: `$1` the dump, `$2` the database, the rest pg_restore's
    /// arguments. Prints the table of contents (exit 91 when it cannot be read), then creates the database
    /// as the dump describes it (its archived CREATE DATABASE: encoding and locale). A locale the sandbox
    /// lacks falls back to the sandbox's default, then to C (which fits every encoding); each is printed
    /// as `; Encoding:` / `; Locale:` for the evidence. Exit 90 when no CREATE succeeds; then it becomes
    /// pg_restore. Nothing is interpolated by the shell or into SQL: psql quotes every value (:"db", :'enc').
    static let listCreateRestore = #"""
        pg_restore --list "$1" || exit 91
        db=$2
        archived=$(pg_restore -C -L /dev/null -f - "$1" | grep -m 1 '^CREATE DATABASE ')
        enc=$(printf '%s\n' "$archived" | sed -n "s/.* ENCODING = '\([A-Za-z0-9_-]*\)'.*/\1/p")
        [ -n "$enc" ] || enc=$(pg_restore -L /dev/null -f - "$1" | sed -n "s/^SET client_encoding = '\([A-Za-z0-9_-]*\)';\$/\1/p" | head -n 1)
        enc=${enc:-UTF8}
        collate=$(printf '%s\n' "$archived" | sed -n "s/.* \(LC_COLLATE\|LOCALE\) = '\([^']*\)'.*/\2/p")
        ctype=$(printf '%s\n' "$archived" | sed -n "s/.* \(LC_CTYPE\|LOCALE\) = '\([^']*\)'.*/\2/p")
        printf '; Encoding: %s\n' "$enc"
        sql='CREATE DATABASE :"db" TEMPLATE template0 ENCODING :'"'"'enc'"'"
        mk() { echo "$sql $1;" | psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$db" -v enc="$enc" -v collate="$collate" -v ctype="${ctype:-$collate}"; }
        if [ -n "$collate" ] && mk "LC_COLLATE :'collate' LC_CTYPE :'ctype'" 2>/dev/null; then
          printf '; Locale: %s\n' "$collate"
        elif mk "" 2>/dev/null; then
          printf '; Locale: the sandbox default (the dump has %s)\n' "${collate:-none}"
        elif mk "LC_COLLATE 'C' LC_CTYPE 'C'"; then
          printf '; Locale: C (the dump has %s, which the sandbox lacks)\n' "${collate:-none}"
        else
          exit 90
        fi
        shift 2
        exec pg_restore "$@"
        """#
    static let listFailed: Int32 = 91
    static let createFailed: Int32 = 90

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

}
