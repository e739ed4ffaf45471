import AuditChain
import Backup
import CurlHTTP
import DockerEngine
import Drill
import Fixture
import Foundation
import Repository
import Sandbox
import Testing

/// A source database for drills: a test sandbox holding the platform's eleven databases (scale 1),
/// backed up from the host at its bridge address, exactly as the nightly backup does.
struct DrillSource {
    let client: DockerClient
    let sandbox: Sandbox
    let container: String
    let host: String
    let password: String
    let dir: String
    let recipient: String
    let secretKey: String

    static func make() async throws -> DrillSource {
        let client = try await EngineFixture.connect()
        var spec = try StackSpec.defaultStack()
        spec.services = spec.services.filter { $0.role == .postgres }
        let sandbox = try await Sandbox.provision(spec, project: testProject(), client: client, logger: quietLogger)
        let pg = try #require(sandbox.service(role: .postgres))
        let password = pg.postgresPassword ?? ""
        try await ProdStack.load(fixture: PlatformFixture(scale: 1), into: pg, of: sandbox, password: password, progress: nil)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-drill-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = try await run(["age-keygen", "-o", "\(dir)/id.txt"])
        let recipient = try await run(["age-keygen", "-y", "\(dir)/id.txt"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = try String(contentsOfFile: "\(dir)/id.txt", encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY") }.map(String.init) ?? "?"
        return DrillSource(client: client, sandbox: sandbox, container: pg.containerID, host: try #require(pg.address), password: password,
                           dir: dir, recipient: recipient, secretKey: secret)
    }

    func close() async {
        _ = try? await sandbox.teardown()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The source's database `db`, for reading it as the drill does.
    func target(_ db: String) -> PostgresTarget {
        PostgresTarget(service: Sandbox.Service(name: "postgres", role: .postgres, containerID: container, containerName: container),
                       backend: DockerSandboxBackend(client: client), user: "postgres", password: password, database: db)
    }

    /// Runs SQL in a source database (psql's error on failure).
    func psql(_ db: String, _ sql: String) async throws {
        let r = try await client.execCollect(container, ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-qd", db, "-c", sql],
                                             env: ["PGPASSWORD=\(password)", "PGUSER=postgres", "PGHOST=127.0.0.1"])
        guard r.exitCode == 0 else { throw FixtureError(message: "psql \(db): \(r.stderrText)") }
    }

    /// `acp-drill backup --repo DIR/<name>` of the source; returns the repository path.
    /// The server's other databases (those a test made, or the platform's it leaves out) are excluded on
    /// purpose, so that coverage passes; the coverage tests back up without this.
    func backup(_ name: String, databases: String? = nil, env extra: [String: String] = [:]) async throws -> String {
        var env = ["ACP_BACKUP_AGE_RECIPIENT": recipient, "PGPASSWORD": password, "POSTGRES_HOST": host]
        if let databases { env["DATABASES"] = databases }
        let listed = Set((databases.map { $0.split(separator: " ").map(String.init) } ?? BackupConfig.defaultDatabases))
        let server = try await target("postgres").query("SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'").compactMap(\.first)
        let others = server.filter { !listed.contains($0) }
        if !others.isEmpty { env["ACP_BACKUP_EXCLUDE"] = others.joined(separator: " ") }
        env.merge(extra) { $1 }
        let (code, out) = try await runCLI(["backup", "--no-verify", "--repo", "\(dir)/\(name)"], environment: env)
        #expect(code == 0, "backup \(name): \(out)")
        return "\(dir)/\(name)"
    }

    struct Drilled {
        var code: Int32
        var stdout: String
        var stderr: String
        var report: DrillReport?
        func check(_ name: String) -> DrillReport.Check? { report?.checks.first { $0.name == name } }
        var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
    }

    /// `acp-drill run` on a repository (a folder; nil: the S3 bucket `env` names); outputs go to DIR/out-<name>.
    func drill(_ repo: String?, name: String, _ extra: [String] = [], identity: String? = nil, env: [String: String] = [:],
               until: (@Sendable (String) -> Bool)? = nil, signal: Int32? = nil, hangUp: Bool = false, launcher: [String] = []) async throws -> Drilled {
        let out = "\(dir)/out-\(name)"
        var environment = ["ACP_BACKUP_AGE_IDENTITY": identity ?? "\(dir)/id.txt"]
        environment.merge(env) { $1 }
        let (code, stdout, stderr) = try await runCLI(
            ["run"] + (repo.map { ["--repo", $0] } ?? []) + ["--reports", "\(out)/reports", "--log", "\(out)/restore_drill.md", "--junit", "\(out)/junit.xml",
             "--metrics", "\(out)/drill.prom"] + extra, environment: environment, until: until, signal: signal, hangUp: hangUp, launcher: launcher)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(out)/reports")) ?? []
        let report = files.first { $0.hasSuffix(".json") }.flatMap { FileManager.default.contents(atPath: "\(out)/reports/\($0)") }
            .flatMap { try? JSONDecoder().decode(DrillReport.self, from: $0) }
        // Nothing of the drill's sandbox is left, and no secret was printed.
        if let project = report?.sandbox?.project, report?.sandbox?.kept == false {
            let left = try await resources(of: project, client)
            #expect(left.containers + left.networks + left.volumes == 0, "drill \(name) left \(left)")
        }
        #expect(!(stdout + stderr).contains(secretKey) && !(stdout + stderr).contains(password), "no secret in the output of \(name)")
        return Drilled(code: code, stdout: stdout, stderr: stderr, report: report)
    }
}

/// `acp-drill run` end to end against the real daemon: the passing path and its outputs, every row of the
/// runbook's failure table, tampered backups, and SIGINT during the restore.
@Suite(.serialized) struct DrillRunTests {
    @Test("a passing drill: verdict, last line, report schema, drill log, JUnit, Prometheus; dry run; keep")
    func passingDrill() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("good")
            // Dry run: the plan, and nothing touched — it runs with no engine at all. (Counting projects
            // before and after raced with the suites that run beside this one.)
            let (dryCode, dryOut) = try await runCLI(["run", "--dry-run", "--repo", repo],
                                                     environment: ["ACP_BACKUP_AGE_IDENTITY": "\(source.dir)/id.txt",
                                                                   "DOCKER_HOST": "unix:///nonexistent/acp-drill-dry-run.sock"])
            #expect(dryCode == 0 && dryOut.contains("dry run") && dryOut.contains("acp_audit.dump.age") && dryOut.contains("budgets"), "\(dryOut)")

            let d = try await source.drill(repo, name: "good")
            #expect(d.code == 0, "\(d.stdout)\n\(d.stderr)")
            let r = try #require(d.report)
            #expect(r.verdict == .passed && !r.budgetExceeded && r.schemaVersion == 1 && r.schema == DrillReport.schemaName)
            #expect(d.lastLine == "Restore drill PASSED — \(r.rowsVerified) rows verified (authenticity not verified: no trusted keys)", "an unsigned set drilled without trusted keys says so")
            #expect(r.rowCountsSummary == "audit=12450 tenants=3 usage=8900")
            #expect(r.chainRowsVerified == 12450)
            for name in ["checksum.acp_audit", "decrypt.acp_audit", "list.acp_audit", "restore.acp_audit", "row_counts.acp_audit", "archive.acp_audit", "smoke.audit_logs",
                         "rows.acp_audit", "schema.acp_audit", "grants.acp_audit", "rows.acp_billing", "grants.acp_billing", "roles", "coverage", "decrypt.globals",
                         "verify_chain", "roots.snapshot", "reconcile", "health.postgres", "health.redis", "isolation.dns", "isolation.tcp"] {
                #expect(d.check(name)?.status == .passed, "\(name): \(d.check(name)?.evidence ?? "missing")")
            }
            #expect(r.databases.count == 11 && r.databases.allSatisfy(\.restored))
            #expect(r.databases.first { $0.name == "acp_tenants" }?.rowCounts["public.tenants"] == 3)
            #expect(Set(r.stages.map(\.name)).isSuperset(of: ["gc", "pick", "download", "decrypt", "provision", "restore", "checks", "teardown", "total"]))
            #expect(r.recoveryTimeSeconds != nil && r.sandbox?.tornDown == true && r.set?.objects.count == 13)
            #expect(r.versions.server?.hasPrefix("15") == true && r.operator.isEmpty == false)
            let out = "\(source.dir)/out-good"
            let log = try String(contentsOfFile: "\(out)/restore_drill.md", encoding: .utf8)
            #expect(log.contains("| Date       | Operator | Backup Date | Duration | Row Counts") && log.contains("| audit=12450 tenants=3 usage=8900 | PASS |"))
            let junit = try String(contentsOfFile: "\(out)/junit.xml", encoding: .utf8)
            #expect(junit.contains("failures=\"0\"") && junit.contains("name=\"verify_chain\""))
            let prom = try String(contentsOfFile: "\(out)/drill.prom", encoding: .utf8)
            #expect(prom.contains("acp_drill_success 1") && prom.contains("acp_drill_stage_duration_seconds{stage=\"restore\"}"))
            #expect(prom.contains("acp_drill_backup_age_seconds ") && junit.contains("<property name=\"acp_drill_backup_age_seconds\""), "\(junit.prefix(600))")
            #expect((r.backupAgeSeconds ?? -1) >= 0 && (r.backupAgeSeconds ?? 3600) < 600, "the set was made minutes ago")

            // --keep: the project stays for inspection; verify-chain runs against it alone; down removes it.
            let k = try await source.drill(repo, name: "keep", ["--keep", "--keep-ttl", "10m"])
            #expect(k.code == 0)
            let project = try #require(k.report?.sandbox?.project)
            #expect(k.report?.sandbox?.kept == true)
            let (vCode, vOut) = try await runCLI(["verify-chain", project], environment: [:])
            #expect(vCode == 0 && vOut.contains("12450 rows"), "\(vOut)")
            let (downCode, _) = try await runCLI(["down", project], environment: [:])
            #expect(downCode == 0)
            let left = try await resources(of: project, source.client)
            #expect(left.containers + left.networks + left.volumes == 0)
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("the runbook's failure table: wrong age identity, restore error on FK, historical keys missing, over budget, failing smoke check")
    func runbookFailureTable() async throws {
        let source = try await DrillSource.make()
        do {
            let good = try await source.backup("good")
            // `age` decrypt fails — wrong identity file.
            _ = try await run(["age-keygen", "-o", "\(source.dir)/other.txt"])
            let wrong = try await source.drill(good, name: "wrong-identity", identity: "\(source.dir)/other.txt")
            #expect(wrong.code == 1 && wrong.report?.verdict == .failed)
            #expect(wrong.check("decrypt.acp_audit")?.status == .failed)
            #expect(wrong.check("decrypt.acp_audit")?.fix?.contains("ACP_BACKUP_AGE_IDENTITY") == true)
            #expect(wrong.lastLine.hasPrefix("Restore drill FAILED — decrypt."))

            // Drill exceeds its budget: still a pass, flagged, exit 3.
            let slow = try await source.drill(good, name: "budget", ["--budget", "total=1ms,restore=1ms"])
            #expect(slow.code == 3 && slow.report?.verdict == .passed && slow.report?.budgetExceeded == true)
            #expect(slow.lastLine.contains("PASSED") && slow.lastLine.contains("over budget"))
            #expect(slow.report?.stages.first { $0.name == "total" }?.overBudget == true)

            // pg_restore ERROR on FK: orphaned rows in production make the constraint fail on restore.
            try await source.psql("acp_billing", "ALTER TABLE invoice_lines DISABLE TRIGGER ALL; INSERT INTO invoice_lines VALUES (999999, 424242, 'orphan', 1, 1); ALTER TABLE invoice_lines ENABLE TRIGGER ALL")
            let fkRepo = try await source.backup("fk")
            try await source.psql("acp_billing", "DELETE FROM invoice_lines WHERE id = 999999")
            let fk = try await source.drill(fkRepo, name: "fk")
            #expect(fk.code == 1)
            let restore = try #require(fk.check("restore.acp_billing"))
            #expect(restore.status == .failed && restore.evidence.contains("foreign key") && restore.evidence.contains("failing statement: ALTER TABLE"), "\(restore.evidence)")
            #expect(restore.fix?.contains("parents first") == true)
            #expect(fk.check("restore.acp_audit")?.status == .passed, "the other databases are still restored and checked")

            // verify-chain fails post-restore: transparency_historical_keys empty.
            // (A schema without the roots → keys foreign key: with it, the restore itself would fail first.)
            try await source.psql("acp_audit", "ALTER TABLE transparency_roots DROP CONSTRAINT transparency_roots_key_id_fkey; CREATE TABLE keys_saved AS TABLE transparency_historical_keys; DELETE FROM transparency_historical_keys")
            let keysRepo = try await source.backup("keys")
            try await source.psql("acp_audit", "INSERT INTO transparency_historical_keys SELECT * FROM keys_saved; DROP TABLE keys_saved; ALTER TABLE transparency_roots ADD CONSTRAINT transparency_roots_key_id_fkey FOREIGN KEY (key_id) REFERENCES transparency_historical_keys(key_id)")
            let keys = try await source.drill(keysRepo, name: "keys")
            #expect(keys.code == 1 && keys.check("verify_chain")?.status == .failed)
            #expect(keys.check("verify_chain")?.evidence.contains("historical-keys table was probably left out") == true)
            #expect(keys.check("verify_chain")?.fix?.contains("historical-keys table") == true)

            // Verify smoke fails: the set's audit_logs is empty.
            try await source.psql("acp_audit", "CREATE TABLE audit_saved AS TABLE audit_logs; TRUNCATE audit_logs")
            let emptyRepo = try await source.backup("empty")
            try await source.psql("acp_audit", "INSERT INTO audit_logs SELECT * FROM audit_saved; DROP TABLE audit_saved")
            let smoke = try await source.drill(emptyRepo, name: "smoke")
            #expect(smoke.code == 1 && smoke.check("smoke.audit_logs")?.status == .failed)
            #expect(smoke.check("smoke.audit_logs")?.evidence.contains("= 0") == true)
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("tampering is caught by the right check: edited row, deleted row, rogue-key root, truncated ciphertext, flipped byte, a crafted dump, a path for a name")
    func tampering() async throws {
        let source = try await DrillSource.make()
        do {
            // An edited audit row.
            try await source.psql("acp_audit", "UPDATE audit_logs SET actor = 'mallory' WHERE id = 77")
            let edited = try await source.drill(try await source.backup("edited"), name: "edited")
            #expect(edited.code == 1 && edited.check("verify_chain")?.status == .failed)
            #expect(edited.check("verify_chain")?.evidence.contains("id 77: row_hash does not recompute") == true, "\(edited.check("verify_chain")?.evidence ?? "")")
            #expect(edited.lastLine.hasPrefix("Restore drill FAILED — verify_chain"))

            // A deleted row (the edit stays: the first failure is the earlier id).
            try await source.psql("acp_audit", "DELETE FROM audit_logs WHERE id = 50")
            let deleted = try await source.drill(try await source.backup("deleted"), name: "deleted")
            #expect(deleted.check("verify_chain")?.evidence.contains("id 50 is missing") == true, "\(deleted.check("verify_chain")?.evidence ?? "")")
        } catch { await source.close(); throw error }
        await source.close()

        let clean = try await DrillSource.make()
        do {
            // A root re-signed by a key that is not in the historical keys.
            let rogue = try RootSigner(keyID: "rogue-2026", seed: Array(repeating: 7, count: 32))
            let target = clean.target("acp_audit")
            let root = try #require(try await ChainCheck.roots(target).dropFirst(2).first)
            let signature = try rogue.sign(root.message)
            // An attacker with DDL rights drops the roots → keys foreign key first (with it, the restore would fail).
            try await clean.psql("acp_audit", "ALTER TABLE transparency_roots DROP CONSTRAINT transparency_roots_key_id_fkey")
            try await clean.psql("acp_audit", "UPDATE transparency_roots SET key_id = 'rogue-2026', signature = '\\x\(ChainHash.hex(signature))' WHERE day = '\(root.day)'")
            let forged = try await clean.drill(try await clean.backup("rogue"), name: "rogue")
            #expect(forged.code == 1 && forged.check("verify_chain")?.status == .failed)
            #expect(forged.check("verify_chain")?.evidence.contains("rogue-2026") == true && forged.check("verify_chain")?.evidence.contains(root.day) == true)
            try await clean.psql("acp_audit", "UPDATE transparency_roots SET key_id = '\(root.keyID)', signature = '\\x\(ChainHash.hex(root.signature))' WHERE day = '\(root.day)'")

            // A truncated ciphertext and one flipped byte: the checksum names them; with the manifest
            // rewritten to match, age's authentication does.
            let repo = try await clean.backup("bytes")
            let set = try #require(try LocalRepository(root: repo).completeSets().first)
            let auditPath = "\(repo)/\(set)/acp_audit.dump.age", usagePath = "\(repo)/\(set)/acp_usage.dump.age"
            let auditSize = try #require(try FileManager.default.attributesOfItem(atPath: auditPath)[.size] as? NSNumber).intValue
            try FileHandle(forUpdatingAtPath: auditPath).map { h in try h.truncate(atOffset: UInt64(auditSize - 100)); try h.close() }
            var usage = try Data(contentsOf: URL(fileURLWithPath: usagePath))
            usage[usage.count / 2] ^= 0x01
            try usage.write(to: URL(fileURLWithPath: usagePath))
            let bad = try await clean.drill(repo, name: "bytes")
            #expect(bad.code == 1)
            #expect(bad.check("checksum.acp_audit")?.status == .failed && bad.check("checksum.acp_audit")?.evidence.contains("size") == true)
            #expect(bad.check("checksum.acp_usage")?.status == .failed && bad.check("checksum.acp_usage")?.evidence.contains("sha256") == true)
            #expect(bad.check("checksum.acp_tenants")?.status == .passed)
            #expect(bad.check("verify_chain")?.status == .failed, "acp_audit is in the set but could not be restored: the platform check fails closed")

            var manifest = try Manifest.decode(LocalRepository(root: repo).read("\(set)/manifest.json"))
            for i in manifest.objects.indices where ["acp_audit", "acp_usage"].contains(manifest.objects[i].database ?? "") {
                let (size, digest) = try FileDigest.sha256(path: "\(repo)/\(manifest.objects[i].key)")
                manifest.objects[i].size = size
                manifest.objects[i].sha256 = digest
            }
            try LocalRepository(root: repo).put("\(set)/manifest.json", data: try manifest.encoded())
            let forgedManifest = try await clean.drill(repo, name: "bytes-manifest")
            #expect(forgedManifest.check("checksum.acp_audit")?.status == .passed)
            #expect(forgedManifest.check("decrypt.acp_audit")?.status == .failed && forgedManifest.check("decrypt.acp_usage")?.status == .failed)
            #expect(forgedManifest.code == 1)

            // Whoever can write the repository and knows the (public) recipient can encrypt anything to it:
            // a "dump" that is not one fails its own list check inside the sandbox, the others restore.
            let crafted = try await clean.backup("crafted")
            let craftedSet = try #require(try LocalRepository(root: crafted).completeSets().first)
            try "not a pg_dump archive\n".write(toFile: "\(clean.dir)/fake.txt", atomically: true, encoding: .utf8)
            _ = try await run(["age", "-r", clean.recipient, "-o", "\(crafted)/\(craftedSet)/acp_tenants.dump.age", "\(clean.dir)/fake.txt"])
            var craftedManifest = try Manifest.decode(LocalRepository(root: crafted).read("\(craftedSet)/manifest.json"))
            let tenants = try #require(craftedManifest.objects.firstIndex { $0.database == "acp_tenants" })
            (craftedManifest.objects[tenants].size, craftedManifest.objects[tenants].sha256) = try FileDigest.sha256(path: "\(crafted)/\(craftedManifest.objects[tenants].key)")
            try LocalRepository(root: crafted).put("\(craftedSet)/manifest.json", data: try craftedManifest.encoded())
            let notADump = try await clean.drill(crafted, name: "crafted")
            #expect(notADump.code == 1 && notADump.check("decrypt.acp_tenants")?.status == .passed)
            #expect(notADump.check("list.acp_tenants")?.status == .failed && notADump.check("list.acp_tenants")?.evidence.contains("pg_restore") == true,
                    "\(notADump.check("list.acp_tenants")?.evidence ?? "missing")")
            #expect(notADump.check("restore.acp_billing")?.status == .passed && notADump.check("verify_chain")?.status == .passed)

            // Two objects swapped, the manifest's sizes and digests rewritten to match: each dump's own archive
            // header still names the database it came from.
            let swapped = try await clean.backup("swapped")
            let swappedSet = try #require(try LocalRepository(root: swapped).completeSets().first)
            let (tenantsPath, keysPath) = ("\(swapped)/\(swappedSet)/acp_tenants.dump.age", "\(swapped)/\(swappedSet)/acp_keys.dump.age")
            try FileManager.default.moveItem(atPath: tenantsPath, toPath: tenantsPath + ".tmp")
            try FileManager.default.moveItem(atPath: keysPath, toPath: tenantsPath)
            try FileManager.default.moveItem(atPath: tenantsPath + ".tmp", toPath: keysPath)
            var swappedManifest = try Manifest.decode(LocalRepository(root: swapped).read("\(swappedSet)/manifest.json"))
            for i in swappedManifest.objects.indices where ["acp_tenants", "acp_keys"].contains(swappedManifest.objects[i].database ?? "") {
                (swappedManifest.objects[i].size, swappedManifest.objects[i].sha256) = try FileDigest.sha256(path: "\(swapped)/\(swappedManifest.objects[i].key)")
            }
            try LocalRepository(root: swapped).put("\(swappedSet)/manifest.json", data: try swappedManifest.encoded())
            let swap = try await clean.drill(swapped, name: "swapped")
            #expect(swap.code == 1 && swap.check("checksum.acp_tenants")?.status == .passed)
            #expect(swap.check("archive.acp_tenants")?.status == .failed && swap.check("archive.acp_tenants")?.evidence.contains("taken from database acp_keys") == true,
                    "\(swap.check("archive.acp_tenants")?.evidence ?? "missing")")
            #expect(swap.check("archive.acp_keys")?.status == .failed && swap.check("archive.acp_audit")?.status == .passed)
            #expect(swap.report?.databases.first { $0.name == "acp_audit" }?.archiveDatabase == "acp_audit")

            // A database name that is a path: the manifest is refused before anything is fetched or written.
            craftedManifest.objects[tenants].database = "../../acp-drill-escape"
            try LocalRepository(root: crafted).put("\(craftedSet)/manifest.json", data: try craftedManifest.encoded())
            let escape = try await clean.drill(crafted, name: "escape")
            #expect(escape.code == 1 && escape.check("pick")?.status == .failed, "\(escape.stdout)\n\(escape.stderr)")
            #expect(escape.check("pick")?.evidence.contains("manifest is refused") == true && escape.check("pick")?.fix?.contains("tampered") == true)
            #expect(escape.check("decrypt.acp_audit") == nil, "nothing decrypted")
            #expect(!FileManager.default.fileExists(atPath: "/acp-drill-escape.plain") && !FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "acp-drill-escape.plain"))
        } catch { await clean.close(); throw error }
        await clean.close()
    }

    @Test("SIGINT during the restore: teardown, exit 130, verdict ABORTED written; a reader that goes away does not kill the drill")
    func interruptedDuringRestore() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("sigint")
            let d = try await source.drill(repo, name: "sigint", until: { $0.contains("restoring acp_") }, signal: SIGINT)
            #expect(d.code == 130, "\(d.stdout)\n\(d.stderr)")
            let r = try #require(d.report)
            #expect(r.verdict == .aborted && r.sandbox?.tornDown == true)
            #expect(r.checks.contains { $0.name == "interrupted" } && d.lastLine.hasPrefix("Restore drill ABORTED"))
            let log = try String(contentsOfFile: "\(source.dir)/out-sigint/restore_drill.md", encoding: .utf8)
            #expect(log.contains("| ABORTED |"))
            let left = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()))?.filter { $0.hasPrefix("acp-drill-scratch-") } ?? []
            #expect(left.isEmpty, "the scratch folder (plaintext) is removed: \(left)")

            // The reader goes away mid-restore (`acp-drill run | head`): no SIGPIPE death, the drill finishes,
            // writes its evidence and tears down (drill() asserts nothing is left).
            let gone = try await source.drill(repo, name: "hangup", until: { $0.contains("restoring acp_") }, hangUp: true)
            #expect(gone.code == 0, "\(gone.stderr)")
            #expect(gone.report?.verdict == .passed && gone.report?.sandbox?.tornDown == true)
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("SIGKILL mid-restore: the orphan is owned by a dead process; gc names it and the next drill reclaims it at once, saying what it held")
    func sigkillOrphanReclaimedAtOnce() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("killed")
            let killed = try await source.drill(repo, name: "killed", until: { $0.contains("restoring acp_") }, signal: SIGKILL)
            #expect(killed.code != 0 && killed.report == nil, "a SIGKILLed drill writes nothing")
            let killedAt = ContinuousClock.now
            // No plaintext on the host even now: dumps were decrypted straight into the sandbox, and a folder
            // repository's ciphertext is read in place, so the killed drill's scratch folder holds nothing.
            let tmp = NSTemporaryDirectory()
            for folder in (try? FileManager.default.contentsOfDirectory(atPath: tmp))?.filter({ $0.hasPrefix("acp-drill-scratch-") }) ?? [] {
                let files = (try? FileManager.default.subpathsOfDirectory(atPath: (tmp as NSString).appendingPathComponent(folder))) ?? []
                #expect(files.isEmpty, "scratch \(folder) holds \(files)")
            }
            let orphan = try #require(try await Reaper.projects(client: source.client).first { $0.kind == "drill" && $0.ownerState == .gone },
                                      "the killed drill's sandbox is left, and its owner is gone")
            #expect(orphan.holds?.contains("acp_audit") == true && orphan.holds?.hasPrefix("set ") == true, "\(orphan.holds ?? "nothing")")
            #expect(orphan.expiresAt.map { $0.timeIntervalSinceNow > 3000 } == true, "it has not expired: only its owner tells")
            let (_, ls, _) = try await runCLI(["ls"])
            #expect(ls.contains(orphan.name) && ls.contains("gone (acp-drill gc removes it)"), "\(ls)")
            let (_, dry, _) = try await runCLI(["gc", "--dry-run"])
            let stillThere = try await Reaper.projects(client: source.client).contains { $0.name == orphan.name }
            #expect(dry.contains(orphan.name) && dry.contains("its owner process is gone") || !stillThere, "\(dry)")

            let next = try await source.drill(repo, name: "after-kill")
            let latency = (ContinuousClock.now - killedAt).inSeconds
            #expect(next.code == 0, "\(next.stdout)\n\(next.stderr)")
            #expect(try await resources(of: orphan.name, source.client) == (0, 0, 0), "the orphan is gone after the next run's gc")
            let reclaimed = next.report?.reclaimed?.first { $0.project == orphan.name }
            if let reclaimed {
                #expect(reclaimed.reason == "its owner process is gone" && reclaimed.holds?.contains("acp_audit") == true && reclaimed.containers > 0)
            }
            print("reclaim latency: \(String(format: "%.1f", latency)) s from SIGKILL until the orphan was gone (including the next drill's own run)")
            let scratch = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()))?.filter { $0.hasPrefix("acp-drill-scratch-") } ?? []
            #expect(scratch.isEmpty, "the killed drill's scratch folder was swept too: \(scratch)")
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("the stack's app services start after the restore, see the restored data, and are health-checked")
    func appServicesAfterRestore() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("apps", databases: "acp_tenants")
            let stack = "\(source.dir)/stack.yml"
            // The worker records what it sees when it starts: the restored tenants, or an error.
            try """
                services:
                  postgres:
                    image: acp-drill/postgres:15
                  worker:
                    image: acp-drill/postgres:15
                    x-acp-drill-role: app
                    depends_on: [postgres]
                    environment:
                      PGPASSWORD: ${RESTORE_DB_PASSWORD}
                    entrypoint: ["sh", "-c", "psql -h postgres -U postgres -d acp_tenants -Atc 'SELECT count(*) FROM tenants' > /tmp/seen 2>&1; exec sleep 600"]
                """.write(toFile: stack, atomically: true, encoding: .utf8)
            let password = "drill-\(UUID().uuidString.prefix(12))"
            let d = try await source.drill(repo, name: "apps", ["-f", stack, "--keep"], env: ["RESTORE_DB_PASSWORD": password])
            let project = try #require(d.report?.sandbox?.project)
            do {
                #expect(d.code == 0, "\(d.stdout)\n\(d.stderr)")
                #expect(d.check("services.start")?.status == .passed && d.check("health.worker")?.status == .passed)
                #expect(d.check("isolation.host")?.evidence.contains("2 container(s)") == true, "isolation asserted again over the whole stack")
                let stages = d.report?.stages ?? []
                let restoreEnd = try #require(stages.first { $0.name == "restore" }).offsetSeconds + stages.first { $0.name == "restore" }!.seconds
                #expect(try #require(stages.first { $0.name == "services" }).offsetSeconds >= restoreEnd)
                let worker = try await source.client.inspectContainer("\(project)-worker-1")
                let seen = try await source.client.execCollect(worker.id, ["cat", "/tmp/seen"])
                #expect(seen.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "3", "the worker saw: \(seen.stdoutText)")
            } catch { _ = try? await runCLI(["down", project], environment: [:]); throw error }
            let (code, _) = try await runCLI(["down", project], environment: [:])
            #expect(code == 0)
            let left = try await resources(of: project, source.client)
            #expect(left.containers + left.networks + left.volumes == 0)
        } catch { await source.close(); throw error }
        await source.close()
    }

    /// Runs a `bench` command through the CLI: it exits 0, prints every one of `figures`, and leaves no
    /// project of its own (`acp_bench_…`; other suites create projects meanwhile). Returns its output.
    func bench(_ arguments: [String], printing figures: [String]) async throws -> String {
        let client = try await EngineFixture.connect()
        let before = Set(try await Reaper.projects(client: client).map(\.name))
        let (code, out, err) = try await runCLI(["bench"] + arguments)
        #expect(code == 0, "\(out)\n\(err)")
        for figure in figures {
            #expect(out.contains(figure), "\(figure) in:\n\(out)")
        }
        let left = Set(try await Reaper.projects(client: client).map(\.name)).subtracting(before).filter { $0.hasPrefix("acp_bench") }
        #expect(left.isEmpty, "left: \(left)")
        return out
    }

    @Test("bench drill at scale 1 prints its figures and leaves nothing: no project, no scratch, no host server")
    func benchDrill() async throws {
        let out = try await bench(["drill", "--scale", "1", "--runs", "2"],
                                  printing: ["restored at", "runbook / acp-drill", "verify-chain alone", "drill total", "(the run with the median share of 2)",
                                             "floor (host, no containers)"])
        // Each run's checks share is printed, two of them.
        let every = out.split(separator: "\n").first { $0.hasPrefix("  every run: ") }
        #expect(every?.components(separatedBy: " %)").count == 3, "\(out)")
        // Its drill's sandbox was torn down when the teardown stage has a figure.
        #expect(out.split(separator: "\n").contains { $0.hasPrefix("teardown") && !$0.dropFirst(14).hasPrefix("—") })
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
        #expect(!tmp.contains { $0.hasPrefix("acp-bench-drill-") || $0.hasPrefix("acp-bench-floor-") || $0.hasPrefix("acp-drill-scratch-") })
        let servers = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { pid in
            guard Int(pid) != nil, let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmd, as: UTF8.self).contains("acp-bench-floor-")
        }
        #expect(servers.isEmpty, "the floor's host PostgreSQL is still running: pids \(servers)")
    }

    @Test("bench backup at scale 1 prints its figures, the evidence's own cost among them, and leaves no project")
    func benchBackup() async throws {
        let out = try await bench(["backup", "--scale", "1", "--runs", "1"],
                                  printing: ["ratio: acp-drill", "the baseline kept", "source evidence, its own cost: ", "as run beside the dumps", "peak RSS"])
        let own = out.split(separator: "\n").first { $0.hasPrefix("source evidence, its own cost: ") }
            .flatMap { Double($0.dropFirst("source evidence, its own cost: ".count).prefix { $0 != " " }) }
        #expect((own ?? 0) > 0, "\(out)")
    }

    @Test("any PostgreSQL databases: platform checks are skipped, the team's own checks decide")
    func anyDatabases() async throws {
        let source = try await DrillSource.make()
        do {
            // A team's own database, in LATIN1 and with a name that needs quoting: restored in its encoding.
            try await source.psql("postgres", "CREATE DATABASE \"Legacy-Shop\" TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'")
            try await source.psql("Legacy-Shop", "CREATE TABLE items (name text); INSERT INTO items VALUES ('café'), ('crème brûlée')")
            let repo = try await source.backup("other", databases: "acp_billing acp_tools Legacy-Shop")
            let checks = "\(source.dir)/checks.yml"
            try """
                checks:
                  - name: invoices restored
                    database: acp_billing
                    query: SELECT count(*) FROM invoices
                    expect_min: 1
                  - name: eight tools
                    database: acp_tools
                    query: SELECT count(*) FROM tools
                    expect: "8"
                  - name: legacy encoding kept
                    database: Legacy-Shop
                    query: SELECT pg_encoding_to_char(encoding) || ' ' || (SELECT string_agg(name, ',' ORDER BY name) FROM items) FROM pg_database WHERE datname = current_database()
                    expect: "LATIN1 café,crème brûlée"
                """.write(toFile: checks, atomically: true, encoding: .utf8)
            let ok = try await source.drill(repo, name: "other", ["--checks", checks])
            #expect(ok.code == 0, "\(ok.stdout)\n\(ok.stderr)")
            #expect(ok.check("list.Legacy-Shop")?.evidence.contains("encoding LATIN1") == true, "\(ok.check("list.Legacy-Shop")?.evidence ?? "missing")")
            #expect(ok.check("user.legacy encoding kept")?.status == .passed, "\(ok.check("user.legacy encoding kept")?.evidence ?? "missing")")
            #expect(ok.check("verify_chain")?.status == .skipped && ok.check("reconcile")?.status == .skipped && ok.check("smoke.audit_logs")?.status == .skipped)
            #expect(ok.check("user.eight tools")?.status == .passed && ok.check("user.invoices restored")?.status == .passed)
            #expect(ok.report?.rowCountsSummary.hasPrefix("rows=") == true)

            try "checks:\n  - name: nine tools\n    database: acp_tools\n    query: SELECT count(*) FROM tools\n    expect: \"9\"\n".write(toFile: checks, atomically: true, encoding: .utf8)
            let failing = try await source.drill(repo, name: "other-failing", ["--checks", checks])
            #expect(failing.code == 1 && failing.check("user.nine tools")?.evidence.contains("expected \"9\"") == true)

            try "checks: [{name: x}]\n".write(toFile: checks, atomically: true, encoding: .utf8)
            let (badCode, badOut) = try await runCLI(["run", "--repo", repo, "--checks", checks], environment: ["ACP_BACKUP_AGE_IDENTITY": "\(source.dir)/id.txt"])
            #expect(badCode == 2 && badOut.contains("`database` is required"))
            let (noKey, noKeyOut) = try await runCLI(["run", "--repo", repo], environment: [:])
            #expect(noKey == 2 && noKeyOut.contains("ACP_BACKUP_AGE_IDENTITY"))
        } catch { await source.close(); throw error }
        await source.close()
    }
}
