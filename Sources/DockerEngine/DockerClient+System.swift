import CurlHTTP

extension DockerClient {
    /// Maps to `GET /_ping`.
    public func ping() async throws -> PingResult { try await Self.ping(http) }

    /// Maps to `GET /version`.
    public func version() async throws -> EngineVersion { try await get(EngineVersion.self, "/version") }

    /// Maps to `GET /info`.
    public func info() async throws -> EngineInfo { try await get(EngineInfo.self, "/info") }
}
