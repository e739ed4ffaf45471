import DockerEngine
import Foundation
import Sandbox
import Fixture
import Drill
import AuditChain
import Backup
import Repository
import Testing

/// A stand-in for production on the same daemon: containers named acp_postgres and acp_redis on their own
/// internal network, with a row in Postgres and a kill-switch key in Redis.
struct DecoyProduction {
    let client: DockerClient
    let project: String
    let network: String
    let postgres: String
    let redis: String

    static func start(_ client: DockerClient) async throws -> DecoyProduction {
        let project = "acp_decoy_\(UUID().uuidString.prefix(6).lowercased())"
        let labels = ["dev.acp-drill.project": project, "dev.acp-drill.kind": "test", "dev.acp-drill.expires-at": testExpiry]
        let network = "\(project)_net"
        try await client.createNetwork(NetworkCreate(name: network, internal: true, labels: labels))
        // Leftovers of an interrupted earlier run hold the fixed names: they are ours (labelled kind=test).
        for name in ["acp_postgres", "acp_redis"] {
            if let old = try? await client.inspectContainer(name), old.config?.labels?["dev.acp-drill.kind"] == "test" {
                try await client.removeContainer(old.id)
            }
        }
        func make(_ name: String, _ image: String, _ env: [String]) async throws -> String {
            var spec = ContainerCreate(image: image, env: env, labels: labels)
            spec.hostConfig.networkMode = network
            spec.hostConfig.mounts = [.anonymousVolume(at: image.contains("postgres") ? "/var/lib/postgresql/data" : "/data", labels: labels)]
            let id = try await client.createContainer(name: name, spec)
            try await client.startContainer(id)
            return id
        }
        let pg = try await make("acp_postgres", "acp-drill/postgres:15", ["POSTGRES_PASSWORD=prod-secret"])
        let redis = try await make("acp_redis", "acp-drill/redis:7", [])
        let decoy = DecoyProduction(client: client, project: project, network: network, postgres: pg, redis: redis)
        for _ in 0 ..< 200 {
            let r = try await client.execCollect(pg, ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                "create table if not exists prod_marker(v text); insert into prod_marker values ('untouched'); select count(*) from prod_marker"],
                env: ["PGPASSWORD=prod-secret"])
            if r.exitCode == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = try await client.execCollect(redis, ["redis-cli", "set", "kill_switch", "engaged"])
        return decoy
    }

