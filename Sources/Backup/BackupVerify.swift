public import Common
public import Logging
public import Repository
public import Sandbox
import Crypto
import Foundation

/// The throw-away verify of a backup set: in a `backup-verify` sandbox `acp_backup_verify_<ts>`, every
/// object is read back, its size and SHA-256 checked against the manifest, decrypted straight into
/// `pg_restore --list` inside the sandbox (plaintext never touches the host's disk), and `acp_audit` is
/// restored for `SELECT count(*) FROM audit_logs`.
public struct BackupVerify: Sendable {
    public let config: BackupConfig
    public let backend: any SandboxBackend
    public let logger: Logger

    public init(config: BackupConfig, backend: any SandboxBackend, logger: Logger) {
        self.config = config
        self.backend = backend
        self.logger = logger
    }

    /// Verifies a set as the store holds it: a folder's objects are read in place; any other store's are
    /// read back (ciphertext only) into a private folder, removed afterwards.
    public func verify(_ manifest: Manifest, store: any ObjectStore, progress: ProgressHandler? = nil) async throws -> [CheckResult] {
        let readBack = FileManager.default.temporaryDirectory.appendingPathComponent("acp-drill-readback-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: readBack, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: readBack) }
        var paths: [String: String] = [:]
        for object in manifest.objects {
            progress?("reading back \(object.key)")
            if let path = store.localPath(of: object.key) { paths[object.key] = path; continue }
            let path = "\(readBack)/\(object.key.replacingOccurrences(of: "/", with: "_"))"
            try await BlockingExecutor.run("backup") { try store.download(object.key, to: path) }
            paths[object.key] = path
        }
        return try await verify(manifest, paths: paths, progress: progress)
    }

    func verify(_ manifest: Manifest, paths: [String: String], progress: ProgressHandler?) async throws -> [CheckResult] {
        var spec = try StackSpec.defaultStack()
        spec.services = spec.services.filter { $0.role == .postgres }
        let project = SandboxProject.new(prefix: "acp_backup_verify", kind: .backupVerify, ttl: .seconds(3600))
        progress?("verify sandbox \(project.name)")
        return try await backend.withSandbox(spec, project: project, logger: logger, progress: progress) { sandbox in
            guard let pg = sandbox.service(role: .postgres) else { return [CheckResult.failed("verify", "no Postgres in the verify sandbox")] }
            var results: [CheckResult] = []
            for object in manifest.objects {
                guard let path = paths[object.key] else { continue }
                let name = object.database.map { "verify.\($0)" } ?? "verify.\(object.kind)"
                // 1. Size and SHA-256 of the ciphertext, before anything is decrypted.
                let (size, digest) = try await BlockingExecutor.run("backup") { try FileDigest.sha256(path: path) }
                guard size == object.size, digest == object.sha256 else {
                    results.append(.failed(name, "\(object.key): size \(size) / sha256 \(digest.prefix(16))… does not match the manifest (\(object.size) / \(object.sha256.prefix(16))…)"))
                    continue
                }
                guard let database = object.database else {
                    let lines = try await decryptLines(path)
                    results.append(.passed(name, "\(object.key): checksum matches, decrypts to \(lines) \(object.kind == "globals" ? "line(s) of role statements" : "root line(s)")"))
                    continue
                }
                // 2. Decrypted into pg_restore --list inside the sandbox.
                // pg_restore --list stops reading at the table of contents; the rest is drained so that the
                // stream ends as the input does (Podman cuts a stream whose command stopped reading, and
                // can lose its output with it), and age still authenticates every chunk.
                let list = try await decryptInto(path, sandbox: sandbox, service: pg,
                                                 command: ["sh", "-c", "pg_restore --list; status=$?; cat >/dev/null; exit $status"], env: [])
                guard list.code == 0, list.decryptOK else {
                    results.append(.failed(name, "\(object.key): \(list.decryptOK ? "pg_restore --list failed: \(list.stderr)" : "decryption failed: \(list.decryptError)")"))
                    continue
                }
                let entries = list.stdout.split(separator: "\n").filter { !$0.hasPrefix(";") }.count
                var evidence = "\(object.key): checksum matches, pg_restore --list reads \(entries) entries"
                // 3. acp_audit restored, then the smoke count.
                if database == "acp_audit" {
                    let env = ["PGPASSWORD=\(pg.postgresPassword ?? "")", "PGUSER=\(pg.postgresUser ?? "postgres")", "PGHOST=127.0.0.1"]
                    _ = try await sandbox.run(["createdb", "acp_audit"], in: pg, env: env)
                    let restore = try await decryptInto(path, sandbox: sandbox, service: pg,
                                                        command: ["pg_restore", "--exit-on-error", "--no-owner", "--dbname", "acp_audit"], env: env)
                    guard restore.code == 0, restore.decryptOK else {
                        results.append(.failed(name, "\(object.key): restore failed: \(restore.stderr)\(restore.decryptError)"))
                        continue
                    }
                    let count = try await sandbox.run(["psql", "-X", "-At", "-d", "acp_audit", "-c", "SELECT count(*) FROM audit_logs"], in: pg, env: env)
                    guard count.exitCode == 0 else {
                        results.append(.failed(name, "SELECT count(*) FROM audit_logs failed: \(count.stderrText)"))
                        continue
                    }
                    evidence += "; restored, audit_logs has \(count.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) rows"
                }
                results.append(.passed(name, evidence))
            }
            return results
        }
    }

    var decryption: Decryption {
        switch config.encryption {
        case .age: return .age(identity: config.ageIdentity ?? "")
        case .gpg: return .gpg(home: config.gpgHome)
        }
    }

    struct Piped: Sendable {
        var code: Int
        var stdout: String
        var stderr: String
        var decryptOK: Bool
        var decryptError: String
    }

    /// `decrypt < file` piped into `command` running in the container (exec stdin), drained to the end so
    /// that the decryptor authenticates every chunk: a flipped byte anywhere fails.
    func decryptInto(_ file: String, sandbox: Sandbox, service: Sandbox.Service, command: [String], env: [String]) async throws -> Piped {
        let step = decryption.step(input: file)
        let r = try await sandbox.pipe([step.executable] + step.arguments, environment: step.environment, into: command, in: service, env: env)
        return Piped(code: r.command.exitCode, stdout: r.command.stdoutText, stderr: r.command.stderrText.trimmingCharacters(in: .whitespacesAndNewlines),
                     decryptOK: r.producerStatus == 0, decryptError: r.producerError)
    }

    func decryptLines(_ file: String) async throws -> Int {
        let step = decryption.step(input: file)
        return try await BlockingExecutor.run("backup") {
            var n = 0
            try ProcessPipeline.run([step]) { chunk in
                n += chunk.filter { $0 == 10 }.count
            }
            return n
        }
    }
}
