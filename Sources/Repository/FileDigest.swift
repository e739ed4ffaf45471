import Crypto
import Foundation

/// Size and SHA-256 of a file, read in 1 MiB chunks (constant memory): how a set's objects are checked
/// against their manifest before anything is decrypted.
public enum FileDigest {
    /// The size of a file in bytes, or nil when it cannot be read.
    public static func size(path: String) -> Int64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value
    }

    public static func sha256(path: String, onProgress: ((Int64) -> Void)? = nil) throws -> (size: Int64, sha256: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw RepositoryError(message: "\(path): cannot read: \(String(cString: strerror(errno)))") }
        let h = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
            onProgress?(size)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
