import Foundation
import Repository
import Testing

/// A manifest that is not one is refused in one line that says what is wrong and where; a repository
/// folder is listed by key prefix, with partial writes and anything but regular files left out.
@Suite struct ManifestDecodeTests {
    static let good = ManifestSafetyTests.manifest([("20261127T000000Z/acp_audit.dump.age", "acp_audit", "dump")])

    @Test("damaged manifests", arguments: [
        ("", "the JSON is damaged"),
        ("{\"format\": 1, \"timestamp\": \"x\"", "the JSON is damaged"),
        ("not json at all", "the JSON is damaged"),
        ("[]", "expected"),
        ("{\"format\": 1, \"timestamp\": \"x\"}", "the field \"createdAt\" is missing"),
        ("{\"format\": \"one\"}", "expected Int at format"),
        ("{\"format\": null}", "found null at format"),
    ] as [(String, String)])
    func damaged(text: String, says: String) {
        do {
            _ = try Manifest.decode(Data(text.utf8))
            Issue.record("decoded \(text)")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix("not a valid manifest (\(text.utf8.count) bytes): ") && message.contains(says), "\(message)")
            #expect(!message.contains("\n") && !message.contains("DecodingError"), "\(message)")
        }
    }

    @Test("a field of the wrong type deep inside is named by its path")
    func deepPath() throws {
        var object = try JSONSerialization.jsonObject(with: try Self.good.encoded()) as! [String: Any]
        var objects = object["objects"] as! [[String: Any]]
        objects[0]["size"] = "big"
        object["objects"] = objects
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: RepositoryError.self) { try Manifest.decode(data) }
        do { _ = try Manifest.decode(data) } catch { #expect("\(error)".contains("at objects.[0].size") || "\(error)".contains("at objects.Index 0.size"), "\(error)") }
        #expect(try Manifest.decode(try Self.good.encoded()) == Self.good)
    }

    @Test("a folder lists by prefix: nested keys, no partial writes, no links, no folders")
    func listing() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("acp-list-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let repo = LocalRepository(root: root)
        for key in ["20261127T000000Z/a.dump.age", "20261127T000000Z/manifest.json", "20261128T000000Z/a.dump.age", "transparency_roots/20261127T000000Z.jsonl.age"] {
            try repo.put(key, data: Data(key.utf8))
        }
        FileManager.default.createFile(atPath: "\(root)/20261128T000000Z/manifest.json.partial", contents: Data("half".utf8))
        try FileManager.default.createSymbolicLink(atPath: "\(root)/20261128T000000Z/manifest.json", withDestinationPath: "\(root)/20261127T000000Z/manifest.json")
        try FileManager.default.createDirectory(atPath: "\(root)/empty", withIntermediateDirectories: true)
        #expect(Set(try repo.list(prefix: "").map(\.key)) == ["20261127T000000Z/a.dump.age", "20261127T000000Z/manifest.json", "20261128T000000Z/a.dump.age",
                                                            "transparency_roots/20261127T000000Z.jsonl.age"])
        #expect(try repo.list(prefix: "20261127T000000Z/").map(\.key).sorted() == ["20261127T000000Z/a.dump.age", "20261127T000000Z/manifest.json"])
        #expect(try repo.list(prefix: "2026112").count == 3)
        #expect(try repo.list(prefix: "transparency_roots/2026").first?.size == Int64("transparency_roots/20261127T000000Z.jsonl.age".utf8.count))
        #expect(try repo.completeSets() == ["20261127T000000Z"], "a link is no manifest: the set stays incomplete")
        #expect(throws: RepositoryError.self) { try LocalRepository(root: "\(root)/missing").list(prefix: "") }
    }
}
