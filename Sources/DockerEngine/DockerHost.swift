public import CurlHTTP

/// A Docker (or Docker-compatible) engine address, and why it was chosen.
public struct DockerHost: Sendable, CustomStringConvertible {
    /// Where the address came from, in the order they are tried.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// Given on the command line (`--host`).
        case flag
        /// The `DOCKER_HOST` environment variable.
        case environment
        /// A Docker CLI context: `DOCKER_CONTEXT`, or `currentContext` in the CLI's config.json.
        case context(String)
        /// `/var/run/docker.sock`.
        case defaultSocket
        /// A rootless Docker socket in `$XDG_RUNTIME_DIR` (or `/run/user/<uid>`).
        case rootlessSocket
        /// A Podman socket (rootful or rootless).
        case podmanSocket

        public var description: String {
            switch self {
            case .flag: return "--host"
            case .environment: return "DOCKER_HOST"
            case .context(let name): return "docker context \"\(name)\""
            case .defaultSocket: return "default socket"
            case .rootlessSocket: return "rootless Docker socket"
            case .podmanSocket: return "Podman socket"
            }
        }
    }

    public var endpoint: HTTPEndpoint
    public var source: Source

    public init(endpoint: HTTPEndpoint, source: Source) {
        self.endpoint = endpoint
        self.source = source
    }

    /// Whether the user named this address (flag, environment, context): then it is the only one tried.
    public var isExplicit: Bool {
        switch source {
        case .flag, .environment, .context: return true
        case .defaultSocket, .rootlessSocket, .podmanSocket: return false
        }
    }

    public var description: String { "\(endpoint) (\(source))" }
}

/// Why a host string could not be used.
public struct DockerHostError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
