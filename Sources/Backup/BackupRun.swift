public import Foundation
import CurlHTTP
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
    public static let toolVersion = "0.1.0"

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
        var lines = ["backup set \(timestamp) → \(destinationText)/\(timestamp)/"]
        lines.append("source: \(config.user)@\(config.host):\(config.port) (password from PGPASSWORD)")
        lines.append("encryption: \(config.encryption.kind) to recipient \(Decryption.fingerprint(config.encryption.recipient))")
        for db in config.databases {
            lines.append("  pg_dump --format=custom --compress=\(config.compressLevel) \(db) | \(config.encryption.kind) → \(timestamp)/\(db).dump.\(config.encryption.fileExtension)")
        }
        lines.append("  transparency_roots snapshot → transparency_roots/\(timestamp).jsonl.\(config.encryption.fileExtension)")
        lines.append("  manifest → \(timestamp)/manifest.json (written last)")
        return lines
    }

    var destinationText: String {
        switch config.destination {
        case .local(let path): return path
        case .s3(let url, _): return url
        }
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

    /// Where objects go: straight into a local repository, or through a private spool folder into S3
    /// (S3 needs each object's length up front, and a retry must re-read it: only ciphertext is spooled).
    public struct Store: Sendable {
        public let spool: LocalRepository
        let s3: (client: S3Client, location: S3Location)?
        let spoolIsTemporary: Bool

        public init(config: BackupConfig, logger: Logger) throws {
            switch config.destination {
            case .local(let path):
                spool = LocalRepository(root: path)
                s3 = nil
                spoolIsTemporary = false
            case .s3(let url, let endpoint):
                let location = try S3Location(url: url)
                let client = try S3Client(endpoint: endpoint, environment: ProcessInfo.processInfo.environment, logger: logger)
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-drill-spool-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                spool = LocalRepository(root: dir)
                s3 = (client, location)
                spoolIsTemporary = true
            }
        }

        /// Moves a committed spool object to its destination.
        func publish(_ key: String) throws {
            guard let s3 else { return }
            try s3.client.putFile(bucket: s3.location.bucket, key: s3.location.key(key), path: spool.path(of: key))
            try? FileManager.default.removeItem(atPath: spool.path(of: key))
        }

        /// Brings an object back into the spool (for the verify), checking nothing yet.
        public func fetch(_ key: String) throws {
            guard let s3 else { return }
            let path = spool.path(of: key)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try s3.client.getFile(bucket: s3.location.bucket, key: s3.location.key(key), to: path)
        }

        public var locationText: String {
            if let s3 { return "s3://\(s3.location.bucket)/\(s3.location.prefix)" }
            return spool.root
        }

        public func cleanup() {
            if spoolIsTemporary { try? FileManager.default.removeItem(atPath: spool.root) }
        }
    }

    public func run(timestamp: String = SandboxProject.timestamp(Date()), store: Store, progress: (@Sendable (String) -> Void)? = nil) async throws -> Outcome {
        let repo = store.spool
        let ext = config.encryption.fileExtension
        let env = pgEnv
        let encrypt = encryptStep
        var objects: [Manifest.Object] = []
        var failures: [Manifest.Failure] = []
        for db in config.databases {
            let key = "\(timestamp)/\(db).dump.\(ext)"
            progress?("dumping \(db)")
            do {
                let object = try await BlockingExecutor.run("backup") {
                    let object = try Self.stream([ProcessPipeline.Step(executable: "pg_dump", arguments: ["--format=custom", "--compress=\(config.compressLevel)", "--no-password", "--dbname", db], environment: env), encrypt],
                                                 to: repo, key: key, database: db, kind: "dump")
                    try store.publish(key)
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
            let key = "transparency_roots/\(timestamp).jsonl.\(ext)"
            progress?("transparency_roots snapshot")
            do {
                let sql = "COPY (SELECT row_to_json(r) FROM (SELECT day, first_id, last_id, leaf_count, encode(root_hash, 'hex') AS root_hash, key_id, encode(signature, 'hex') AS signature, signed_at FROM transparency_roots ORDER BY day) r) TO STDOUT"
                let object = try await BlockingExecutor.run("backup") {
                    let object = try Self.stream([ProcessPipeline.Step(executable: "psql", arguments: ["-X", "-v", "ON_ERROR_STOP=1", "--no-password", "--dbname", "acp_audit", "-c", sql], environment: env), encrypt],
                                                 to: repo, key: key, database: nil, kind: "transparency_roots")
                    try store.publish(key)
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
            timestamp: timestamp, createdAt: ISO8601DateFormatter().string(from: Date()), toolVersion: Self.toolVersion,
            pgDumpVersion: ProcessPipeline.version("pg_dump"), serverVersion: server, encryption: config.encryption.kind,
            recipientFingerprint: Decryption.fingerprint(config.encryption.recipient), databases: config.databases,
            objects: objects, failures: failures)
        manifest.compressLevel = config.compressLevel
        let manifestKey = "\(timestamp)/manifest.json"
        try repo.put(manifestKey, data: try manifest.encoded())
        try await BlockingExecutor.run("backup") { try store.publish(manifestKey) }
        return Outcome(manifest: manifest, location: "\(store.locationText)/\(timestamp)")
    }

    /// Runs the pipeline into one object, hashing the ciphertext on the way.
    static func stream(_ steps: [ProcessPipeline.Step], to repo: LocalRepository, key: String, database: String?, kind: String) throws -> Manifest.Object {
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
