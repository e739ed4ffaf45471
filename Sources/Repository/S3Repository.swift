public import Foundation

/// A repository in S3 (or an S3-compatible store) under `s3://bucket/prefix`, laid out as `SetLayout` says.
/// Writes are spooled as ciphertext to a private (0700) folder, then uploaded on `commit()`: S3 needs each
/// length up front, and a retried part must be re-read. Plaintext never reaches the spool.
public struct S3Repository: ObjectStore {
    public let location: S3Location
    public let client: S3Client
    let endpointText: String?
    /// `x-amz-server-side-encryption` sent with every upload (`AES256` for the receipts mirror, as the
    /// runbook's table says); nil sends none (backup sets are encrypted before they leave the host).
    public let serverSideEncryption: String?

    public init(location: S3Location, client: S3Client, endpointText: String? = nil, serverSideEncryption: String? = nil) {
        self.location = location
        self.client = client
        self.endpointText = endpointText
        self.serverSideEncryption = serverSideEncryption
    }

    var uploadHeaders: [(String, String)] { serverSideEncryption.map { [("x-amz-server-side-encryption", $0)] } ?? [] }

    public func folders() throws -> [String] {
        let base = location.key("")
        return try client.list(bucket: location.bucket, prefix: base, delimiter: "/").prefixes.compactMap { p in
            guard p.hasPrefix(base), p.hasSuffix("/") else { return nil }
            return String(p.dropFirst(base.count).dropLast())
        }
    }

    /// One PUT from memory: a small object (a batch of receipts) needs no spool.
    public func put(_ key: String, data: Data) throws {
        try client.putData(bucket: location.bucket, key: location.key(key), data: [UInt8](data), headers: uploadHeaders)
    }

    public var description: String {
        let url = "s3://\(location.bucket)" + (location.prefix.isEmpty ? "" : "/\(location.prefix)")
        return RepositoryLocation.s3(url: url, endpoint: endpointText).description
    }

    public func localPath(of key: String) -> String? { nil }

    public func list(prefix: String) throws -> [StoredObject] {
        let base = location.key("")
        return try client.list(bucket: location.bucket, prefix: location.key(prefix)).keys.compactMap { entry in
            entry.key.hasPrefix(base) ? StoredObject(key: String(entry.key.dropFirst(base.count)), size: entry.size) : nil
        }
    }

    public func read(_ key: String, range: Range<Int64>?) throws -> Data {
        Data(try client.getData(bucket: location.bucket, key: location.key(key), range: range))
    }

    public func download(_ key: String, to file: String) throws {
        try client.getFile(bucket: location.bucket, key: location.key(key), to: file)
    }

    public func writer(for key: String) throws -> any ObjectWriter {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("acp-drill-spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let local = try LocalRepository(root: spool).writer(for: "object")
        return SpooledUpload(spool: spool, local: local) { path in
            try client.putFile(bucket: location.bucket, key: location.key(key), path: path, headers: uploadHeaders)
        }
    }

    public func delete(_ key: String) throws {
        try client.delete(bucket: location.bucket, key: location.key(key))
    }
}

/// An object spooled to a private folder, uploaded on `commit()`; the spool is removed either way.
final class SpooledUpload: ObjectWriter, @unchecked Sendable {
    let spool: String
    let local: any ObjectWriter
    let upload: (String) throws -> Void

    init(spool: String, local: any ObjectWriter, upload: @escaping (String) throws -> Void) {
        self.spool = spool
        self.local = local
        self.upload = upload
    }

    func write(_ data: Data) throws { try local.write(data) }

    func commit() throws {
        defer { try? FileManager.default.removeItem(atPath: spool) }
        try local.commit()
        try upload("\(spool)/object")
    }

    func abort() {
        local.abort()
        try? FileManager.default.removeItem(atPath: spool)
    }
}
