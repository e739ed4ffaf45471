public import Foundation
import Common
public import Logging
public import Repository
import Crypto
public import Sandbox
public import Evidence
import Synchronization

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
        /// The whole run, and the evidence queries' share of it (summed over databases).
        public var seconds: Double = 0
        public var evidenceSeconds: Double = 0
        /// A database failed, or the server has one that nobody backs up or excludes.
        public var failed: Bool { !manifest.failures.isEmpty || !(manifest.coverage?.uncovered.isEmpty ?? true) }
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
        lines.append("  each in its own REPEATABLE READ snapshot, \(config.jobs) at a time; the snapshot's evidence (rows, schema, owners and grants) → the manifest")
        lines.append("  pg_dumpall --globals-only --no-role-passwords | \(config.encryption.kind) → \(SetLayout.globalsKey(timestamp, fileExtension: ext))")
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
    /// `SetLayout.open`), `config.jobs` at a time, each in the snapshot of a session that reads its evidence;
    /// then the globals and the roots snapshot; then the manifest, with the coverage of the server's databases.
    public func run(timestamp: String = SandboxProject.timestamp(Date()), store: any ObjectStore, progress: (@Sendable (String) -> Void)? = nil) async throws -> Outcome {
        let repo = store
        let ext = config.encryption.fileExtension
        let env = pgEnv
        let encrypt = encryptStep
        let started = ContinuousClock.now
        let results = Mutex<(objects: [Manifest.Object], failures: [Manifest.Failure], evidence: [String: DatabaseEvidence], evidenceSeconds: Double)>(([], [], [:], 0))
        // The server's side (coverage, roles, version, the globals, the roots snapshot) runs beside the dumps:
        // small, but one connection after another, it cost the backup a third of a second.
        async let side = serverSide(timestamp: timestamp, store: repo, environment: env, encrypt: encrypt, progress: progress)
        try await Concurrently.forEach(config.databases, limit: max(1, config.jobs)) { db in
            let key = SetLayout.dumpKey(timestamp, database: db, fileExtension: ext)
            progress?("dumping \(db)")
            do {
                let dumped = try await self.dump(db, key: key, to: repo, environment: env, encrypt: encrypt)
                results.withLock {
                    $0.objects.append(dumped.object)
                    $0.evidence[db] = dumped.evidence
                    $0.evidenceSeconds += dumped.evidenceSeconds
                }
                progress?("\(db): \(dumped.object.size) bytes, sha256 \(dumped.object.sha256.prefix(12))…, \(dumped.evidence.rows.count) table(s) and \(dumped.evidence.rows.values.reduce(0, +)) rows in evidence")
            } catch {
                self.logger.error("backup of a database failed", metadata: ["database.name": "\(db)", "error": "\(error)"])
                results.withLock { $0.failures.append(Manifest.Failure(database: db, step: "snapshot|pg_dump|\(self.config.encryption.kind)|store", message: "\(error)")) }
            }
        }
        let facts = await side
        results.withLock {
            $0.objects += facts.objects
            $0.failures += facts.failures
        }
        let (coverage, roles, server) = (facts.coverage, facts.roles, facts.server)
        let done = results.withLock { $0 }
        let order = Dictionary(config.databases.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var manifest = Manifest(
            timestamp: timestamp, createdAt: ISO8601DateFormatter().string(from: Date()), toolVersion: ToolVersion.current,
            pgDumpVersion: facts.pgDumpVersion, serverVersion: server, encryption: config.encryption.kind,
            recipientFingerprint: Decryption.fingerprint(config.encryption.recipient), databases: config.databases,
            objects: done.objects.sorted { (order[$0.database ?? ""] ?? Int.max, $0.key) < (order[$1.database ?? ""] ?? Int.max, $1.key) },
            failures: done.failures.sorted { (order[$0.database] ?? Int.max, $0.step) < (order[$1.database] ?? Int.max, $1.step) })
        manifest.compressLevel = config.compressLevel
        manifest.evidence = done.evidence
        manifest.roles = roles
        manifest.coverage = coverage
        let encoded = try manifest.encoded()
        // The signature goes first: a set that looks complete (its manifest present) is signed, or never was.
        if let key = config.signingKey {
            let signature = try ManifestSignature.sign(encoded, with: key).encoded()
            try await BlockingExecutor.run("backup") { try repo.put(ManifestSignature.key(timestamp), data: signature) }
        }
        try await BlockingExecutor.run("backup") { try repo.put(SetLayout.manifestKey(timestamp), data: encoded) }
        return Outcome(manifest: manifest, location: "\(store)/\(timestamp)", seconds: (ContinuousClock.now - started).inSeconds,
                       evidenceSeconds: done.evidenceSeconds)
    }

    /// What the server's side of a backup found and wrote.
    struct ServerSide: Sendable {
        var coverage: Coverage?
        var roles: [RoleEvidence]?
        var server = "unknown"
        var pgDumpVersion = "unknown"
        var objects: [Manifest.Object] = []
        var failures: [Manifest.Failure] = []
    }

    /// The server's facts in one connection (coverage, roles, version), the globals
    /// (`pg_dumpall --globals-only --no-role-passwords`: roles, memberships, role settings, never a
    /// password) and, with acp_audit, the roots snapshot. Every failure is recorded, none thrown.
    func serverSide(timestamp: String, store repo: any ObjectStore, environment env: [String: String], encrypt: ProcessPipeline.Step,
                    progress: (@Sendable (String) -> Void)?) async -> ServerSide {
        let ext = config.encryption.fileExtension
        var side = ServerSide()
        do {
            let facts = try await serverFacts()
            side.coverage = coverage(of: facts)
            side.roles = facts.roles
            side.server = facts.version
        } catch {
            side.failures.append(Manifest.Failure(database: "postgres", step: "list the server's databases and roles", message: "\(error)"))
        }
        side.pgDumpVersion = (try? await BlockingExecutor.run("backup") { ProcessPipeline.version("pg_dump") }) ?? "unknown"
        do {
            let key = SetLayout.globalsKey(timestamp, fileExtension: ext)
            progress?("globals (roles, no passwords)")
            side.objects.append(try await BlockingExecutor.run("backup") {
                try Self.stream([ProcessPipeline.Step(executable: "pg_dumpall", arguments: ["--globals-only", "--no-role-passwords", "--no-password"], environment: env), encrypt],
                                to: repo, key: key, database: nil, kind: "globals")
            })
        } catch {
            side.failures.append(Manifest.Failure(database: "postgres", step: "globals (pg_dumpall --globals-only)", message: "\(error)"))
        }
        if config.databases.contains("acp_audit") {
            let key = SetLayout.rootsKey(timestamp, fileExtension: ext)
            progress?("transparency_roots snapshot")
            do {
                let sql = "COPY (SELECT row_to_json(r) FROM (SELECT day, first_id, last_id, leaf_count, encode(root_hash, 'hex') AS root_hash, key_id, encode(signature, 'hex') AS signature, signed_at FROM transparency_roots ORDER BY day) r) TO STDOUT"
                side.objects.append(try await BlockingExecutor.run("backup") {
                    try Self.stream([ProcessPipeline.Step(executable: "psql", arguments: ["-X", "-v", "ON_ERROR_STOP=1", "--no-password", "--dbname", "acp_audit", "-c", sql], environment: env), encrypt],
                                    to: repo, key: key, database: nil, kind: "transparency_roots")
                })
            } catch {
                side.failures.append(Manifest.Failure(database: "acp_audit", step: "transparency_roots snapshot", message: "\(error)"))
            }
        }
        return side
    }

    /// One database: a session exports its snapshot and reads the sequences; pg_dump then dumps that
    /// snapshot while the session reads the rest of the evidence in it.
    func dump(_ db: String, key: String, to repo: any ObjectStore, environment env: [String: String], encrypt: ProcessPipeline.Step) async throws
        -> (object: Manifest.Object, evidence: DatabaseEvidence, evidenceSeconds: Double) {
        let (session, sequences) = try await BlockingExecutor.run("backup") { try Self.openSnapshot(db, environment: env) }
        do {
            let snapshot = session.snapshot
            let compress = config.compressLevel
            async let object = BlockingExecutor.run("backup") {
                try Self.stream([ProcessPipeline.Step(executable: "pg_dump", arguments: ["--format=custom", "--compress=\(compress)", "--no-password", "--snapshot", snapshot, "--dbname", db], environment: env), encrypt],
                                to: repo, key: key, database: db, kind: "dump")
            }
            let (evidence, seconds) = try await BlockingExecutor.run("backup") { try Self.evidence(in: session, sequences: sequences) }
            let dumped = try await object
            _ = try? await BlockingExecutor.run("backup") { session.close() }
            return (dumped, evidence, seconds)
        } catch {
            _ = try? await BlockingExecutor.run("backup") { session.close() }
            throw error
        }
    }

    /// A session holding `db`'s exported snapshot, and the sequences read in it before pg_dump starts. The
    /// session is closed when the sequences cannot be read.
    static func openSnapshot(_ db: String, environment env: [String: String]) throws -> (SnapshotSession, [String: Int64]) {
        let session = try SnapshotSession(database: db, environment: env)
        do {
            return (session, try DatabaseEvidence.parseSequences(try session.line(for: EvidenceQuery.sequences + ";")))
        } catch {
            session.close()
            throw error
        }
    }

    /// The session's evidence but its sequences (read before pg_dump starts), and the seconds its queries took.
    static func evidence(in session: SnapshotSession, sequences: [String: Int64]) throws -> (DatabaseEvidence, Double) {
        let t0 = ContinuousClock.now
        let catalog = try session.line(for: EvidenceQuery.database + ";")
        var evidence = try DatabaseEvidence.parse(catalog, counts: try session.line(for: EvidenceQuery.counts() + "\n\\gexec"))
        evidence.sequences = sequences
        evidence.snapshotAt = session.takenAt
        return (evidence, (ContinuousClock.now - t0).inSeconds)
    }

    /// The evidence's own cost, for `bench backup`: every database's evidence read as the backup reads it
    /// (its snapshot session, its sequences, its catalog and counts), one database after another and with
    /// no pg_dump beside it. Returns the seconds from the first session opened to the last closed.
    public func evidenceAlone() async throws -> Double {
        let env = pgEnv
        let databases = config.databases
        return try await BlockingExecutor.run("backup") { () throws -> Double in
            let t0 = ContinuousClock.now
            for db in databases {
                let (session, sequences) = try Self.openSnapshot(db, environment: env)
                defer { session.close() }
                _ = try Self.evidence(in: session, sequences: sequences)
            }
            return (ContinuousClock.now - t0).inSeconds
        }
    }

    /// The server's databases, roles and version, in one read-only connection.
    func serverFacts() async throws -> ServerFacts { try ServerFacts.parse(try await psqlLine(EvidenceQuery.server, database: "postgres")) }

    /// The server's databases, against `DATABASES` and `ACP_BACKUP_EXCLUDE` (what `--dry-run` shows).
    public func serverCoverage() async throws -> Coverage { coverage(of: try await serverFacts()) }

    func coverage(of facts: ServerFacts) -> Coverage { Coverage(server: facts.databases, databases: config.databases, excluded: config.excluded) }

    /// One line a query prints, from a database of the source (read-only: the session cannot write).
    func psqlLine(_ sql: String, database: String) async throws -> String {
        var env = pgEnv
        env["PGOPTIONS"] = "-c default_transaction_read_only=on"
        let environment = env
        return try await BlockingExecutor.run("backup") { () throws -> String in
            var text = ""
            try ProcessPipeline.run([ProcessPipeline.Step(executable: "psql", arguments: ["-X", "-At", "-v", "ON_ERROR_STOP=1", "--no-password", "--dbname", database, "-c", sql], environment: environment)]) {
                text += String(decoding: $0, as: UTF8.self)
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
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
