import ArgumentParser
import CurlHTTP
import DockerEngine
import Drill
import Common
import Foundation
import Logging
import Repository
import Sandbox

/// The two restores `bench drill` measures acp-drill against.
enum Baselines {
    /// Stages of one way of restoring, in order, and when the last database was restored.
    struct Timings: Sendable {
        var stages: [(name: String, seconds: Double)] = []
        var restoredAt: Double = 0
        var teardown: Double?
        /// verify-chain alone on the restored `acp_audit` (the median of three runs), nothing else running.
        var chain: (rows: Int64, seconds: Double)?

        func seconds(_ name: String) -> Double? { stages.first { $0.name == name }?.seconds }
    }

    /// The runbook's way, one step after another: copy each object, `age -d` each, a default (durable)
    /// sandbox, then `pg_restore` of one database after another from the host. Returns the plaintext dumps
    /// (left in `scratch` for the floor). With `restore: false` only the objects are copied and decrypted.
    static func sequential(manifest: Manifest, repo: String, identity: String, scratch: String, restore: Bool,
                           client: DockerClient, logger: Logger, say: @escaping @Sendable (String) -> Void) async throws -> (Timings, [String: String]) {
        var t = Timings()
        let start = ContinuousClock.now
        let local = LocalRepository(root: repo)
        let copied = try await stage("download", &t) {
            var files: [(Manifest.Object, String)] = []
            for object in manifest.objects {
                let to = "\(scratch)/\((object.key as NSString).lastPathComponent)"
                try await BlockingExecutor.run("bench") { try FileManager.default.copyItem(atPath: local.path(of: object.key), toPath: to) }
                files.append((object, to))
            }
            return files
        }
        let dumps = try await stage("decrypt", &t) {
            var dumps: [String: String] = [:]
            for (object, path) in copied {
                let plain = object.database.map { "\(scratch)/\($0).dump" } ?? "\(path).plain"
                try await runProgramAsync(["age", "--decrypt", "--identity", identity, "--output", plain, path])
                try FileManager.default.removeItem(atPath: path)
                if object.kind == "dump", let db = object.database { dumps[db] = plain }
            }
            return dumps
        }
        guard restore else { return (t, dumps) }
        let project = SandboxProject.new(prefix: "acp_bench", kind: .test, ttl: .seconds(3600))
        let sandbox = try await stage("provision", &t) {
            try await Sandbox.provision(try StackSpec.defaultStack(), project: project, client: client, options: SandboxOptions(durable: true), logger: logger)
        }
        do {
            guard let pg = sandbox.service(role: .postgres), let host = pg.address, let password = pg.postgresPassword else {
                throw ValidationError("the sequential sandbox has no reachable Postgres")
            }
            try await stage("restore", &t) {
                for db in dumps.keys.sorted() {
                    let env = ["PGPASSWORD": password]
                    try await runProgramAsync(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-U", "postgres", "-d", "postgres",
                                               "-c", "CREATE DATABASE \"\(db)\""], environment: env)
                    try await runProgramAsync(["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", "-h", host, "-U", "postgres",
                                               "-d", db, dumps[db]!], environment: env)
                }
            }
            t.restoredAt = (ContinuousClock.now - start).inSeconds
            say(String(format: "  restored at %.2f s", t.restoredAt))
            if dumps["acp_audit"] != nil {
                var target = PostgresTarget(service: pg, backend: sandbox.backend, user: "postgres", password: password, database: "acp_audit")
                target.directAddress = await target.reachableAddress(host)
                var runs: [(Int64, Double)] = []
                for _ in 0 ..< 3 {
                    let t0 = ContinuousClock.now
                    let report = try await ChainCheck.verify(target)
                    runs.append((report.rows, (ContinuousClock.now - t0).inSeconds))
                }
                t.chain = runs.sorted { $0.1 < $1.1 }[1]
                say(String(format: "  verify-chain alone: %.2f s", t.chain!.seconds))
            }
        } catch {
            _ = try? await sandbox.teardown()
            throw error
        }
        let t0 = ContinuousClock.now
        try await sandbox.teardown()
        t.teardown = (ContinuousClock.now - t0).inSeconds
        return (t, dumps)
    }

    /// The floor: the same plaintext dumps restored with the drill's job plan into a tuned PostgreSQL on
    /// the host, with no container in the way.
    static func floor(dumps: [String: String], bin: String, jobs: Int, say: @escaping @Sendable (String) -> Void) async throws -> Timings {
        var t = Timings()
        let start = ContinuousClock.now
        let server = try await stage("initdb+start", &t) { try await BlockingExecutor.run("bench") { try HostPostgres.start(bin: bin) } }
        defer { server.stop() }
        let sizes = dumps.mapValues { FileDigest.size(path: $0) ?? 0 }
        try await stage("restore", &t) {
            try await RestorePlan(sizes: sizes, jobs: jobs).run { item in
                try await runProgramAsync(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"] + server.connection
                                          + ["-d", "postgres", "-c", "CREATE DATABASE \"\(item.database)\" TEMPLATE template0"])
                try await runProgramAsync(["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", "-j", String(item.jobs)] + server.connection
                                          + ["-d", item.database, dumps[item.database]!])
            }
        }
        t.restoredAt = (ContinuousClock.now - start).inSeconds
        say(String(format: "  restored at %.2f s", t.restoredAt))
        return t
    }

    static func stage<T>(_ name: String, _ t: inout Timings, _ body: () async throws -> T) async throws -> T {
        let t0 = ContinuousClock.now
        let value = try await body()
        t.stages.append((name, (ContinuousClock.now - t0).inSeconds))
        return value
    }
}
