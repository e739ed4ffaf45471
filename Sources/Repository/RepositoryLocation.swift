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

extension RepositoryLocation {
    /// What to say when no receipts location is given.
    public static let receiptsMissing = "--receipts LOCATION (a folder or s3://bucket/prefix) or ACP_RECEIPTS_S3_BUCKET must be set"

    /// The receipts mirror (docs/RECEIPTS.md): `--receipts LOCATION` (a folder, or `s3://bucket/prefix`), else
    /// `ACP_RECEIPTS_S3_BUCKET`; an S3 endpoint from `ACP_RECEIPTS_S3_ENDPOINT`, else `ACP_BACKUP_S3_ENDPOINT`.
    /// Nil when neither is given.
    public static func receipts(_ flag: String?, environment: [String: String]) throws -> RepositoryLocation? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let endpoint = value("ACP_RECEIPTS_S3_ENDPOINT") ?? value("ACP_BACKUP_S3_ENDPOINT")
        if let flag, !flag.isEmpty {
            return flag.hasPrefix("s3://") ? .s3(url: flag, endpoint: endpoint) : .local(path: flag)
        }
        guard let bucket = value("ACP_RECEIPTS_S3_BUCKET") else { return nil }
        guard bucket.hasPrefix("s3://") else {
            throw RepositoryError(message: "ACP_RECEIPTS_S3_BUCKET must look like s3://bucket/prefix (got \(bucket))")
        }
        return .s3(url: bucket, endpoint: endpoint)
    }

    /// The server-side encryption the receipts mirror asks S3 for (the runbook: "Server-side S3 encryption").
    public static let receiptsServerSideEncryption = "AES256"
}
