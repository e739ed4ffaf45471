import CurlHTTP

extension DockerClient {
    /// Maps to `POST /networks/create`. Below API 1.44 `CheckDuplicate` is sent, because without it the
    /// daemon creates a second network with the same name; an existing name is then `.conflict`.
    /// - Returns: the network id.
    @discardableResult
    public func createNetwork(_ spec: NetworkCreate) async throws -> String {
        var spec = spec
        spec.checkDuplicate = apiVersion < APIVersion(1, 44) ? true : nil
        let response = try await call(.post, "/networks/create", json: spec)
        let reply = try decode(IDResponse.self, from: response, request: "POST /networks/create")
        if let warning = reply.warning, !warning.isEmpty {
            logger.warning("network create warning", metadata: ["network.name": "\(spec.name)", "docker.warning": "\(warning)"])
        }
        return reply.id
    }

    /// Maps to `GET /networks/{id}`.
    public func inspectNetwork(_ id: String) async throws -> NetworkInspect {
        try await get(NetworkInspect.self, "/networks/\(DockerQuery.escape(id))")
    }

    /// Maps to `GET /networks?filters=…`. The daemon's `name` filter is a substring match: compare names
    /// yourself when you need an exact one.
    public func listNetworks(filters: DockerFilters = DockerFilters()) async throws -> [NetworkInspect] {
        var query = DockerQuery()
        if !filters.isEmpty { query["filters"] = filters.json }
        return try await get([NetworkInspect].self, "/networks", query: query)
    }

    /// Maps to `DELETE /networks/{id}`. `.forbidden` while endpoints are still attached.
    public func removeNetwork(_ id: String) async throws {
        try await call(.delete, "/networks/\(DockerQuery.escape(id))")
    }

    /// Maps to `POST /networks/{id}/connect`.
    public func connectNetwork(_ network: String, container: String, aliases: [String] = []) async throws {
        struct Body: Encodable {
            var Container: String
            var EndpointConfig: EndpointSettings
        }
        try await call(.post, "/networks/\(DockerQuery.escape(network))/connect",
                       json: Body(Container: container, EndpointConfig: EndpointSettings(aliases: aliases.isEmpty ? nil : aliases)))
    }

    /// Maps to `POST /networks/{id}/disconnect`.
    public func disconnectNetwork(_ network: String, container: String, force: Bool = false) async throws {
        struct Body: Encodable {
            var Container: String
            var Force: Bool
        }
        try await call(.post, "/networks/\(DockerQuery.escape(network))/disconnect", json: Body(Container: container, Force: force))
    }
}
