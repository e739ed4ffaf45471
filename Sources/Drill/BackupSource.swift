import Foundation
public import Logging
public import Repository

/// Where a drill reads backup sets from: a local folder (read in place) or S3 (downloaded into the
/// drill's private scratch folder). Only complete sets — those with a manifest — are listed.
public struct BackupSource: Sendable, CustomStringConvertible {
    public typealias Location = RepositoryLocation

    public let location: Location
    let local: LocalRepository?
    let s3: S3Client?
    let s3Location: S3Location?

    public init(_ location: Location, environment: [String: String], logger: Logger) throws {
        self.location = location
        switch location {
        case .local(let path):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw DrillError(.configuration, "repository \(path): no such folder")
            }
            local = LocalRepository(root: path)
            s3 = nil
            s3Location = nil
        case .s3(let url, let endpoint):
            local = nil
            s3Location = try S3Location(url: url)
            s3 = try S3Client(endpoint: endpoint, environment: environment, logger: logger)
        }
    }

    public var description: String {
        switch location {
        case .local(let path): path
        case .s3(let url, let endpoint): endpoint.map { "\(url) at \($0)" } ?? url
        }
    }

    /// Whether objects are read in place (no download stage).
    public var isLocal: Bool { local != nil }

    /// Timestamps of the complete sets, newest first.
    public func completeSets() throws -> [String] {
        if let local { return try local.completeSets() }
        let (s3, loc) = (s3!, s3Location!)
        let base = loc.key("")
        let listing = try s3.list(bucket: loc.bucket, prefix: base)
        return listing.keys.compactMap { entry -> String? in
            let rel = entry.key.dropFirst(base.count)
            let parts = rel.split(separator: "/")
            guard parts.count == 2, parts[1] == "manifest.json", parts[0] != "transparency_roots" else { return nil }
            return String(parts[0])
        }.sorted(by: >)
    }

    public func manifest(_ timestamp: String) throws -> Manifest {
        let key = "\(timestamp)/manifest.json"
        if let local { return try Manifest.decode(local.read(key)) }
        return try Manifest.decode(Data(s3!.getData(bucket: s3Location!.bucket, key: s3Location!.key(key))))
    }

    /// A readable path for `key`: the object itself in a folder; for S3, a download into `scratch`.
    public func fetch(_ key: String, scratch: String) throws -> String {
        if let local { return local.path(of: key) }
        let path = "\(scratch)/\(key.replacingOccurrences(of: "/", with: "_"))"
        try s3!.getFile(bucket: s3Location!.bucket, key: s3Location!.key(key), to: path)
        return path
    }
}
