public import Foundation
public import Logging

/// Where a backup set's objects go, coded once for every store (docs/DESIGN.md §4):
///
///     <ts>/<database>.dump.<age|gpg>      one encrypted custom-format dump per database
///     <ts>/manifest.json                  written last: what a complete set is
///     transparency_roots/<ts>.jsonl.<ext> the separately stored roots snapshot
public enum SetLayout {
    public static let rootsFolder = "transparency_roots"

    public static func dumpKey(_ timestamp: String, database: String, fileExtension: String) -> String {
        "\(timestamp)/\(database).dump.\(fileExtension)"
    }

    public static func rootsKey(_ timestamp: String, fileExtension: String) -> String {
        "\(rootsFolder)/\(timestamp).jsonl.\(fileExtension)"
    }

    /// The set's globals: `<ts>/globals.sql.<ext>` (roles, memberships and role settings; no passwords).
    public static func globalsKey(_ timestamp: String, fileExtension: String) -> String { "\(timestamp)/globals.sql.\(fileExtension)" }

    public static func manifestKey(_ timestamp: String) -> String { "\(timestamp)/manifest.json" }

    /// The set a key names as its manifest (`<ts>/manifest.json`), if it is one.
    public static func set(ofManifestKey key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1] == "manifest.json", !parts[0].isEmpty, parts[0] != rootsFolder else { return nil }
        return String(parts[0])
    }

    /// The store behind a location: the folder must exist unless `creating` (a backup's first set); S3
    /// takes its credentials from `environment`.
    public static func open(_ location: RepositoryLocation, environment: [String: String], logger: Logger, creating: Bool = false,
                            serverSideEncryption: String? = nil) throws -> any ObjectStore {
        switch location {
        case .local(let path):
            if creating {
                do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                    throw RepositoryError(message: "repository \(path): cannot create the folder: \(error.localizedDescription)")
                }
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw RepositoryError(message: "repository \(path): no such folder")
            }
            return LocalRepository(root: path)
        case .s3(let url, let endpoint):
            return try S3Repository(location: S3Location(url: url), client: S3Client(endpoint: endpoint, environment: environment, logger: logger),
                                    endpointText: endpoint, serverSideEncryption: serverSideEncryption)
        }
    }
}

extension ObjectStore {
    /// Timestamps of the complete sets (those with a manifest), newest first.
    public func completeSets() throws -> [String] {
        try sets().complete
    }

    /// From one listing: the complete sets (with a manifest) and every set folder that holds anything, each
    /// newest first. A folder without a manifest is a backup that is running, or one that failed.
    public func sets() throws -> (complete: [String], all: [String]) {
        let keys = try list(prefix: "").map(\.key)
        let complete = keys.compactMap { SetLayout.set(ofManifestKey: $0) }
        let all = Set(keys.compactMap { key -> String? in
            guard let folder = key.split(separator: "/", maxSplits: 1).first, key.contains("/"), folder != SetLayout.rootsFolder else { return nil }
            return String(folder)
        })
        return (complete.sorted(by: >), all.sorted(by: >))
    }

    /// A set's manifest.
    public func manifest(_ timestamp: String) throws -> Manifest {
        try Manifest.decode(read(SetLayout.manifestKey(timestamp)))
    }
}
