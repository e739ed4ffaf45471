import CurlHTTP
import Foundation

/// What `HEAD /containers/{id}/archive` reports about a path.
public struct PathStat: Codable, Sendable {
    public var name: String
    public var size: Int64
    /// Go's `os.FileMode`: the directory bit is 1<<31, the symlink bit 1<<27.
    public var mode: UInt32
    public var mtime: String?
    public var linkTarget: String?
    public var isDirectory: Bool { mode & (1 << 31) != 0 }
}

extension DockerClient {
    /// Maps to `PUT /containers/{id}/archive?path=…`: extracts a tar stream into `path` (a directory that
    /// exists). Works on created, running and exited containers; owners and modes come from the tar headers.
    /// The body streams from `tar` (see `TarStream`), so large files never sit in memory.
    public func putArchive(_ container: String, path: String, tar: TarStream) async throws {
        let p = "/containers/\(DockerQuery.escape(container))/archive"
        var request = HTTPRequest(.put, versioned(p, ["path": path]), body: .stream(length: tar.length, source: tar))
        request.headers = [("Content-Type", "application/x-tar")]
        try await stream(request, describe: "PUT \(p)") { _ in }
    }

    /// Maps to `GET /containers/{id}/archive?path=…`: the raw tar stream, chunk by chunk. Members are named
    /// relative to the parent of `path` (`/data` → `data/…`).
    public func getArchive(
        _ container: String, path: String, onBytes: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        let p = "/containers/\(DockerQuery.escape(container))/archive"
        try await stream(HTTPRequest(.get, versioned(p, ["path": path])), describe: "GET \(p)", onBody: onBytes)
    }

    /// Maps to `HEAD /containers/{id}/archive?path=…` (the `X-Docker-Container-Path-Stat` header).
    public func statPath(_ container: String, path: String) async throws -> PathStat {
        let p = "/containers/\(DockerQuery.escape(container))/archive"
        let response = try await call(.head, p, query: ["path": path], accept: [200])
        guard let encoded = response.head.header("X-Docker-Container-Path-Stat"),
            let data = Data(base64Encoded: encoded)
        else {
            throw DockerError(code: .decoding, status: 200, message: "no path stat header", request: "HEAD \(p)")
        }
        return try decode(PathStat.self, from: HTTPResponse(head: response.head, body: Array(data)), request: "HEAD \(p)")
    }
}
