import CurlHTTP

extension DockerClient {
    /// Maps to `POST /volumes/create` (idempotent for an existing name: the existing volume is returned).
    @discardableResult
    public func createVolume(_ spec: VolumeCreate) async throws -> Volume {
        let response = try await call(.post, "/volumes/create", json: spec)
        return try decode(Volume.self, from: response, request: "POST /volumes/create")
    }

    /// Maps to `GET /volumes/{name}`.
    public func inspectVolume(_ name: String) async throws -> Volume {
        try await get(Volume.self, "/volumes/\(DockerQuery.escape(name))")
    }

    /// Maps to `GET /volumes?filters=…` (`label`, `dangling`, `name`, `driver`).
    public func listVolumes(filters: DockerFilters = DockerFilters()) async throws -> [Volume] {
        var query = DockerQuery()
        if !filters.isEmpty { query["filters"] = filters.json }
        return try await get(VolumeList.self, "/volumes", query: query).volumes ?? []
    }

    /// Maps to `DELETE /volumes/{name}`. `.conflict` while a container uses it.
    public func removeVolume(_ name: String, force: Bool = false) async throws {
        try await call(.delete, "/volumes/\(DockerQuery.escape(name))", query: ["force": force ? "1" : nil])
    }
}
