import Foundation
import Repository
import Testing

/// Whoever can write to the repository writes the manifest: a key or database name that is a path
/// must be refused before anything is fetched, decrypted or written under that name.
@Suite struct ManifestSafetyTests {
    static func manifest(_ objects: [(key: String, database: String?, kind: String)]) -> Manifest {
        Manifest(timestamp: "20261127T000000Z", createdAt: "2026-11-27T00:00:00Z", toolVersion: "t", pgDumpVersion: "15", serverVersion: "15",
                 encryption: "age", recipientFingerprint: "f", databases: objects.compactMap(\.database),
                 objects: objects.map { Manifest.Object(key: $0.key, database: $0.database, kind: $0.kind, size: 1, sha256: "00") }, failures: [])
    }

    @Test("database names", arguments: [
        ("acp_audit", true), ("My DB \"quoted\"", true), ("ünïcode", true), (String(repeating: "a", count: 63), true),
        ("", false), (".", false), ("..", false), ("../../root/x", false), ("a/b", false), ("a\\b", false), ("tab\there", false),
        ("nl\nhere", false), (String(repeating: "a", count: 64), false), (String(repeating: "é", count: 32), false),
    ] as [(String, Bool)])
    func names(name: String, safe: Bool) {
        #expect(Manifest.isSafeName(name) == safe, "\(name)")
    }

    @Test("object keys", arguments: [
        ("20261127T000000Z/acp_audit.dump.age", true), ("transparency_roots/20261127T000000Z.jsonl.age", true),
        ("/etc/passwd", false), ("../x", false), ("a/../../x", false), ("a//b", false), ("a/./b", false), ("", false), ("a\\..\\b", false),
    ] as [(String, Bool)])
    func keys(key: String, safe: Bool) {
        #expect(Manifest.isPlainRelativePath(key) == safe, "\(key)")
    }

    @Test("a manifest names every problem, a good one none")
    func problems() {
        #expect(Self.manifest([("t/acp_audit.dump.age", "acp_audit", "dump"), ("transparency_roots/t.jsonl.age", nil, "transparency_roots")]).safetyProblems().isEmpty)
        let bad = Self.manifest([("t/../../x.age", "acp_audit", "dump"), ("t/y.age", "../../etc/cron.d/x", "dump"),
                                 ("t/a.age", "dup", "dump"), ("t/b.age", "dup", "dump")]).safetyProblems()
        #expect(bad.count == 3, "\(bad)")
        #expect(bad.contains { $0.contains("not a plain relative path") } && bad.contains { $0.contains("not a PostgreSQL name") }
                && bad.contains { $0.contains("more than one dump") })
    }
}
