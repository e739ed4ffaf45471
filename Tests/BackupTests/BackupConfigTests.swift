import Backup
import Foundation
import Repository
import Testing

@Suite struct BackupConfigTests {
    static let full = ["ACP_BACKUP_AGE_RECIPIENT": "age1xyz", "ACP_BACKUP_S3_BUCKET": "s3://b/p", "PGPASSWORD": "pw"]
    static let allTools: @Sendable (String) -> Bool = { _ in true }

    @Test("each missing variable is named", arguments: [
        ("ACP_BACKUP_AGE_RECIPIENT", "ACP_BACKUP_AGE_RECIPIENT (age public key, preferred) or ACP_BACKUP_GPG_RECIPIENT"),
        ("ACP_BACKUP_S3_BUCKET", "ACP_BACKUP_S3_BUCKET (s3://bucket/prefix) must be set, or --repo PATH"),
        ("PGPASSWORD", "PGPASSWORD must be set"),
    ])
    func missing(variable: String, message: String) {
        var env = Self.full
        env[variable] = nil
        #expect {
            try BackupConfig.from(environment: env, repo: nil, databasesFrom: nil, dryRun: false, toolExists: Self.allTools)
        } throws: { ($0 as? BackupConfig.Problem)?.messages.contains { $0.contains(message) } == true }
    }

    @Test("missing tools are named")
    func tools() {
        #expect {
            try BackupConfig.from(environment: Self.full, repo: nil, databasesFrom: nil, dryRun: false, toolExists: { $0 != "pg_dump" })
        } throws: { "\($0)".contains("pg_dump is not installed") }
        #expect {
            try BackupConfig.from(environment: Self.full, repo: nil, databasesFrom: nil, dryRun: false, toolExists: { $0 != "age" })
        } throws: { "\($0)".contains("age is not installed") }
    }

    @Test("without age the gpg recipient is used; age is preferred when both exist")
    func gpgFallback() throws {
        var env = Self.full
        env["ACP_BACKUP_GPG_RECIPIENT"] = "ops@example"
        let noAge = try BackupConfig.from(environment: env, repo: nil, databasesFrom: nil, dryRun: false, toolExists: { $0 != "age" })
        #expect(noAge.encryption == .gpg(recipient: "ops@example"))
        let both = try BackupConfig.from(environment: env, repo: nil, databasesFrom: nil, dryRun: false, toolExists: Self.allTools)
        #expect(both.encryption == .age(recipient: "age1xyz"))
    }

    @Test("defaults, DATABASES, --repo, and a dry run needs nothing")
    func defaults() throws {
        let c = try BackupConfig.from(environment: Self.full, repo: "/r", databasesFrom: nil, dryRun: false, toolExists: Self.allTools)
        #expect(c.host == "acp_postgres" && c.port == 5432 && c.user == "postgres")
        #expect(c.databases.count == 11)
        #expect(c.destination == .local(path: "/r"))
        var env = Self.full
        env["DATABASES"] = "a b,c"
        #expect(try BackupConfig.from(environment: env, repo: nil, databasesFrom: nil, dryRun: false, toolExists: Self.allTools).databases == ["a", "b", "c"])
        #expect(throws: Never.self) { try BackupConfig.from(environment: [:], repo: nil, databasesFrom: nil, dryRun: true, toolExists: { _ in false }) }
        env["ACP_BACKUP_S3_BUCKET"] = "bucket-without-scheme"
        #expect(throws: BackupConfig.Problem.self) { try BackupConfig.from(environment: env, repo: nil, databasesFrom: nil, dryRun: false, toolExists: Self.allTools) }
    }

    @Test("pgbouncer.ini [databases] section")
    func pgbouncer() {
        let ini = """
            [pgbouncer]
            listen_port = 6432
            [databases]
            ; comment
            acp_gateway = host=acp_postgres dbname=acp_gateway
            acp_audit=host=acp_postgres
            * = host=fallback
            [users]
            x = pool_mode=session
            """
        #expect(PgBouncerIni.databases(ini) == ["acp_gateway", "acp_audit"])
    }

    @Test("the manifest round-trips; a newer format is refused; the fingerprint hides the recipient")
    func manifest() throws {
        let m = Manifest(timestamp: "20260516T020000Z", createdAt: "2026-05-16T02:00:00Z", toolVersion: "0.1.0", pgDumpVersion: "pg_dump 15",
                         serverVersion: "15.18", encryption: "age", recipientFingerprint: Decryption.fingerprint("age1xyz"), databases: ["a"],
                         objects: [.init(key: "20260516T020000Z/a.dump.age", database: "a", kind: "dump", size: 10, sha256: "ab")], failures: [])
        #expect(try Manifest.decode(m.encoded()) == m)
        #expect(!String(decoding: try m.encoded(), as: UTF8.self).contains("age1xyz"))
        var newer = try JSONSerialization.jsonObject(with: m.encoded()) as! [String: Any]
        newer["format"] = 99
        #expect(throws: RepositoryError.self) { try Manifest.decode(JSONSerialization.data(withJSONObject: newer)) }
    }
}
