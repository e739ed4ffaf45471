import Common
import Foundation
import Repository
import Synchronization

/// Download + SHA-256, then decrypt: the ciphertext of every object is checked against the manifest
/// before anything is decrypted; plaintext goes only to the private scratch folder (0700, files 0600).
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
        /// database → plaintext custom-format dump (in scratch)
        var dumps: [String: String]
        var snapshot: [UInt8]?
    }

    static let checksumFix = "the object changed after the backup wrote it (tampering, a partial upload or bit rot): drill an older set with --backup TS and investigate the repository"

    static func name(of object: Manifest.Object) -> String { object.database ?? "transparency_roots" }

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
                ledger.check("checksum.\(name)", .core, .failed, "\(object.key): cannot read: \(error)",
                             fix: source.localPath(of: object.key) != nil ? "the object is missing from the repository folder" : "verify the S3 endpoint, region and credentials",
                             seconds: (ContinuousClock.now - t0).inSeconds)
            }
        }
        return results.withLock { $0 }
    }

    /// Decrypts what matched; a wrong identity is named before anything is decrypted.
    func decrypt(_ manifest: Manifest, objects: [Fetched]) async throws -> Plain {
        let (decryption, source, scratch, ledger) = (self.decryption, self.source, self.scratch, self.ledger)
        let opens = try await BlockingExecutor.run("drill") { decryption.recipientFingerprints() }
        if let opens, !opens.contains(manifest.recipientFingerprint) {
            for f in objects {
                ledger.check("decrypt.\(Self.name(of: f.object))", .core, .failed,
                             "the age identity opens recipient(s) \(opens.joined(separator: ", ")), but set \(manifest.timestamp) was encrypted to \(manifest.recipientFingerprint)",
                             fix: "confirm ACP_BACKUP_AGE_IDENTITY matches the recipient used at backup (ACP_BACKUP_AGE_RECIPIENT)")
            }
            return Plain(dumps: [:], snapshot: nil)
        }
        let result = Mutex(Plain(dumps: [:], snapshot: nil))
        try await Concurrently.forEach(objects, limit: jobs) { f in
            let name = Self.name(of: f.object)
            let out = "\(scratch.path)/\(name).plain"
            let t0 = ContinuousClock.now
            do {
                let size = try await BlockingExecutor.run("drill") { try decryption.decrypt(f.path, to: out) }
                let seconds = (ContinuousClock.now - t0).inSeconds
                if source.localPath(of: f.object.key) == nil { try? FileManager.default.removeItem(atPath: f.path) }
                if let db = f.object.database {
                    result.withLock { $0.dumps[db] = out }
                } else {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
                    try? FileManager.default.removeItem(atPath: out)
                    result.withLock { $0.snapshot = Array(bytes) }
                }
                ledger.check("decrypt.\(name)", .core, .passed, "\(f.object.key): \(decryption.kind) → \(size) bytes (\(Rate.text(size, seconds)))", seconds: seconds)
            } catch where !(error is CancellationError) && !Task.isCancelled {
                try? FileManager.default.removeItem(atPath: out)
                let fix = decryption.kind == "age" ? "confirm ACP_BACKUP_AGE_IDENTITY matches the recipient used at backup; a truncated or altered object fails age's authentication"
                    : "confirm ACP_BACKUP_GPG_HOMEDIR holds the secret key of the recipient used at backup"
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
