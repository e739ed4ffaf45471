/// `GET /containers/{id}/json`: the fields this tool reads.
public struct ContainerInspect: Codable, Sendable {
    public var id: String
    public var name: String
    public var image: String?
    public var created: String?
    public var state: ContainerState
    public var config: Config?
    public var hostConfig: HostConfig?
    public var mounts: [MountPoint]?
    public var networkSettings: NetworkSettings?

    public struct Config: Codable, Sendable {
        public var image: String?
        public var env: [String]?
        public var labels: [String: String]?
        public var tty: Bool?
        public var user: String?
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var healthcheck: Healthcheck?
        enum CodingKeys: String, CodingKey {
            case image = "Image", env = "Env", labels = "Labels", tty = "Tty", user = "User", cmd = "Cmd"
            case entrypoint = "Entrypoint", healthcheck = "Healthcheck"
        }

        /// `env` as a dictionary (the last value wins, as in the container).
        public var environment: [String: String] {
            Dictionary((env ?? []).map { line -> (String, String) in
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { _, last in last })
        }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", image = "Image", created = "Created", state = "State", config = "Config"
        case hostConfig = "HostConfig", mounts = "Mounts", networkSettings = "NetworkSettings"
    }
}

public struct ContainerState: Codable, Sendable {
    public var status: String
    public var running: Bool
    public var oomKilled: Bool?
    public var dead: Bool?
    public var pid: Int?
    public var exitCode: Int?
    public var error: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var health: Health?

    public struct Health: Codable, Sendable {
        /// `starting`, `healthy` or `unhealthy`.
        public var status: String
        public var failingStreak: Int?
        public var log: [Probe]?
        public struct Probe: Codable, Sendable {
            public var exitCode: Int?
            public var output: String?
            enum CodingKeys: String, CodingKey { case exitCode = "ExitCode", output = "Output" }
        }
        enum CodingKeys: String, CodingKey { case status = "Status", failingStreak = "FailingStreak", log = "Log" }
    }

    enum CodingKeys: String, CodingKey {
        case status = "Status", running = "Running", oomKilled = "OOMKilled", dead = "Dead", pid = "Pid"
        case exitCode = "ExitCode", error = "Error", startedAt = "StartedAt", finishedAt = "FinishedAt"
        case health = "Health"
    }
}

public struct MountPoint: Codable, Sendable {
    public var type: String?
    public var name: String?
    public var source: String?
    public var destination: String
    public var rw: Bool?
    enum CodingKeys: String, CodingKey {
        case type = "Type", name = "Name", source = "Source", destination = "Destination", rw = "RW"
    }
}

public struct NetworkSettings: Codable, Sendable {
    public var networks: [String: EndpointState]?
    public var ports: [String: [PortBinding]?]?

    public struct EndpointState: Codable, Sendable {
        public var ipAddress: String?
        public var aliases: [String]?
        public var networkID: String?
        enum CodingKeys: String, CodingKey { case ipAddress = "IPAddress", aliases = "Aliases", networkID = "NetworkID" }
    }
    enum CodingKeys: String, CodingKey { case networks = "Networks", ports = "Ports" }
}

/// An entry of `GET /containers/json`.
public struct ContainerSummary: Codable, Sendable {
    public var id: String
    public var names: [String]
    public var image: String?
    public var labels: [String: String]?
    /// `created`, `running`, `exited`, …
    public var state: String?
    public var status: String?
    public var created: Int64?
    public var networkSettings: NetworkSettings?

    /// The name without Docker's leading slash.
    public var name: String { (names.first ?? id).trimmingPrefix("/").description }

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", labels = "Labels", state = "State", status = "Status"
        case created = "Created", networkSettings = "NetworkSettings"
    }
}

/// `POST /containers/{id}/wait` reply.
public struct WaitResult: Codable, Sendable {
    public var statusCode: Int
    public var error: ErrorText?
    public struct ErrorText: Codable, Sendable {
        public var message: String?
        enum CodingKeys: String, CodingKey { case message = "Message" }
    }
    enum CodingKeys: String, CodingKey { case statusCode = "StatusCode", error = "Error" }
}