    func state() async throws -> String {
        let rows = try await client.execCollect(postgres, ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select string_agg(v, ',') from prod_marker"],
                                                env: ["PGPASSWORD=prod-secret"]).stdoutText
        let key = try await client.execCollect(redis, ["redis-cli", "get", "kill_switch"]).stdoutText
        return rows.trimmingCharacters(in: .whitespacesAndNewlines) + "|" + key.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func remove() async {
        _ = try? await Sandbox.teardown(project: project, client: client, logger: quietLogger)
    }
}

@Suite(.serialized, .enabled(if: engineLikely, "needs a Docker engine"))
struct SandboxIsolationTests {
    @Test("against a decoy production stack: names do not resolve, addresses do not answer, decoy unchanged")
    func decoy() async throws {
        let client = try await EngineFixture.connect()
        let decoy = try await DecoyProduction.start(client)
        do {
            #expect(try await decoy.state() == "untouched|engaged")
            let decoyIPs = try await client.inspectContainer(decoy.postgres).networkSettings?.networks?[decoy.network]?.ipAddress
            try await Sandbox.withSandbox(StackSpec.defaultStack(), project: testProject(), client: client, logger: quietLogger) { sandbox in
                let checks = await sandbox.assertIsolation()
                #expect(checks.count == 6)
                for check in checks { #expect(check.status == .passed, "\(check.name): \(check.evidence)") }
                let tcp = try #require(checks.first { $0.name == "isolation.tcp" })
                #expect(tcp.evidence.contains("acp_postgres \(decoyIPs ?? "?"):5432"), "the decoy's real address was probed")
                #expect(tcp.evidence.contains("acp_redis"))
                // The sandbox's own names do resolve: the probe is not blind.
                let own = try await client.execCollect(sandbox.service("postgres")!.containerID, ["getent", "hosts", "redis"])
                #expect(own.exitCode == 0)
            }
            #expect(try await decoy.state() == "untouched|engaged", "production data and the kill switch are unchanged")
        } catch {
            await decoy.remove()
            throw error
        }
        await decoy.remove()
    }

    @Test("the assertions are not vacuous: a decoy joined to the sandbox network is caught")
    func leakDetected() async throws {
        let client = try await EngineFixture.connect()
        let decoy = try await DecoyProduction.start(client)
        do {
            try await Sandbox.withSandbox(StackSpec.defaultStack(), project: testProject(), client: client, logger: quietLogger) { sandbox in
                try await client.connectNetwork(sandbox.project.networkName, container: decoy.postgres, aliases: ["acp_postgres"])
                _ = try await client.execCollect(sandbox.service("redis")!.containerID, ["redis-cli", "set", "stray", "1"])
                let checks = Dictionary(uniqueKeysWithValues: await sandbox.assertIsolation().map { ($0.name, $0) })
                // On Podman a sandbox container has no DNS server at all (its peers are in /etc/hosts): the
                // decoy's name resolves nowhere, and the network and TCP assertions are what catch it.
                #expect(checks["isolation.dns"]?.status == (EngineFixture.podman ? .passed : .failed))
                #expect(checks["isolation.tcp"]?.status == .failed)
                #expect(checks["isolation.network"]?.status == .failed)
                #expect(checks["isolation.redis"]?.status == .failed)
                try await client.disconnectNetwork(sandbox.project.networkName, container: decoy.postgres, force: true)
            }
        } catch {
            await decoy.remove()
            throw error
        }
        await decoy.remove()
    }
}

extension SandboxIsolationTests {
    /// In this serialized suite because the stand-in uses the production names too (acp_postgres, acp_redis).
    @Test("demo prod up: the runbook's counts, a chain that verifies from PostgreSQL's own output, tampering named")
    func prodFixture() async throws {
        let client = try await EngineFixture.connect()
        let fixture = PlatformFixture(scale: 1)
        let connection = try await ProdStack.up(fixture: fixture, backend: DockerSandboxBackend(client: client), logger: quietLogger)
        do {
            #expect(connection.databases.count == 11)
            let pg = try await client.inspectContainer("acp_postgres")
            func target(_ db: String) -> PostgresTarget {
                PostgresTarget(service: Sandbox.Service(name: "postgres", role: .postgres, containerID: pg.id, containerName: pg.name),
                               backend: DockerSandboxBackend(client: client), user: "postgres", password: connection.password, database: db)
            }
            for (table, expected) in [("acp_audit.audit_logs", 12450), ("acp_tenants.tenants", 3), ("acp_usage.usage_events", 8900),
                                      ("acp_audit.transparency_roots", 6), ("acp_gateway.requests", 20000)] {
                let parts = table.split(separator: ".").map(String.init)
                let rows = try await target(parts[0]).query("select count(*) from \(parts[1])")
                #expect(rows.first?.first == String(expected), "\(table)")
                #expect(fixture.expectedRowCounts[table] == expected)
            }
            // Every billable audit row has its usage event with the same tenant and units.
            let mismatch = try await target("acp_usage").query("select count(*) from usage_events where units <= 0")
            #expect(mismatch.first?.first == "0")

            let report = try await ChainCheck.verify(target("acp_audit"))
            #expect(report.passed, "\(report.failure?.message ?? "")")
            #expect(report.rows == 12450 && report.rootsVerified == 6 && report.unsealedRows > 0)
            // The same rows read in-process with libpq straight from the container (a local engine) give
            // the same report; an address where nothing answers for us falls back to exec.
            var direct = target("acp_audit")
            direct.directAddress = await direct.reachableAddress(connection.host)
            #expect(direct.directAddress == connection.host)
            #expect(try await ChainCheck.verify(direct) == report)
            var refused = target("acp_audit")
            refused.directAddress = "127.0.0.1"
            #expect(try await ChainCheck.verify(refused) == report)
            // Read in segments at once (cut at sealed days), the chain reports exactly what one reader does,
            // intact or not.
            #expect(try await ChainCheck.verify(direct, readers: 3, rowsPerSegment: 1000) == report)
            #expect(try await ChainCheck.verify(target("acp_audit"), readers: 1) == report)
            // Queries answer through it as psql -At does through exec: NULL as empty, tab-separated; an
            // error is the server's own message.
            let sql = "select id, null::text, 'a b' from audit_logs where id <= 3 order by id"
            #expect(try await direct.query(sql) == target("acp_audit").query(sql))
            do {
                _ = try await direct.query("select * from no_such_table")
                Issue.record("a failing query through the direct path did not throw")
            } catch let error as QueryError {
                #expect(error.message.contains("relation \"no_such_table\" does not exist"), "\(error.message)")
            }
            // Cancelled mid-COPY, the read stops at once and the server's statement is cancelled with it.
            let started = ContinuousClock.now
            let reader = direct
            let slow = Task { try await reader.copyOutRaw("COPY (SELECT g, pg_sleep(0.001) FROM generate_series(1, 100000) g) TO STDOUT") { _ in } }
            try await Task.sleep(for: .milliseconds(500))
            slow.cancel()
            await #expect(throws: CancellationError.self) { try await slow.value }
            #expect(ContinuousClock.now - started < .seconds(5))
            try await Task.sleep(for: .milliseconds(300))
            let left = try await target("acp_audit").query("select count(*) from pg_stat_activity where query like 'COPY (SELECT g, pg_sleep%' and pid <> pg_backend_pid()")
            #expect(left.first?.first == "0", "the cancelled COPY still runs on the server")

            // A row moved by an update lies out of id order: the read as it lies stops there and the table is
            // read again in id order, with the same report; the same for a table that lies reversed.
            _ = try await target("acp_audit").query("update audit_logs set actor = actor where id = 5")
            let laid = try await direct.query("select id from audit_logs limit 6").map { $0.first ?? "" }
            #expect(laid != ["1", "2", "3", "4", "5", "6"], "the update did not move row 5: \(laid)")
            #expect(try await ChainCheck.verify(direct, readers: 1) == report)
            #expect(try await ChainCheck.verify(target("acp_audit"), readers: 1) == report)
            _ = try await target("acp_audit").query("create table reversed as select * from audit_logs order by id desc; truncate audit_logs; insert into audit_logs select * from reversed; drop table reversed")
            #expect(try await ChainCheck.verify(direct, readers: 1) == report)

            _ = try await target("acp_audit").query("delete from audit_logs where id = 777")
            let gap = try await ChainCheck.verify(target("acp_audit"))
            #expect(gap.failure?.kind == .idGap && gap.failure?.id == 777)
            #expect(try await ChainCheck.verify(direct, readers: 3, rowsPerSegment: 1000) == gap)
            _ = try await target("acp_audit").query("update audit_logs set actor = 'mallory' where id = 12000")
            #expect(try await ChainCheck.verify(direct, readers: 3, rowsPerSegment: 1000) == ChainCheck.verify(direct, readers: 1))

            _ = try await target("acp_audit").query("alter table transparency_roots drop constraint transparency_roots_key_id_fkey; delete from transparency_historical_keys")
            let keys = try await ChainCheck.verify(target("acp_audit"))
            #expect(keys.failure != nil)
        } catch {
            _ = try? await ProdStack.down(backend: DockerSandboxBackend(client: client), logger: quietLogger)
            throw error
        }
        let report = try await ProdStack.down(backend: DockerSandboxBackend(client: client), logger: quietLogger)
        #expect(report.containers == 2)
        #expect(try await resources(of: "acp", client) == (0, 0, 0))
    }
}

/// Runs acp-drill with extra environment; returns (exit code, stdout + stderr).
func runCLI(_ args: [String], environment: [String: String]) async throws -> (Int32, String) {
    let (code, out, err) = try await runCLI(args, environment: environment, until: nil, signal: nil)
    return (code, out + err)
}

extension SandboxIsolationTests {
    @Test("backup of the stand-in: objects match the manifest, a failing database is recorded, verify restores, tampering caught, gpg fallback, no secret in any output")
    func backup() async throws {
        let client = try await EngineFixture.connect()
        let connection = try await ProdStack.up(fixture: PlatformFixture(scale: 1), backend: DockerSandboxBackend(client: client), logger: quietLogger)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-backup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try await run(["age-keygen", "-o", "\(dir)/id.txt"])
            let recipient = try await run(["age-keygen", "-y", "\(dir)/id.txt"]).trimmingCharacters(in: .whitespacesAndNewlines)
            let secretKey = try String(contentsOfFile: "\(dir)/id.txt", encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY") }.map(String.init) ?? "?"
            let env = ["ACP_BACKUP_AGE_RECIPIENT": recipient, "ACP_BACKUP_AGE_IDENTITY": "\(dir)/id.txt", "PGPASSWORD": connection.password,
                       "POSTGRES_HOST": connection.host]

            // Dry run: the plan, and nothing written.
            let (dryCode, dryOut) = try await runCLI(["backup", "--dry-run", "--repo", "\(dir)/dry"], environment: env)
            #expect(dryCode == 0 && dryOut.contains("dry run") && dryOut.contains("acp_audit.dump.age"))
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/dry"))

            // The whole set with the throw-away verify.
            let (code, out) = try await runCLI(["backup", "--repo", "\(dir)/repo"], environment: env)
            #expect(code == 0, "\(out)")
            #expect(out.contains("audit_logs has 12450 rows"))
            #expect(!out.contains(connection.password), "the database password never appears")
            #expect(!out.contains(secretKey), "the age identity never appears")
            let repo = LocalRepository(root: "\(dir)/repo")
            let set = try #require(try repo.completeSets().first)
            let manifest = try Manifest.decode(repo.read("\(set)/manifest.json"))
            #expect(manifest.objects.count == 13 && manifest.failures.isEmpty && manifest.object(kind: "globals") != nil)
            #expect(manifest.format == 2 && manifest.evidence?.count == 11 && manifest.coverage?.uncovered == [] && manifest.roles?.isEmpty == false)
            #expect(manifest.evidence?["acp_audit"]?.rows["public.audit_logs"] == 12450)
            #expect(manifest.encryption == "age" && manifest.serverVersion.hasPrefix("15"))
            for object in manifest.objects {
                let attrs = try FileManager.default.attributesOfItem(atPath: repo.path(of: object.key))
                #expect((attrs[.size] as? Int64 ?? Int64(attrs[.size] as? Int ?? -1)) == object.size, "\(object.key)")
                #expect(try await sha256(ofFile: repo.path(of: object.key)) == object.sha256, "\(object.key)")
            }
            let manifestText = try String(contentsOfFile: repo.path(of: "\(set)/manifest.json"), encoding: .utf8)
            #expect(!manifestText.contains(connection.password) && !manifestText.contains(recipient))

            // A database that cannot be dumped: exit 1, recorded, the others written.
            var partial = env
            partial["DATABASES"] = "acp_tenants acp_missing acp_keys"
            let (pCode, pOut) = try await runCLI(["backup", "--repo", "\(dir)/partial", "--no-verify"], environment: partial)
            #expect(pCode == 1)
            #expect(pOut.contains("FAILED acp_missing"))
            let pRepo = LocalRepository(root: "\(dir)/partial")
            let pManifest = try Manifest.decode(pRepo.read("\(try #require(try pRepo.completeSets().first))/manifest.json"))
            #expect(pManifest.failures.map(\.database) == ["acp_missing"])
            #expect(pManifest.failures.first?.message.contains("acp_missing") == true)
            #expect(pManifest.objects.compactMap(\.database) == ["acp_tenants", "acp_keys"])

            // Tampering with a stored object: the verify names it.
            let victim = repo.path(of: "\(set)/acp_tenants.dump.age")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: victim))
            let config = try BackupConfig.from(environment: env, repo: "\(dir)/repo", databasesFrom: nil, dryRun: false)
            let results = try await BackupVerify(config: config, backend: DockerSandboxBackend(client: client), logger: quietLogger).verify(manifest, store: repo)
            let tenants = try #require(results.first { $0.name == "verify.acp_tenants" })
            #expect(tenants.status == .failed && tenants.evidence.contains("does not match the manifest"))
            #expect(results.filter { $0.status == .passed }.count == 12)

