import CurlHTTP
public import Logging
import Foundation
public import Common

/// Where a repository lives in S3: `s3://bucket/prefix`.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    public var prefix: String

    public init(url: String) throws {
        guard url.hasPrefix("s3://") else { throw RepositoryError(message: "\(url): an S3 location looks like s3://bucket/prefix") }
        let rest = url.dropFirst(5)
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard let bucket = parts.first, !bucket.isEmpty else { throw RepositoryError(message: "\(url): no bucket") }
        self.bucket = bucket
        self.prefix = parts.count > 1 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "/")) : ""
    }

    /// The full object key for a repository key.
    public func key(_ relative: String) -> String { prefix.isEmpty ? relative : "\(prefix)/\(relative)" }
}

/// A small S3 client over libcurl: SigV4 signing (with the `x-amz-content-sha256` header libcurl 7.88
/// omits), path-style addressing (S3-compatible stores), PUT and multipart upload from a file, ranged GET
/// with resume, ListObjectsV2 with pagination, retries with backoff on 5xx and transport failures.
/// Credentials come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` and never appear in a message.
public final class S3Client: Sendable {
    public let endpoint: String
    public let region: String
    let http: CurlClient
    let signer: SigV4
    /// The `Host` header as libcurl sends it (port included when not the scheme's default).
    let hostHeader: String
    let logger: Logger
    public let multipartThreshold: Int64
    public let partSize: Int64
    let backoff: Backoff

