public import Foundation

/// The repository backend seam (docs/DESIGN.md §4): where a backup set's objects live. A local folder
/// (`LocalRepository`) and S3 (`S3Repository`) implement it; the set layout on top of it (`SetLayout`) is
/// coded once. A GCS or Azure backend is one more conforming type and its tests.
///
/// Keys are relative paths with `/` (`<ts>/<database>.dump.age`). Every call is blocking: run it on a
/// thread of its own (`BlockingExecutor`), never on the cooperative pool.
public protocol ObjectStore: Sendable, CustomStringConvertible {
    /// Every object whose key starts with `prefix`, with its size; in no particular order.
    func list(prefix: String) throws -> [StoredObject]

    /// An object's bytes, or a byte range of them (`range` in bytes, half-open). For small objects
    /// (manifests, snapshots) or one range of a large one.
    func read(_ key: String, range: Range<Int64>?) throws -> Data

    /// Copies an object into a local file (0600), resuming where a broken transfer stopped.
    func download(_ key: String, to file: String) throws

    /// The object's own path when the store is a folder on this machine (read in place, nothing copied).
    func localPath(of key: String) -> String?

    /// A writer for `key`: nothing is visible under `key` until `commit()`; `abort()` leaves nothing.
    func writer(for key: String) throws -> any ObjectWriter

    /// Removes an object; removing one that is absent is not an error.
    func delete(_ key: String) throws

    /// The names of the top-level folders (S3: the common prefixes under `/`), without reading below them.
    func folders() throws -> [String]

    /// Writes a whole (small) object at once; nothing is visible under `key` until it is complete.
    func put(_ key: String, data: Data) throws
}

/// One object being written: chunks, then `commit()` (which makes it visible) or `abort()`.
public protocol ObjectWriter: Sendable {
    func write(_ data: Data) throws
    func commit() throws
    func abort()
}

/// A listed object.
public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var size: Int64

    public init(key: String, size: Int64) {
        self.key = key
        self.size = size
    }
}

extension ObjectStore {
    /// The whole object.
    public func read(_ key: String) throws -> Data { try read(key, range: nil) }

    /// Writes a whole object at once, through `writer(for:)`.
    public func put(_ key: String, data: Data) throws {
        let w = try writer(for: key)
        do {
            try w.write(data)
            try w.commit()
        } catch {
            w.abort()
            throw error
        }
    }
}
