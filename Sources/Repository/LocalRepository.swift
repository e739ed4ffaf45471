public import Foundation

/// A repository in a local folder (the embedded default for demos and tests), laid out as `SetLayout` says.
/// Objects are written to a temporary name, synced, then renamed: a half-written object never looks complete.
public struct LocalRepository: ObjectStore {
    public let root: String

    public init(root: String) { self.root = root }

    public var description: String { root }

    public func path(of key: String) -> String { "\(root)/\(key)" }

    public func localPath(of key: String) -> String? { path(of: key) }

    public func list(prefix: String) throws -> [StoredObject] {
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw RepositoryError(message: "\(root): cannot read the repository folder")
        }
        var out: [StoredObject] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasPrefix(prefix), !relative.hasSuffix(LocalObjectWriter.partialSuffix),
                  let attributes = walker.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            out.append(StoredObject(key: relative, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0))
        }
        return out
    }

    public func read(_ key: String, range: Range<Int64>?) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path(of: key)) else {
            throw RepositoryError(message: "\(path(of: key)): no such object")
        }
        defer { try? handle.close() }
        guard let range else { return try handle.readToEnd() ?? Data() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        return try handle.read(upToCount: Int(range.count)) ?? Data()
    }

    public func download(_ key: String, to file: String) throws {
        let source = path(of: key)
        guard FileManager.default.fileExists(atPath: source) else { throw RepositoryError(message: "\(source): no such object") }
        try? FileManager.default.removeItem(atPath: file)
        do { try FileManager.default.copyItem(atPath: source, toPath: file) } catch {
            throw RepositoryError(message: "\(source): cannot copy to \(file): \(error.localizedDescription)")
        }
        _ = chmod(file, 0o600)
    }

    /// Opens a writer for `key`; `commit()` makes the object visible.
    public func writer(for key: String) throws -> any ObjectWriter {
        let path = path(of: key)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return try LocalObjectWriter(path: path)
    }

    public func delete(_ key: String) throws {
        if unlink(path(of: key)) != 0 && errno != ENOENT {
            throw RepositoryError(message: "\(path(of: key)): cannot remove (errno \(errno))")
        }
    }
}

/// Writes one object: streamed chunks to `<path>.partial` (0600), then fsync and rename on `commit`.
public final class LocalObjectWriter: ObjectWriter, @unchecked Sendable {
    static let partialSuffix = ".partial"
    let path: String
    let handle: FileHandle

    init(path: String) throws {
        self.path = path
        let partial = path + Self.partialSuffix
        _ = FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600])
        guard let h = FileHandle(forWritingAtPath: partial) else { throw RepositoryError(message: "\(partial): cannot write") }
        handle = h
    }

    public func write(_ data: Data) throws { try handle.write(contentsOf: data) }

    public func commit() throws {
        try handle.synchronize()
        try handle.close()
        if rename(path + Self.partialSuffix, path) != 0 { throw RepositoryError(message: "\(path): rename failed (errno \(errno))") }
    }

    public func abort() {
        try? handle.close()
        unlink(path + Self.partialSuffix)
    }
}
