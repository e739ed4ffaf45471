import Common
import CurlHTTP
import Foundation
import Logging
import Repository
import Testing

/// Against a moto server that checks SigV4 signatures (INITIAL_NO_AUTH_ACTION_COUNT + IAM keys): every call
/// shape the client makes must pass, and a wrong secret must be refused. Keys and prefixes avoid bytes that
/// need percent-encoding other than a space: moto 5.2.1's verifier refuses even the aws CLI's own signatures
/// for those (checked), so they are covered against botocore's signatures in `SigV4ReferenceTests` instead.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ACP_TEST_S3_AUTH_ENDPOINT"] != nil || s3Required, "needs ACP_TEST_S3_AUTH_ENDPOINT"))
struct S3SignatureTests {
    @Test("signed PUT, multipart, GET, list pass verification; a wrong secret is refused")
    func signatures() async throws { try await BlockingExecutor.run("test") { try signaturesBlocking() } }

    func signaturesBlocking() throws {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["ACP_TEST_S3_AUTH_ENDPOINT"], let access = env["ACP_TEST_S3_AUTH_KEY"], let secret = env["ACP_TEST_S3_AUTH_SECRET"] else {
            Issue.record("ACP_TEST_S3_AUTH_ENDPOINT/KEY/SECRET are not set (scripts/test.sh sets them)")
            return
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let good = try S3Client(endpoint: endpoint, environment: ["AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret],
                                logger: logger, multipartThreshold: 6 << 20, partSize: 5 << 20, backoff: Backoff(attempts: 1))
        let bucket = "acp-sig-\(UUID().uuidString.prefix(8).lowercased())"
        try good.createBucket(bucket)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("acp-sig-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(repeating: 7, count: 11 << 20).write(to: URL(fileURLWithPath: file))
        try good.putFile(bucket: bucket, key: "dir/with space/part.bin", path: file)
        try good.putData(bucket: bucket, key: "m.json", data: Array("{}".utf8))
        #expect(try good.getData(bucket: bucket, key: "m.json") == Array("{}".utf8))
        #expect(try good.list(bucket: bucket, prefix: "dir", pageSize: 1).keys.map(\.key) == ["dir/with space/part.bin"])
        let bad = try S3Client(endpoint: endpoint, environment: ["AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": "wrong"],
                               logger: logger, backoff: Backoff(attempts: 1))
        do {
            _ = try bad.getData(bucket: bucket, key: "m.json")
            Issue.record("a wrong secret was accepted")
        } catch let e as S3Error {
            #expect(e.code == "SignatureDoesNotMatch")
            #expect(!e.description.contains("wrong"), "the secret never appears in an error")
        }
    }
}
