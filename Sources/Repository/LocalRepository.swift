public import Foundation

/// A repository in a local folder (the embedded default for demos and tests), laid out as `SetLayout` says.
/// Objects are written to a temporary name, synced, then renamed: a half-written object never looks complete.
public struct LocalRepository: ObjectStore {
    public let root: String

    public init(root: String) { self.root = root }

    public var description: String { root }

    public func path(of key: String) -> String { "\(root)/\(key)" }

    public func localPath(of key: String) -> String? { path(of: key) }

    /// Walks the folder with readdir(3), so that a folder it may not read is an error naming the folder and
    /// the system's reason, never a silently shorter listing (which would drill an older set, or none).
    public func list(prefix: String) throws -> [StoredObject] {
        var out: [StoredObject] = []
        try walk("", prefix: prefix, into: &out)
        return out
    }

    public func folders() throws -> [String] {
        guard let dir = opendir(root) else {
            throw RepositoryError(message: "\(root): cannot read the repository folder: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var out: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw RepositoryError(message: "\(root): cannot read the repository folder: \(String(cString: strerror(errno)))") }
                return out
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var st = stat()
            guard name != ".", name != "..", lstat("\(root)/\(name)", &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            out.append(name)
        }
    }

    func walk(_ relative: String, prefix: String, into out: inout [StoredObject]) throws {
        let folder = relative.isEmpty ? root : "\(root)/\(relative)"
        guard let dir = opendir(folder) else {
            throw RepositoryError(message: "\(folder): cannot read the repository folder: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw RepositoryError(message: "\(folder): cannot read the repository folder: \(String(cString: strerror(errno)))") }
                return
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            // Only folders that can lead to a key under the prefix are entered.
            guard key.hasPrefix(prefix) || prefix.hasPrefix(key + "/") else { continue }
            var st = stat()
            guard lstat("\(root)/\(key)", &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try walk(key, prefix: prefix, into: &out)
            case S_IFREG where key.hasPrefix(prefix) && !key.hasSuffix(LocalObjectWriter.partialSuffix):
                out.append(StoredObject(key: key, size: Int64(st.st_size)))
            default: continue
            }
        }
    }

    public func read(_ key: String, range: Range<Int64>?) throws -> Data {
        let fd = open(path(of: key), O_RDONLY)
        guard fd >= 0 else {
            let why = errno == ENOENT ? "no such object" : "cannot read: \(String(cString: strerror(errno)))"
            throw RepositoryError(message: "\(path(of: key)): \(why)")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
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
