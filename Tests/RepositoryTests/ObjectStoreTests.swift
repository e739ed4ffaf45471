import Common
import Foundation
import Logging
import Repository
import Testing

/// The repository seam: every store answers the same calls the same way, and the set layout on top of it
/// is the same for each. The same test body runs against a folder and against S3 (moto on loopback).
@Suite struct ObjectStoreTests {
    static func folder() throws -> (any ObjectStore, () -> Void) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-store-\(UUID().uuidString)").path
        let store = try SetLayout.open(.local(path: dir), environment: [:], logger: Logger(label: "test"), creating: true)
        return (store, { try? FileManager.default.removeItem(atPath: dir) })
    }

    static func s3() throws -> (any ObjectStore, () -> Void) {
        let client = try s3Client(multipartThreshold: 6 << 20)
        let bucket = "acp-store-\(UUID().uuidString.prefix(8).lowercased())"
        try client.createBucket(bucket)
        let store = S3Repository(location: try S3Location(url: "s3://\(bucket)/nightly"), client: client)
        return (store, {})
    }

    static func exercise(_ store: any ObjectStore) throws {
        // Nothing is visible before commit; an aborted write leaves nothing.
        let w = try store.writer(for: "20260101T000000Z/a.dump.age")
        try w.write(Data("hello ".utf8))
        #expect(try store.list(prefix: "").isEmpty)
        try w.write(Data("world".utf8))
        try w.commit()
        let gone = try store.writer(for: "20260101T000000Z/b.dump.age")
        try gone.write(Data("x".utf8))
        gone.abort()
        #expect(try store.list(prefix: "").map(\.key) == ["20260101T000000Z/a.dump.age"])
        #expect(try store.list(prefix: "").first?.size == 11)
        // Whole and ranged reads, and a download.
        #expect(String(decoding: try store.read("20260101T000000Z/a.dump.age"), as: UTF8.self) == "hello world")
        #expect(String(decoding: try store.read("20260101T000000Z/a.dump.age", range: 6 ..< 11), as: UTF8.self) == "world")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("acp-dl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try store.download("20260101T000000Z/a.dump.age", to: file)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "hello world")
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(throws: (any Error).self) { _ = try store.read("20260101T000000Z/missing") }
        // The set layout: only sets with a manifest are complete, newest first; the roots folder is no set.
        try store.put(SetLayout.manifestKey("20260101T000000Z"), data: Data("{}".utf8))
        try store.put(SetLayout.manifestKey("20260102T000000Z"), data: Data("{}".utf8))
        try store.put(SetLayout.dumpKey("20260103T000000Z", database: "x", fileExtension: "age"), data: Data("partial".utf8))
        try store.put(SetLayout.rootsKey("20260101T000000Z", fileExtension: "age"), data: Data("r".utf8))
        try store.put("\(SetLayout.rootsFolder)/manifest.json", data: Data("{}".utf8))
        #expect(try store.completeSets() == ["20260102T000000Z", "20260101T000000Z"])
        #expect(try Set(store.list(prefix: "20260101T000000Z/").map(\.key)) == ["20260101T000000Z/a.dump.age", "20260101T000000Z/manifest.json"])
        // Delete, twice.
        try store.delete("20260101T000000Z/a.dump.age")
        try store.delete("20260101T000000Z/a.dump.age")
        #expect(try !store.list(prefix: "").map(\.key).contains("20260101T000000Z/a.dump.age"))
    }

    @Test func aFolder() throws {
        let (store, cleanup) = try Self.folder()
        defer { cleanup() }
        try Self.exercise(store)
        #expect(store.localPath(of: "k") != nil, "a folder's objects are read in place")
    }

    @Test(.enabled(if: s3Endpoint != nil || s3Required, "needs ACP_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"))
    func s3() async throws {
        try await BlockingExecutor.run("test") {
            let (store, cleanup) = try Self.s3()
            defer { cleanup() }
            try Self.exercise(store)
            #expect(store.localPath(of: "k") == nil)
            #expect(store.description.hasPrefix("s3://acp-store-") && store.description.hasSuffix("/nightly"))
        }
    }

    @Test func aMissingFolderIsNamed() {
        #expect(throws: RepositoryError.self) {
            _ = try SetLayout.open(.local(path: "/nonexistent/acp-drill-repo"), environment: [:], logger: Logger(label: "test"))
        }
    }

    @Test(arguments: [("20260101T000000Z/manifest.json", "20260101T000000Z"), ("transparency_roots/manifest.json", nil),
                      ("20260101T000000Z/a.dump.age", nil), ("a/b/manifest.json", nil), ("/manifest.json", nil), ("manifest.json", nil)])
    func manifestKeys(key: String, set: String?) {
        #expect(SetLayout.set(ofManifestKey: key) == set)
    }
}

@Suite struct S3XMLTests {
    @Test("real S3 replies: a namespace, entities, CDATA, nested Owner elements")
    func namespacedListing() {
        let page = Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>
            <IsTruncated>false</IsTruncated><Contents><Key>p/&lt;odd&gt; &quot;name&quot;</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
            <ETag>&quot;abc&quot;</ETag><Size>42</Size><Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>
            <Contents><Key><![CDATA[p/cdata & key]]></Key><Size>7</Size></Contents></ListBucketResult>
            """.utf8)
        let l = XMLValues.listing(page)
        #expect(l.keys.map(\.0) == ["p/<odd> \"name\"", "p/cdata & key"] && l.keys.map(\.1) == [42, 7])
        #expect(!l.truncated && l.nextToken == nil && l.prefixes.isEmpty)
    }

    @Test("an error document inside a 200 (CompleteMultipartUpload) and text that is not XML")
    func errorsAndGarbage() {
        let error = Array("<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error &amp; retried.</Message></Error>".utf8)
        #expect(XMLValues.first("Code", in: error) == "InternalError")
        #expect(XMLValues.first("Message", in: error) == "We encountered an internal error & retried.")
        #expect(XMLValues.first("Code", in: Array("<html>502 Bad Gateway".utf8)) == nil)
        #expect(XMLValues.listing(Array("not xml".utf8)).keys.isEmpty)
    }
}
