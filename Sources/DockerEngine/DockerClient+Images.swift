import Common
public import CurlHTTP
import Foundation
import Synchronization

/// One line of a pull/import/load progress stream.
public struct ImageProgress: Decodable, Sendable {
    public var status: String?
    public var id: String?
    public var progress: String?
    public var stream: String?
    public var error: String?
    public var errorDetail: Detail?
    public struct Detail: Decodable, Sendable { public var message: String? }
}

extension DockerClient {
    /// Maps to `GET /images/{name}/json`.
    public func inspectImage(_ name: String) async throws -> ImageInspect {
        try await get(ImageInspect.self, "/images/\(DockerQuery.escape(name))/json")
    }

    /// Maps to `GET /images/json?filters=…` (`reference`, `label`, `dangling`).
    public func listImages(filters: DockerFilters = DockerFilters()) async throws -> [ImageSummary] {
        var query = DockerQuery()
        if !filters.isEmpty { query["filters"] = filters.json }
        return try await get([ImageSummary].self, "/images/json", query: query)
    }

    /// Maps to `DELETE /images/{name}?force=`.
    public func removeImage(_ name: String, force: Bool = false) async throws {
        try await call(.delete, "/images/\(DockerQuery.escape(name))", query: ["force": force ? "1" : "0"])
    }

    /// Maps to `POST /images/create?fromImage=…&tag=…`. The tag is required (without it the daemon pulls every
    /// tag). A 200 reply can still carry the failure as an `error` line: it is thrown as `.streamError`.
    public func pullImage(
        _ repository: String, tag: String, registryAuth: String? = nil,
        progress: (@Sendable (ImageProgress) -> Void)? = nil
    ) async throws {
        precondition(!tag.isEmpty, "pull needs an explicit tag")
        var request = HTTPRequest(.post, versioned("/images/create", ["fromImage": repository, "tag": tag]))
        if let registryAuth { request.headers.append(("X-Registry-Auth", registryAuth)) }
        try await progressStream(request, describe: "POST /images/create (pull \(repository):\(tag))", progress: progress)
    }

    /// Maps to `POST /images/create?fromSrc=-&repo=…&tag=…&changes=…`: imports a root filesystem tarball as an
    /// image (how the offline images are built). Errors inside the 200 stream are thrown.
    /// - Returns: the new image id.
    @discardableResult
    public func importImage(
        _ tar: any HTTPBodySource, length: Int64?, repository: String, tag: String, changes: [String] = [],
        message: String? = nil
    ) async throws -> String {
        var query: DockerQuery = ["fromSrc": "-", "repo": repository, "tag": tag, "message": message]
        for change in changes { query.append("changes", change) }
        var request = HTTPRequest(.post, versioned("/images/create", query), body: .stream(length: length, source: tar))
        request.headers = [("Content-Type", "application/x-tar")]
        let id = Mutex<String?>(nil)
        try await progressStream(request, describe: "POST /images/create (import)") { line in
            if let status = line.status, status.hasPrefix("sha256:") { id.withLock { $0 = status } }
        }
        return id.withLock { $0 } ?? "\(repository):\(tag)"
    }

    /// Streams JSON-lines progress, turning an `error` line into a thrown `.streamError`.
    func progressStream(
        _ request: HTTPRequest, describe: String, progress: (@Sendable (ImageProgress) -> Void)?
    ) async throws {
        let splitter = Mutex(JSONLineSplitter())
        let handle: @Sendable ([UInt8]) throws -> Void = { line in
            guard let item = try? JSONDecoder().decode(ImageProgress.self, from: Data(line)) else { return }
            if let message = item.errorDetail?.message ?? item.error {
                throw DockerError(code: .streamError, status: 200, message: message, request: describe)
            }
            progress?(item)
        }
        try await stream(request, describe: describe) { chunk in
            try splitter.withLock { try $0.feed(chunk, line: handle) }
        }
        try splitter.withLock { try $0.finish(line: handle) }
    }
}
