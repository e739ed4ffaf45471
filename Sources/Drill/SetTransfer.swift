import Common
import Foundation
import Repository
import Sandbox
import Synchronization

/// Download + SHA-256, then decrypt: the ciphertext of every object is checked against the manifest
/// before anything is decrypted; plaintext goes only into the sandbox (the host's scratch folder, 0700,
/// holds ciphertext downloaded from S3 at most).
/// Records `checksum.<object>` and `decrypt.<object>` checks in the ledger.
struct SetTransfer: Sendable {
    let source: any ObjectStore
    let decryption: Decryption
    let jobs: Int
    let scratch: ScratchFolder
    let ledger: DrillLedger

    /// An object whose ciphertext matched the manifest, and where it can be read.
    struct Fetched: Sendable {
        var object: Manifest.Object
        var path: String
    }

    /// What decrypted.
    struct Plain: Sendable {
        /// database → bytes of its plaintext custom-format dump, now in the sandbox (`DatabaseRestore.folder`)
        var dumps: [String: Int64]
        var snapshot: [UInt8]?
        /// The globals (`pg_dumpall --globals-only`), decrypted into memory: roles, no passwords.
        var globals: [UInt8]?
    }

    static let checksumFix = "the object changed after the backup wrote it (tampering, a partial upload or bit rot): drill an older set with --backup TS and investigate the repository"

    static func name(of object: Manifest.Object) -> String { object.database ?? (object.kind == "globals" ? "globals" : "transparency_roots") }

    /// Reads every object (a folder's in place, any other store's into scratch) and checks its size and SHA-256.
    func download(_ manifest: Manifest) async throws -> [Fetched] {
        let results = Mutex<[Fetched]>([])
        let (source, scratch, ledger) = (self.source, self.scratch, self.ledger)
        try await Concurrently.forEach(manifest.objects, limit: 4) { object in
            let t0 = ContinuousClock.now
            let name = Self.name(of: object)
            do {
                let (path, size, digest) = try await BlockingExecutor.run("drill") { () throws -> (String, Int64, String) in
                    let path = try source.localPath(of: object.key) ?? {
                        let path = "\(scratch.path)/\(object.key.replacingOccurrences(of: "/", with: "_"))"
                        try source.download(object.key, to: path)
                        return path
                    }()
                    let (size, digest) = try FileDigest.sha256(path: path) { done in
                        if done % (64 << 20) < (1 << 20) { ledger.emit(.bytes(stage: "download", item: name, done: done, total: object.size)) }
                    }
                    return (path, size, digest)
                }
                let seconds = (ContinuousClock.now - t0).inSeconds
                if size == object.size && digest == object.sha256 {
                    ledger.check("checksum.\(name)", .core, .passed,
                                 "\(object.key): \(size) bytes, sha256 \(digest.prefix(16))… matches the manifest (\(Rate.text(size, seconds)))", seconds: seconds)
                    results.withLock { $0.append(Fetched(object: object, path: path)) }
                } else {
                    let what = size != object.size ? "size \(size) bytes, the manifest says \(object.size)" : "sha256 \(digest.prefix(16))…, the manifest says \(object.sha256.prefix(16))…"
                    ledger.check("checksum.\(name)", .core, .failed, "\(object.key): \(what)", fix: Self.checksumFix, seconds: seconds)
                }
            } catch where !(error is CancellationError) && !Task.isCancelled {
                let fix = if let local = error as? LocalWriteError {
                    local.errno == ENOSPC
                        ? "the drill's scratch folder \(scratch.path) has no room for the set's ciphertext: free space there, or point TMPDIR at a larger file system"
                        : "the drill's scratch folder \(scratch.path) cannot be written: check its file system, or point TMPDIR elsewhere"
                } else if source.localPath(of: object.key) != nil {
                    "the object is missing from the repository folder, or the drill may not read it"
                } else {
                    "verify the S3 endpoint, region and credentials"
                }
                ledger.check("checksum.\(name)", .core, .failed, "\(object.key): cannot fetch: \(error)", fix: fix,
                             seconds: (ContinuousClock.now - t0).inSeconds)
            }
        }
        return results.withLock { $0 }
    }

