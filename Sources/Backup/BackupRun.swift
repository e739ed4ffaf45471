public import Foundation
import Common
public import Logging
public import Repository
import Crypto
public import Sandbox

/// `acp-drill backup`: each database `pg_dump --format=custom | age` (or gpg), streamed through a SHA-256
/// into the repository — no plaintext on disk, bounded memory — then the `transparency_roots` snapshot,
/// then the manifest, last. A database that fails is recorded in the manifest; the others still go.
public struct BackupRun: Sendable {
    public let config: BackupConfig
    public let logger: Logger

    public init(config: BackupConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// What a run did.
    public struct Outcome: Sendable {
        public var manifest: Manifest
        public var location: String
        public var failed: Bool { !manifest.failures.isEmpty }
    }

    /// The plan `--dry-run` prints: nothing is dumped, uploaded or created.
    public func plan(timestamp: String) -> [String] {
        let ext = config.encryption.fileExtension
        var lines = ["backup set \(timestamp) → \(config.destination)/\(timestamp)/"]
        lines.append("source: \(config.user)@\(config.host):\(config.port) (password from PGPASSWORD)")
        lines.append("encryption: \(config.encryption.kind) to recipient \(Decryption.fingerprint(config.encryption.recipient))")
        for db in config.databases {
            lines.append("  pg_dump --format=custom --compress=\(config.compressLevel) \(db) | \(config.encryption.kind) → \(SetLayout.dumpKey(timestamp, database: db, fileExtension: ext))")
        }
        lines.append("  transparency_roots snapshot → \(SetLayout.rootsKey(timestamp, fileExtension: ext))")
        lines.append("  manifest → \(SetLayout.manifestKey(timestamp)) (written last)")
        return lines
    }

    var encryptStep: ProcessPipeline.Step {
        switch config.encryption {
        case .age(let r): return .init(executable: "age", arguments: ["--encrypt", "--recipient", r])
        case .gpg(let r):
            var args = ["--batch", "--yes", "--no-tty", "--trust-model", "always", "--encrypt", "--recipient", r, "--output", "-"]
            if let home = config.gpgHome { args = ["--homedir", home] + args }
            return .init(executable: "gpg", arguments: args)
        }
    }

    var pgEnv: [String: String] {
        ["PGPASSWORD": config.password, "PGHOST": config.host, "PGPORT": String(config.port), "PGUSER": config.user, "PGCONNECT_TIMEOUT": "10"]
    }

    /// Dumps, encrypts and stores every database into `store` (the destination's `ObjectStore`,
    /// `SetLayout.open`), then the roots snapshot, then the manifest.
    public func run(timestamp: String = SandboxProject.timestamp(Date()), store: any ObjectStore, progress: (@Sendable (String) -> Void)? = nil) async throws -> Outcome {
        let repo = store
        let ext = config.encryption.fileExtension
        let env = pgEnv
        let encrypt = encryptStep
        var objects: [Manifest.Object] = []
        var failures: [Manifest.Failure] = []
        for db in config.databases {
            let key = SetLayout.dumpKey(timestamp, database: db, fileExtension: ext)
            progress?("dumping \(db)")
            do {
                let object = try await BlockingExecutor.run("backup") {
                    let object = try Self.stream([ProcessPipeline.Step(executable: "pg_dump", arguments: ["--format=custom", "--compress=\(config.compressLevel)", "--no-password", "--dbname", db], environment: env), encrypt],
                                                 to: repo, key: key, database: db, kind: "dump")
                    return object
                }
                objects.append(object)
                progress?("\(db): \(object.size) bytes, sha256 \(object.sha256.prefix(12))…")
            } catch {
                logger.error("backup of a database failed", metadata: ["database.name": "\(db)", "error": "\(error)"])
                failures.append(Manifest.Failure(database: db, step: "pg_dump|\(config.encryption.kind)|store", message: "\(error)"))
            }
        }
        if config.databases.contains("acp_audit") {
            let key = SetLayout.rootsKey(timestamp, fileExtension: ext)
            progress?("transparency_roots snapshot")
            do {
                let sql = "COPY (SELECT row_to_json(r) FROM (SELECT day, first_id, last_id, leaf_count, encode(root_hash, 'hex') AS root_hash, key_id, encode(signature, 'hex') AS signature, signed_at FROM transparency_roots ORDER BY day) r) TO STDOUT"
                let object = try await BlockingExecutor.run("backup") {
                    let object = try Self.stream([ProcessPipeline.Step(executable: "psql", arguments: ["-X", "-v", "ON_ERROR_STOP=1", "--no-password", "--dbname", "acp_audit", "-c", sql], environment: env), encrypt],
                                                 to: repo, key: key, database: nil, kind: "transparency_roots")
                    return object
                }
                objects.append(object)
            } catch {
                failures.append(Manifest.Failure(database: "acp_audit", step: "transparency_roots snapshot", message: "\(error)"))
            }
        }
        let server = (try? await BlockingExecutor.run("backup") { () -> String in
            var text = ""
            try ProcessPipeline.run([ProcessPipeline.Step(executable: "psql", arguments: ["-X", "-At", "--no-password", "--dbname", "postgres", "-c", "show server_version"], environment: env)]) {
                text += String(decoding: $0, as: UTF8.self)
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }) ?? "unknown"
        var manifest = Manifest(
            timestamp: timestamp, createdAt: ISO8601DateFormatter().string(from: Date()), toolVersion: ToolVersion.current,
            pgDumpVersion: ProcessPipeline.version("pg_dump"), serverVersion: server, encryption: config.encryption.kind,
            recipientFingerprint: Decryption.fingerprint(config.encryption.recipient), databases: config.databases,
            objects: objects, failures: failures)
        manifest.compressLevel = config.compressLevel
        let encoded = try manifest.encoded()
        // The signature goes first: a set that looks complete (its manifest present) is signed, or never was.
        if let key = config.signingKey {
            let signature = try ManifestSignature.sign(encoded, with: key).encoded()
            try await BlockingExecutor.run("backup") { try repo.put(ManifestSignature.key(timestamp), data: signature) }
        }
        try await BlockingExecutor.run("backup") { try repo.put(SetLayout.manifestKey(timestamp), data: encoded) }
        return Outcome(manifest: manifest, location: "\(store)/\(timestamp)")
    }

    /// Runs the pipeline into one object, hashing the ciphertext on the way.
    static func stream(_ steps: [ProcessPipeline.Step], to repo: any ObjectStore, key: String, database: String?, kind: String) throws -> Manifest.Object {
        let writer = try repo.writer(for: key)
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try ProcessPipeline.run(steps) { chunk in
                hasher.update(data: chunk)
                size += Int64(chunk.count)
                try writer.write(chunk)
            }
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Manifest.Object(key: key, database: database, kind: kind, size: size, sha256: digest)
    }
}
