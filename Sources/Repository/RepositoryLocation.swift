/// Where backup sets live, as the runbook names it: `--repo PATH` (a local folder), else
/// `ACP_BACKUP_S3_BUCKET` (`s3://bucket/prefix`, with `ACP_BACKUP_S3_ENDPOINT` for S3-compatible stores).
/// The backup writes there and the drill reads from there.
public enum RepositoryLocation: Sendable, Equatable, CustomStringConvertible {
    case local(path: String)
    case s3(url: String, endpoint: String?)

    /// The folder, or the `s3://` URL (with its endpoint when one is set).
    public var description: String {
        switch self {
        case .local(let path): path
        case .s3(let url, let endpoint): endpoint.map { "\(url) at \($0)" } ?? url
        }
    }

    /// What to say when neither is given.
    public static let missing = "ACP_BACKUP_S3_BUCKET (s3://bucket/prefix) must be set, or --repo PATH for a local folder"

    /// The location from `--repo` and the environment (empty variables count as unset); nil when neither
    /// is given. A bucket that is not an `s3://` URL throws, naming what was given.
    public static func from(repo: String?, environment: [String: String]) throws -> RepositoryLocation? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let repo { return .local(path: repo) }
        guard let bucket = value("ACP_BACKUP_S3_BUCKET") else { return nil }
        guard bucket.hasPrefix("s3://") else {
            throw RepositoryError(message: "ACP_BACKUP_S3_BUCKET must look like s3://bucket/prefix (got \(bucket))")
        }
        return .s3(url: bucket, endpoint: value("ACP_BACKUP_S3_ENDPOINT"))
    }
}
