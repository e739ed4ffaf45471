import CurlHTTP
import Foundation
import Synchronization

extension DockerClient {
    /// Maps to `POST /containers/create?name=…`. Warnings in the reply are logged.
    /// - Returns: the container id.
    @discardableResult
    public func createContainer(name: String?, _ spec: ContainerCreate) async throws -> String {
        let response = try await call(.post, "/containers/create", query: ["name": name], json: spec)
        let reply = try decode(IDResponse.self, from: response, request: "POST /containers/create")
        for warning in reply.warnings ?? [] where !warning.isEmpty {
            logger.warning("container create warning", metadata: ["container.name": "\(name ?? "")", "docker.warning": "\(warning)"])
        }
        return reply.id
    }

    /// Maps to `POST /containers/{id}/start`. Already running (304) counts as started.
    public func startContainer(_ id: String) async throws {
        try await call(.post, "/containers/\(DockerQuery.escape(id))/start", accept: [204, 304])
    }

    /// Maps to `POST /containers/{id}/stop?t=…`. Already stopped (304) counts as stopped.
    public func stopContainer(_ id: String, timeout: Int? = nil) async throws {
        try await call(.post, "/containers/\(DockerQuery.escape(id))/stop", query: ["t": timeout.map(String.init)],
                       accept: [204, 304], timeout: .seconds(Int64(timeout ?? 10) + 60))
    }

    /// Maps to `POST /containers/{id}/kill?signal=…`.
    public func killContainer(_ id: String, signal: String = "SIGKILL") async throws {
        try await call(.post, "/containers/\(DockerQuery.escape(id))/kill", query: ["signal": signal])
    }

    /// Maps to `DELETE /containers/{id}?force=&v=`. With `volumes` its anonymous volumes go too.
    public func removeContainer(_ id: String, force: Bool = true, volumes: Bool = true) async throws {
        try await call(.delete, "/containers/\(DockerQuery.escape(id))",
                       query: ["force": force ? "1" : "0", "v": volumes ? "1" : "0"])
    }

    /// Maps to `GET /containers/{id}/json`.
    public func inspectContainer(_ id: String) async throws -> ContainerInspect {
        try await get(ContainerInspect.self, "/containers/\(DockerQuery.escape(id))/json")
    }

    /// Maps to `GET /containers/json?all=1&filters=…`.
    public func listContainers(all: Bool = true, filters: DockerFilters = DockerFilters()) async throws -> [ContainerSummary] {
        var query: DockerQuery = ["all": all ? "1" : "0"]
        if !filters.isEmpty { query["filters"] = filters.json }
        return try await get([ContainerSummary].self, "/containers/json", query: query)
    }

    /// Maps to `POST /containers/{id}/wait?condition=…` (`not-running`, `next-exit`, `removed`).
    /// No time limit: cancel the task to stop waiting. `registered` runs once the daemon has taken the wait
    /// (its head is flushed at once), so a caller can start or kill the container afterwards without a race.
    public func waitContainer(
        _ id: String, condition: String = "not-running", registered: (@Sendable () -> Void)? = nil
    ) async throws -> WaitResult {
        let path = "/containers/\(DockerQuery.escape(id))/wait"
        let body = Mutex<[UInt8]>([])
        let request = HTTPRequest(.post, versioned(path, ["condition": condition]))
        let head = try await stream(request, describe: "POST \(path)", onHead: { _ in registered?() }) { chunk in
            body.withLock { $0.append(contentsOf: chunk) }
        }
        return try decode(WaitResult.self, from: HTTPResponse(head: head, body: body.withLock { $0 }), request: "POST \(path)")
    }

    /// Maps to `GET /containers/{id}/logs`. Multiplexed output (non-TTY containers) is demultiplexed;
    /// a TTY container's raw output arrives as `.stdout`. With `follow` the call returns when the container
    /// stops or the task is cancelled.
    public func logs(
        _ id: String, follow: Bool = false, tail: Int? = nil, timestamps: Bool = false, tty: Bool = false,
        onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        let path = "/containers/\(DockerQuery.escape(id))/logs"
        let query: DockerQuery = [
            "stdout": "1", "stderr": "1", "follow": follow ? "1" : "0",
            "tail": tail.map(String.init) ?? "all", "timestamps": timestamps ? "1" : "0",
        ]
        let demuxer = Mutex(StreamDemuxer())
        try await stream(HTTPRequest(.get, versioned(path, query)), describe: "GET \(path)") { chunk in
            if tty { try onOutput(.stdout, chunk); return }
            try demuxer.withLock { try $0.feed(chunk, emit: onOutput) }
        }
    }

    /// The last `lines` lines of a container's output as text (stdout and stderr interleaved), for error
    /// messages when a container exits or fails readiness.
    public func logTail(_ id: String, lines: Int = 20) async -> String {
        let text = Mutex<[UInt8]>([])
        do {
            try await logs(id, tail: lines) { _, chunk in text.withLock { $0.append(contentsOf: chunk) } }
        } catch {
            return "(logs unavailable: \(error))"
        }
        return String(decoding: text.withLock { $0 }, as: UTF8.self)
    }
}