    public init(endpoint: String?, environment: [String: String], logger: Logger,
                multipartThreshold: Int64 = 64 << 20, partSize: Int64 = 16 << 20, backoff: Backoff = Backoff()) throws {
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        guard let access = environment["AWS_ACCESS_KEY_ID"], !access.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else {
            throw RepositoryError(message: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set for the S3 repository")
        }
        let base = (endpoint?.isEmpty == false ? endpoint! : "https://s3.\(region).amazonaws.com")
        self.endpoint = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.region = region
        self.signer = SigV4(accessKey: access, secretKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                            region: region)
        let components = URLComponents(string: self.endpoint)
        let defaultPort = components?.scheme == "https" ? 443 : 80
        self.hostHeader = (components?.host ?? "localhost") + (components?.port.map { $0 == defaultPort ? "" : ":\($0)" } ?? "")
        self.logger = logger
        self.multipartThreshold = multipartThreshold
        self.partSize = max(5 << 20, partSize)
        self.backoff = backoff
        self.http = CurlClient(endpoint: HTTPEndpoint(.url(self.endpoint)), connectTimeout: .seconds(15), logger: logger)
    }

    /// RFC 3986 encoding of one path segment or query value (SigV4's canonical form).
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `/bucket/key?sorted=query` — query parameters sorted by name, as SigV4's canonical request expects.
    func path(bucket: String, key: String?, query: [(String, String)] = []) -> String {
        var p = "/" + Self.encode(bucket)
        if let key { p += "/" + Self.encode(key, keepSlash: true) }
        if !query.isEmpty {
            p += "?" + query.sorted { $0.0 < $1.0 }.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        }
        return p
    }

    /// A signed request (a fresh signature per attempt: signatures carry their time).
    func request(_ method: HTTPMethod, _ path: String, body: HTTPBody = .empty, headers: [(String, String)] = []) -> HTTPRequest {
        let signed = signer.sign(method: method.rawValue, path: path, host: hostHeader, extraHeaders: headers.filter { $0.0.lowercased() == "range" || $0.0.lowercased().hasPrefix("x-amz-") })
        var r = HTTPRequest(method, path, headers: headers + signed, body: body)
        r.timeout = .seconds(600)
        return r
    }

    /// Whether a failure is worth another attempt: transport failures, 5xx and 429 (slow down) are; other
    /// S3 errors (403, 404, …) are final.
    static func classify(_ error: any Error) -> Backoff.Outcome {
        if let e = error as? S3Error, e.status < 500 && e.status != 429 { return .fail(e) }
        if error is LocalWriteError { return .fail(error) }
        return .retry(error)
    }

    func logRetry(_ describe: String) -> (Int, any Error) -> Void {
        { [logger] attempt, error in
            logger.warning("S3 call failed, retrying", metadata: ["s3.call": "\(describe)", "attempt": "\(attempt)", "error": "\(error)"])
        }
    }

    /// Sends with retries (`backoff`); `make` builds a fresh request per attempt (a signature carries its
    /// time, and a streamed body must be re-read from its start).
    func send(_ make: () throws -> HTTPRequest, describe: String, maxBody: Int = 16 << 20) throws -> HTTPResponse {
        try backoff.run({ _ in
            let response: HTTPResponse
            do { response = try http.sendBlocking(try make(), maxBodyBytes: maxBody) } catch let e as CurlError {
                throw RepositoryError(message: "\(describe): \(e.message)")
            }
            guard (200 ..< 300).contains(response.status) else { throw S3Error.from(response, describe: describe) }
            return response
        }, classify: Self.classify, onRetry: logRetry(describe))
    }

    // MARK: Objects

    /// Maps to `PUT /bucket` (tests and first-time setup of an S3-compatible store).
    public func createBucket(_ bucket: String) throws {
        _ = try send({ request(.put, path(bucket: bucket, key: nil)) }, describe: "create bucket \(bucket)")
    }

    /// Uploads a file: one PUT below the multipart threshold, else a multipart upload in `partSize` parts
    /// (aborted on failure, so no orphan parts stay billed).
    public func putFile(bucket: String, key: String, path file: String, headers: [(String, String)] = []) throws {
        let size = try Self.size(of: file)
        if size < multipartThreshold {
            _ = try send({
                try request(.put, path(bucket: bucket, key: key), body: .stream(length: size, source: FileRangeSource(path: file, offset: 0, length: size)), headers: headers)
            }, describe: "PUT s3://\(bucket)/\(key)")
            return
        }
        let uploadID = try initiateMultipart(bucket: bucket, key: key, headers: headers)
        do {
            var etags: [String] = []
            var offset: Int64 = 0
            while offset < size {
                let length = min(partSize, size - offset)
                let o = offset
                etags.append(try uploadPart(bucket: bucket, key: key, uploadID: uploadID, number: etags.count + 1, length: length) {
                    try FileRangeSource(path: file, offset: o, length: length)
                })
                offset += length
            }
            try completeMultipart(bucket: bucket, key: key, uploadID: uploadID, etags: etags)
        } catch {
            abortMultipart(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    public func putData(bucket: String, key: String, data: [UInt8], headers: [(String, String)] = []) throws {
        _ = try send({ request(.put, path(bucket: bucket, key: key), body: .bytes(data), headers: headers) }, describe: "PUT s3://\(bucket)/\(key)")
    }

    /// Downloads an object to a file (0600), resuming with a Range request after a cut transfer.
    /// A local write that fails (a full disk) is final, not retried: the error names the file and the
    /// system's reason.
    public func getFile(bucket: String, key: String, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw LocalWriteError(file: file, errno: errno) }
        defer { close(fd) }
        let describe = "GET s3://\(bucket)/\(key)"
        var written: Int64 = 0
        try backoff.run({ _ in
            var req = request(.get, path(bucket: bucket, key: key), headers: written > 0 ? [("Range", "bytes=\(written)-")] : [])
            req.timeout = nil
            let failure = ErrorBox()
            do {
                let head = try http.streamBlocking(req) { chunk in
                    if failure.status == nil { try LocalWriteError.writeAll(chunk, to: fd, file: file); written += Int64(chunk.count) } else { failure.body += chunk }
                } onHead: { head in
                    if !(200 ..< 300).contains(head.status) { failure.status = head.status }
                }
                if let status = failure.status {
                    throw S3Error.from(HTTPResponse(head: HTTPResponseHead(status: status, headers: head.headers), body: failure.body), describe: describe)
                }
            } catch let e as CurlError {
                throw RepositoryError(message: "\(describe): \(e.message)")
            }
        }, classify: Self.classify, onRetry: logRetry(describe))
    }

    /// An object's bytes in memory (a manifest, a snapshot), or a byte range of it.
    public func getData(bucket: String, key: String, range: Range<Int64>? = nil) throws -> [UInt8] {
        let headers = range.map { [("Range", "bytes=\($0.lowerBound)-\($0.upperBound - 1)")] } ?? []
        return try send({ request(.get, path(bucket: bucket, key: key), headers: headers) }, describe: "GET s3://\(bucket)/\(key)", maxBody: 64 << 20).body
    }

    /// Maps to `DELETE /bucket/key` (S3 answers 204 for an absent key too).
    public func delete(bucket: String, key: String) throws {
        _ = try send({ request(.delete, path(bucket: bucket, key: key)) }, describe: "DELETE s3://\(bucket)/\(key)")
    }

    /// ListObjectsV2 under `prefix`, following continuation tokens. With a delimiter the "folders" are
    /// returned as `prefixes`.
    public func list(bucket: String, prefix: String, delimiter: String? = nil, pageSize: Int? = nil) throws -> (keys: [(key: String, size: Int64)], prefixes: [String]) {
        var keys: [(String, Int64)] = []
        var prefixes: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let token { query.append(("continuation-token", token)) }
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            let r = try send({ request(.get, path(bucket: bucket, key: nil, query: query)) }, describe: "list s3://\(bucket)/\(prefix)")
            let page = XMLValues.listing(r.body)
            keys += page.keys
            prefixes += page.prefixes
            token = page.truncated ? page.nextToken : nil
        } while token != nil
        return (keys, prefixes)
    }

    static func size(of file: String) throws -> Int64 {
        let attrs = try FileManager.default.attributesOfItem(atPath: file)
        return (attrs[.size] as? NSNumber)?.int64Value ?? 0
    }

    final class ErrorBox: @unchecked Sendable {
        var status: Int?
        var body: [UInt8] = []
    }
}

/// An S3 error reply: the HTTP status and S3's own `Code` and `Message`.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var request: String

    static func from(_ r: HTTPResponse, describe: String) -> S3Error {
        S3Error(status: r.status, code: XMLValues.first("Code", in: r.body) ?? "HTTP \(r.status)",
                message: XMLValues.first("Message", in: r.body) ?? String(decoding: r.body.prefix(300), as: UTF8.self), request: describe)
    }

    public var description: String { "\(request): \(status) \(code): \(message)" }
}

/// A byte range of a file as a request body, opened afresh for every attempt.
final class FileRangeSource: HTTPBodySource, @unchecked Sendable {
    let handle: FileHandle
    var remaining: Int64

    init(path: String, offset: Int64, length: Int64) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw RepositoryError(message: "\(path): cannot read") }
        try h.seek(toOffset: UInt64(offset))
        handle = h
        remaining = length
    }

    deinit { try? handle.close() }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remaining > 0 else { return 0 }
        let want = Int(min(Int64(buffer.count), remaining))
        guard let data = try handle.read(upToCount: want), !data.isEmpty else { throw RepositoryError(message: "file shrank during upload") }
        data.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< data.count]).copyMemory(from: $0) }
        remaining -= Int64(data.count)
        return data.count
    }
}
