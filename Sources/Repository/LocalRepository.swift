public import Foundation

/// A repository in a local folder (the embedded default for demos and tests):
/// `<root>/<ts>/<database>.dump.age`, `<root>/<ts>/manifest.json`, `<root>/transparency_roots/<ts>.jsonl.age`.
/// Objects are written to a temporary name, synced, then renamed: a half-written object never looks complete.
public struct LocalRepository: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var description: String { root }

    /// Opens a writer for `key`; `commit()` makes the object visible.
    public func writer(for key: String) throws -> LocalObjectWriter {
        let path = "\(root)/\(key)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return try LocalObjectWriter(path: path)
    }

    public func put(_ key: String, data: Data) throws {
        let w = try writer(for: key)
        try w.write(data)
        try w.commit()
    }

    public func read(_ key: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(key)") else {
            throw RepositoryError(message: "\(root)/\(key): no such object")
        }
        return data
    }

    public func path(of key: String) -> String { "\(root)/\(key)" }

    /// The backup sets with a manifest (complete sets only), newest first.
    public func completeSets() throws -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return entries.filter { $0 != "transparency_roots" && FileManager.default.fileExists(atPath: "\(root)/\($0)/manifest.json") }
            .sorted(by: >)
    }
}

/// Writes one object: streamed chunks to `<path>.partial`, then fsync and rename on `commit`.
public final class LocalObjectWriter: @unchecked Sendable {
    let path: String
    let handle: FileHandle

    init(path: String) throws {
        self.path = path
        let partial = path + ".partial"
        _ = FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600])
        guard let h = FileHandle(forWritingAtPath: partial) else { throw RepositoryError(message: "\(partial): cannot write") }
        handle = h
    }

    public func write(_ data: Data) throws { try handle.write(contentsOf: data) }

    public func commit() throws {
        try handle.synchronize()
        try handle.close()
        if rename(path + ".partial", path) != 0 { throw RepositoryError(message: "\(path): rename failed (errno \(errno))") }
    }

    public func abort() {
        try? handle.close()
        unlink(path + ".partial")
    }
}
