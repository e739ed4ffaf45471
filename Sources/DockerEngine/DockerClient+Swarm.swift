import CurlHTTP
import Foundation
import Synchronization

/// The swarm calls of a manager: nodes, services, tasks and service logs (API 1.41).
extension DockerClient {
    /// Maps to `GET /nodes`.
    public func listNodes() async throws -> [SwarmNode] { try await get([SwarmNode].self, "/nodes") }

    /// Maps to `POST /services/create`. - Returns: the service id.
    @discardableResult
    public func createService(_ spec: ServiceCreate) async throws -> String {
        struct Reply: Decodable {
            var id: String
            var warnings: [String]?
            enum CodingKeys: String, CodingKey { case id = "ID", warnings = "Warnings" }
        }
        let response = try await call(.post, "/services/create", json: spec)
        let reply = try decode(Reply.self, from: response, request: "POST /services/create")
        for warning in reply.warnings ?? [] where !warning.isEmpty {
            logger.warning("service create warning", metadata: ["service.name": "\(spec.name)", "docker.warning": "\(warning)"])
        }
        return reply.id
    }

    /// Maps to `GET /services?filters=…`.
    public func listServices(filters: DockerFilters = DockerFilters()) async throws -> [SwarmService] {
        var query = DockerQuery()
        if !filters.isEmpty { query["filters"] = filters.json }
        return try await get([SwarmService].self, "/services", query: query)
    }

    /// Maps to `DELETE /services/{id}`: its tasks are shut down and removed on every node, asynchronously.
    public func removeService(_ id: String) async throws {
        try await call(.delete, "/services/\(DockerQuery.escape(id))")
    }

    /// Maps to `GET /tasks?filters=…` (`service`, `node`, `desired-state`, `label`, …).
    public func listTasks(filters: DockerFilters = DockerFilters()) async throws -> [SwarmTask] {
        var query = DockerQuery()
        if !filters.isEmpty { query["filters"] = filters.json }
        return try await get([SwarmTask].self, "/tasks", query: query)
    }

    /// Maps to `GET /services/{id}/logs` (non-TTY: demultiplexed). The manager gathers them from the nodes
    /// that ran the service's tasks.
    public func serviceLogs(
        _ id: String, follow: Bool = false,
        onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        let path = "/services/\(DockerQuery.escape(id))/logs"
        let query: DockerQuery = ["stdout": "1", "stderr": "1", "follow": follow ? "1" : "0", "tail": "all"]
        let demuxer = Mutex(StreamDemuxer())
        try await stream(HTTPRequest(.get, versioned(path, query)), describe: "GET \(path)") { chunk in
            try demuxer.withLock { try $0.feed(chunk, emit: onOutput) }
        }
    }
}
