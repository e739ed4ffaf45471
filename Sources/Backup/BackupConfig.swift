import Foundation
public import Repository

/// The backup's configuration, from the runbook's environment (and flags for what it does not cover).
public struct BackupConfig: Sendable {
    public enum Encryption: Sendable, Equatable {
        case age(recipient: String)
        case gpg(recipient: String)

        public var kind: String { if case .age = self { "age" } else { "gpg" } }
        public var fileExtension: String { if case .age = self { "age" } else { "gpg" } }
        public var recipient: String {
            switch self { case .age(let r), .gpg(let r): r }
        }
    }

    public typealias Destination = RepositoryLocation

    public static let defaultDatabases = [
        "acp_gateway", "acp_policy", "acp_audit", "acp_usage", "acp_tenants", "acp_identity", "acp_keys",
        "acp_tools", "acp_sessions", "acp_billing", "acp_playground",
    ]

    public var encryption: Encryption
    public var destination: Destination
    public var host: String
    public var port: Int
    public var user: String
    /// Passed to pg_dump through its environment only.
    public var password: String
    public var databases: [String]
    /// For the throw-away verify: the age identity file (or gpg home) that opens the set.
    public var ageIdentity: String?
    public var gpgHome: String?
    /// pg_dump's zlib level (0–9). Default 1: pg_dump's compression is the backup's bottleneck (one core),
    /// level 1 is several times faster than the default 6 for a modestly larger dump.
    public var compressLevel: Int = 1
    /// The manifest-signing key (`ACP_BACKUP_SIGNING_KEY`, a file of `acp-drill keys generate`): when set,
    /// every set is signed. Separate from the encryption key; never in the repository.
    public var signingKey: SigningKey?
    /// Databases dumped at once (`ACP_BACKUP_JOBS`; default the machine's cores, at most 4: each is a
    /// pg_dump on the source and a core here).
    public var jobs: Int = BackupConfig.defaultJobs
    /// Databases of the server left out on purpose (`ACP_BACKUP_EXCLUDE`), recorded in the manifest.
    /// Any other database the server has and `DATABASES` leaves out fails the backup.
    public var excluded: [String] = []

    public static var defaultJobs: Int { max(1, min(4, ProcessInfo.processInfo.activeProcessorCount)) }

    /// What is wrong with the environment, naming each missing variable or tool (exit 2).
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var messages: [String]
        public var description: String { messages.joined(separator: "\n") }
    }

    /// Reads the runbook's variables. `repo` (a local folder) stands in for `ACP_BACKUP_S3_BUCKET`.
    /// `dryRun` only needs what the plan shows: nothing is required.
    public static func from(
        environment env: [String: String], repo: String?, databasesFrom: String?, dryRun: Bool,
        toolExists: (String) -> Bool = ProcessPipeline.onPath
    ) throws -> BackupConfig {
        var problems: [String] = []
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }

        var encryption: Encryption?
        if let r = value("ACP_BACKUP_AGE_RECIPIENT") {
            if toolExists("age") { encryption = .age(recipient: r) } else if let g = value("ACP_BACKUP_GPG_RECIPIENT") {
                encryption = .gpg(recipient: g)  // the runbook's fallback when age is unavailable
            } else if !dryRun { problems.append("age is not installed and ACP_BACKUP_GPG_RECIPIENT is not set for the gpg fallback (apt-get install age)") }
        } else if let g = value("ACP_BACKUP_GPG_RECIPIENT") {
            encryption = .gpg(recipient: g)
        } else if !dryRun {
            problems.append("ACP_BACKUP_AGE_RECIPIENT (age public key, preferred) or ACP_BACKUP_GPG_RECIPIENT must be set")
        }
        if case .gpg = encryption, !toolExists("gpg"), !dryRun { problems.append("gpg is not installed (apt-get install gnupg)") }

        let destination: Destination?
        do { destination = try RepositoryLocation.from(repo: repo, environment: env) } catch let e as RepositoryError { throw Problem(messages: [e.message]) }
        if destination == nil && !dryRun { problems.append(RepositoryLocation.missing) }
        let password = value("PGPASSWORD")
        if password == nil && !dryRun { problems.append("PGPASSWORD must be set (pg_dump reads it from the environment)") }
        if !dryRun, !toolExists("pg_dump") { problems.append("pg_dump is not installed (apt-get install postgresql-client)") }

        var databases = defaultDatabases
        if let list = value("DATABASES") {
            databases = list.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }).map(String.init)
        }
        if let databasesFrom {
            guard let text = try? String(contentsOfFile: databasesFrom, encoding: .utf8) else {
                throw Problem(messages: ["--databases-from \(databasesFrom): cannot read the file"])
            }
            databases = PgBouncerIni.databases(text)
            if databases.isEmpty { problems.append("--databases-from \(databasesFrom): no [databases] entries") }
        }
        var jobs = defaultJobs
        if let text = value("ACP_BACKUP_JOBS") {
            if let n = Int(text), (1 ... 64).contains(n) { jobs = n } else { problems.append("ACP_BACKUP_JOBS must be 1–64 (got \(text))") }
        }
        let excluded = value("ACP_BACKUP_EXCLUDE").map { $0.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }).map(String.init) } ?? []
        if let both = excluded.first(where: { databases.contains($0) }) {
            problems.append("ACP_BACKUP_EXCLUDE names \(both), which DATABASES backs up: a database is either backed up or excluded")
        }
        var compress = 1
        if let text = value("ACP_BACKUP_COMPRESS") {
            if let n = Int(text), (0 ... 9).contains(n) { compress = n } else { problems.append("ACP_BACKUP_COMPRESS must be 0–9 (got \(text))") }
        }
        var signingKey: SigningKey?
        if let path = value("ACP_BACKUP_SIGNING_KEY") {
            do { signingKey = try SigningKey.load(path: path) } catch { problems.append("ACP_BACKUP_SIGNING_KEY: \(error)") }
        }
        if !problems.isEmpty { throw Problem(messages: problems) }
        var config = BackupConfig(
            encryption: encryption ?? .age(recipient: "(not set)"), destination: destination ?? .local(path: "(not set)"),
            host: value("POSTGRES_HOST") ?? "acp_postgres", port: Int(value("POSTGRES_PORT") ?? "") ?? 5432,
            user: value("POSTGRES_USER") ?? "postgres", password: password ?? "", databases: databases,
            ageIdentity: value("ACP_BACKUP_AGE_IDENTITY"), gpgHome: value("ACP_BACKUP_GPG_HOMEDIR"))
        config.compressLevel = compress
        config.signingKey = signingKey
        config.jobs = jobs
        config.excluded = excluded
        return config
    }
}

/// The `[databases]` section of a pgbouncer.ini: the names on the left.
public enum PgBouncerIni {
    public static func databases(_ text: String) -> [String] {
        var inSection = false
        var out: [String] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { inSection = line.lowercased() == "[databases]"; continue }
            guard inSection, !line.isEmpty, !line.hasPrefix(";"), !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            if name != "*" && !name.isEmpty { out.append(name) }
        }
        return out
    }
}