            // The gpg fallback: no age recipient, a gpg key in its own home.
            let home = "\(dir)/gnupg"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = try await run(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "acp-drill-test", "default", "default", "never"])
            let gpgEnv = ["ACP_BACKUP_GPG_RECIPIENT": "acp-drill-test", "ACP_BACKUP_GPG_HOMEDIR": home, "PGPASSWORD": connection.password,
                          "POSTGRES_HOST": connection.host, "DATABASES": "acp_tenants acp_audit",
                          "ACP_BACKUP_EXCLUDE": BackupConfig.defaultDatabases.filter { $0 != "acp_tenants" && $0 != "acp_audit" }.joined(separator: " ")]
            let (gCode, gOut) = try await runCLI(["backup", "--repo", "\(dir)/gpg"], environment: gpgEnv)
            #expect(gCode == 0, "\(gOut)")
            #expect(gOut.contains("encrypted with gpg") && gOut.contains("audit_logs has 12450 rows"))

            // To S3 (moto on loopback), verified by reading everything back from S3; the aws CLI reads the set.
            if let endpoint = ProcessInfo.processInfo.environment["ACP_TEST_S3_ENDPOINT"] {
                let bucket = "acp-backups-\(UUID().uuidString.prefix(6).lowercased())"
                let creds = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"]
                try S3Client(endpoint: endpoint, environment: creds, logger: quietLogger).createBucket(bucket)
                var s3Env = env.merging(creds) { $1 }
                s3Env["ACP_BACKUP_S3_BUCKET"] = "s3://\(bucket)/nightly"
                s3Env["ACP_BACKUP_S3_ENDPOINT"] = endpoint
                s3Env["DATABASES"] = "acp_tenants acp_audit"
                s3Env["ACP_BACKUP_EXCLUDE"] = gpgEnv["ACP_BACKUP_EXCLUDE"]
                let (sCode, sOut) = try await runCLI(["backup"], environment: s3Env)
                #expect(sCode == 0, "\(sOut)")
                #expect(sOut.contains("s3://\(bucket)/nightly") && sOut.contains("audit_logs has 12450 rows"))
                let keys = try S3Client(endpoint: endpoint, environment: creds, logger: quietLogger).list(bucket: bucket, prefix: "nightly").keys.map(\.key)
                #expect(keys.contains { $0.hasSuffix("/manifest.json") } && keys.contains { $0.hasSuffix("acp_audit.dump.age") })
                #expect(keys.contains { $0.hasPrefix("nightly/transparency_roots/") })
                let manifestKey = try #require(keys.first { $0.hasSuffix("/manifest.json") })
                let text = try await run(["env", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1",
                                          "aws", "--endpoint-url", endpoint, "s3", "cp", "s3://\(bucket)/\(manifestKey)", "-"])
                let s3Manifest = try Manifest.decode(Data(text.utf8))
                #expect(s3Manifest.objects.count == 4 && s3Manifest.failures.isEmpty)
            }
        } catch {
            _ = try? await ProdStack.down(backend: DockerSandboxBackend(client: client), logger: quietLogger)
            throw error
        }
        try await ProdStack.down(backend: DockerSandboxBackend(client: client), logger: quietLogger)
    }
}
