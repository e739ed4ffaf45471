public import Foundation

/// A repository in S3 (or an S3-compatible store) under `s3://bucket/prefix`, laid out as `SetLayout` says.
/// Writes stream as multipart parts while they are written (`S3StreamingUpload`): nothing is spooled to
/// disk, and a retried part is re-sent from memory.
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

    /// Streams the object as it is written (`S3StreamingUpload`): parts in memory, uploaded while the
    /// next fills; nothing on disk.
    public func writer(for key: String) throws -> any ObjectWriter {
        S3StreamingUpload(client: client, bucket: location.bucket, key: location.key(key), headers: uploadHeaders)
    }

    public func delete(_ key: String) throws {
        try client.delete(bucket: location.bucket, key: location.key(key))
    }
}