    /// Decrypts what matched straight into the sandbox's Postgres (`Sandbox.pipe`: the decryptor's output
    /// goes over exec stdin into `DatabaseRestore.folder`, so no plaintext dump touches the host's disk);
    /// the small roots snapshot is decrypted into memory. A wrong identity is named before anything is
    /// decrypted; a dump whose decryption fails (age's authentication) is removed from the sandbox.
    /// `placement` names each database's Postgres instance when the set is spread over several (else the first).
    func decrypt(_ manifest: Manifest, objects: [Fetched], into sandbox: Sandbox, placement: [String: Sandbox.Service] = [:]) async throws -> Plain {
        let (decryption, source, ledger) = (self.decryption, self.source, self.ledger)
        let opens = try await BlockingExecutor.run("drill") { decryption.recipientFingerprints() }
        if let opens, !opens.contains(manifest.recipientFingerprint) {
            for f in objects {
                ledger.check("decrypt.\(Self.name(of: f.object))", .core, .failed,
                             "the age identity opens recipient(s) \(opens.joined(separator: ", ")), but set \(manifest.timestamp) was encrypted to \(manifest.recipientFingerprint)",
                             fix: "confirm ACP_BACKUP_AGE_IDENTITY matches the recipient used at backup (ACP_BACKUP_AGE_RECIPIENT)")
            }
            return Plain(dumps: [:], snapshot: nil)
        }
        guard let pg = sandbox.service(role: .postgres) else {
            throw SandboxError(code: .notFound, message: "the drill stack has no Postgres service (x-acp-drill-role: postgres)")
        }
        let folder = DatabaseRestore.folder
        let instances = sandbox.services.filter { i in i.role == .postgres && (i.name == pg.name || placement.values.contains { $0.name == i.name }) }
        // At once: on a swarm, each instance's first command also starts its workspace.
        try await Concurrently.forEach(instances, limit: instances.count) { instance in
            let made = try await sandbox.run(["mkdir", "-p", "-m", "0700", folder], in: instance)
            guard made.exitCode == 0 else { throw SandboxError(code: .exec, message: "cannot create \(folder) in \(instance.containerName): \(made.stderrText)") }
        }
        let fix = decryption.kind == "age" ? "confirm ACP_BACKUP_AGE_IDENTITY matches the recipient used at backup; a truncated or altered object fails age's authentication"
            : "confirm ACP_BACKUP_GPG_HOMEDIR holds the secret key of the recipient used at backup"
        let result = Mutex(Plain(dumps: [:], snapshot: nil))
        try await Concurrently.forEach(objects, limit: jobs) { f in
            let name = Self.name(of: f.object)
            let t0 = ContinuousClock.now
            let step = decryption.step(input: f.path)
            do {
                let size: Int64
                if let db = f.object.database {
                    let pg = placement[db] ?? pg
                    let file = "\(folder)/\(db).dump"
                    let r = try await sandbox.pipe([step.executable] + step.arguments, environment: step.environment,
                                                   into: ["sh", "-c", #"umask 077; cat > "$1""#, "sh", file], in: pg)
                    guard r.producerStatus == 0, r.command.exitCode == 0 else {
                        _ = try? await sandbox.run(["rm", "-f", file], in: pg)
                        let why = r.producerStatus != 0 ? r.producerError : "writing \(file) in the sandbox: \(r.command.stderrText)"
                        throw RepositoryError(message: "\(decryption.kind) failed: \(why.isEmpty ? "exit \(r.producerStatus)" : why)")
                    }
                    size = r.bytes
                    result.withLock { $0.dumps[db] = size }
                } else {
                    let bytes = try await BlockingExecutor.run("drill") { () throws -> [UInt8] in
                        var out: [UInt8] = []
                        try ProcessPipeline.run([step]) { out.append(contentsOf: $0) }
                        return out
                    }
                    size = Int64(bytes.count)
                    result.withLock { if f.object.kind == "globals" { $0.globals = bytes } else { $0.snapshot = bytes } }
                }
                let seconds = (ContinuousClock.now - t0).inSeconds
                if source.localPath(of: f.object.key) == nil { try? FileManager.default.removeItem(atPath: f.path) }
                ledger.check("decrypt.\(name)", .core, .passed,
                             "\(f.object.key): \(decryption.kind) → \(size) bytes\(f.object.database == nil ? " (in memory)" : " into the sandbox") (\(Rate.text(size, seconds)))",
                             seconds: seconds)
            } catch where !(error is CancellationError) && !Task.isCancelled {
                ledger.check("decrypt.\(name)", .core, .failed, "\(f.object.key): \(error)", fix: fix, seconds: (ContinuousClock.now - t0).inSeconds)
            }
        }
        return result.withLock { $0 }
    }
}

/// A transfer rate for evidence lines.
enum Rate {
    static func text(_ bytes: Int64, _ seconds: Double) -> String {
        String(format: "%.1f MB/s", seconds > 0 ? Double(bytes) / 1e6 / seconds : 0)
    }
}
