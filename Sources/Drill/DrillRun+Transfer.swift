import CurlHTTP
import Foundation
import Repository
import Synchronization

/// Download + SHA-256 and decrypt: ciphertext is checked against the manifest before anything is
/// decrypted; plaintext goes only to the private scratch folder (0700, files 0600), removed on every exit.
extension DrillRun {
    struct Fetched: Sendable {
        var object: Manifest.Object
        var path: String
    }

    struct Plain: Sendable {
        /// database → plaintext custom-format dump (in scratch)
        var dumps: [String: String]
        var snapshot: [UInt8]?
    }

    static let checksumFix = "the object changed after the backup wrote it (tampering, a partial upload or bit rot): drill an older set with --backup TS and investigate the repository"

    func name(of object: Manifest.Object) -> String { object.database ?? "transparency_roots" }

    func download(_ manifest: Manifest, scratch: String) async throws -> [Fetched] {
        let source = options.source
        let results = Mutex<[Fetched]>([])
        try await Self.forEach(manifest.objects, concurrency: 4) { object in
            let t0 = ContinuousClock.now
            let name = self.name(of: object)
            do {
                let (path, size, digest) = try await BlockingExecutor.run("drill") { () throws -> (String, Int64, String) in
                    let path = try source.fetch(object.key, scratch: scratch)
                    let (size, digest) = try FileDigest.sha256(path: path) { done in
                        if done % (64 << 20) < (1 << 20) { self.emit(.bytes(stage: "download", item: name, done: done, total: object.size)) }
                    }
                    return (path, size, digest)
                }
                let seconds = (ContinuousClock.now - t0).inSeconds
                if size == object.size && digest == object.sha256 {
                    self.check("checksum.\(name)", kind: "core", .passed,
                               "\(object.key): \(size) bytes, sha256 \(digest.prefix(16))… matches the manifest (\(Self.rate(size, seconds)))", seconds: seconds)
                    results.withLock { $0.append(Fetched(object: object, path: path)) }
                } else {
                    let what = size != object.size ? "size \(size) bytes, the manifest says \(object.size)" : "sha256 \(digest.prefix(16))…, the manifest says \(object.sha256.prefix(16))…"
                    self.check("checksum.\(name)", kind: "core", .failed, "\(object.key): \(what)", fix: Self.checksumFix, seconds: seconds)
                }
            } catch where !(error is CancellationError) && !Task.isCancelled {
                self.check("checksum.\(name)", kind: "core", .failed, "\(object.key): cannot read: \(error)",
                           fix: self.options.source.isLocal ? "the object is missing from the repository folder" : "verify the S3 endpoint, region and credentials",
                           seconds: (ContinuousClock.now - t0).inSeconds)
            }
        }
        return results.withLock { $0 }
    }

    func decrypt(_ manifest: Manifest, objects: [Fetched], scratch: String) async throws -> Plain {
        let decryption = options.decryption
        // A wrong identity is named before anything is decrypted (age: the identity's recipients vs the manifest).
        let opens = try await BlockingExecutor.run("drill") { decryption.recipientFingerprints() }
        if let opens, !opens.contains(manifest.recipientFingerprint) {
            for f in objects {
                check("decrypt.\(name(of: f.object))", kind: "core", .failed,
                      "the age identity opens recipient(s) \(opens.joined(separator: ", ")), but set \(manifest.timestamp) was encrypted to \(manifest.recipientFingerprint)",
                      fix: "confirm ACP_BACKUP_AGE_IDENTITY matches the recipient used at backup (ACP_BACKUP_AGE_RECIPIENT)")
            }
            return Plain(dumps: [:], snapshot: nil)
        }
        let result = Mutex(Plain(dumps: [:], snapshot: nil))
        try await Self.forEach(objects, concurrency: options.jobs) { f in
            let name = self.name(of: f.object)
            let out = "\(scratch)/\(name).plain"
            let t0 = ContinuousClock.now
            do {
                let size = try await BlockingExecutor.run("drill") { try decryption.decrypt(f.path, to: out) }
                let seconds = (ContinuousClock.now - t0).inSeconds
                if !self.options.source.isLocal { try? FileManager.default.removeItem(atPath: f.path) }
                if let db = f.object.database {
                    result.withLock { $0.dumps[db] = out }
                } else {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
                    try? FileManager.default.removeItem(atPath: out)
                    result.withLock { $0.snapshot = Array(bytes) }
                }
                self.check("decrypt.\(name)", kind: "core", .passed, "\(f.object.key): \(decryption.kind) → \(size) bytes (\(Self.rate(size, seconds)))", seconds: seconds)
            } catch where !(error is CancellationError) && !Task.isCancelled {
                try? FileManager.default.removeItem(atPath: out)
                let fix = decryption.kind == "age" ? "confirm ACP_BACKUP_AGE_IDENTITY matches the recipient used at backup; a truncated or altered object fails age's authentication"
                    : "confirm ACP_BACKUP_GPG_HOMEDIR holds the secret key of the recipient used at backup"
                self.check("decrypt.\(name)", kind: "core", .failed, "\(f.object.key): \(error)", fix: fix, seconds: (ContinuousClock.now - t0).inSeconds)
            }
        }
        return result.withLock { $0 }
    }

    static func rate(_ bytes: Int64, _ seconds: Double) -> String {
        String(format: "%.1f MB/s", seconds > 0 ? Double(bytes) / 1e6 / seconds : 0)
    }

    /// Runs `body` for each item with at most `concurrency` at once; cancellation stops new items.
    public static func forEach<T: Sendable>(_ items: [T], concurrency: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0 ..< min(max(1, concurrency), items.count) {
                let item = items[next]; next += 1
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil {
                try Task.checkCancellation()
                if next < items.count {
                    let item = items[next]; next += 1
                    group.addTask { try await body(item) }
                }
            }
        }
    }
}
