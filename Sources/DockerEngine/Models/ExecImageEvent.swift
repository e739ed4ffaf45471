public import Common
/// `POST /containers/{id}/exec` body.
public struct ExecCreate: Codable, Sendable {
    public var cmd: [String]
    public var env: [String]?
    public var user: String?
    public var workingDir: String?
    public var tty: Bool
    public var attachStdin: Bool
    public var attachStdout: Bool
    public var attachStderr: Bool

    public init(cmd: [String], env: [String]? = nil, user: String? = nil, workingDir: String? = nil) {
        self.cmd = cmd
        self.env = env
        self.user = user
        self.workingDir = workingDir
        self.tty = false
        self.attachStdin = false
        self.attachStdout = true
        self.attachStderr = true
    }

    enum CodingKeys: String, CodingKey {
        case cmd = "Cmd", env = "Env", user = "User", workingDir = "WorkingDir", tty = "Tty"
        case attachStdin = "AttachStdin", attachStdout = "AttachStdout", attachStderr = "AttachStderr"
    }
}

/// `GET /exec/{id}/json`.
public struct ExecInspect: Codable, Sendable {
    public var id: String
    public var running: Bool
    /// nil while running.
    public var exitCode: Int?
    public var pid: Int?
    enum CodingKeys: String, CodingKey { case id = "ID", running = "Running", exitCode = "ExitCode", pid = "Pid" }
}

/// The output and exit code of an exec whose output was collected.
public typealias ExecResult = CommandResult

/// `GET /images/{name}/json`: the fields this tool reads.
public struct ImageInspect: Codable, Sendable {
    public var id: String
    public var repoTags: [String]?
    public var created: String?
    public var size: Int64?
    public var config: Config?

    public struct Config: Codable, Sendable {
        public var env: [String]?
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var labels: [String: String]?
        public var user: String?
        public var workingDir: String?
        /// The image's own `VOLUME`s: a sandbox must mount each one as a labelled anonymous volume.
        public var volumes: [String: EmptyObject]?
        enum CodingKeys: String, CodingKey {
            case env = "Env", cmd = "Cmd", entrypoint = "Entrypoint", labels = "Labels", user = "User"
            case workingDir = "WorkingDir", volumes = "Volumes"
        }
    }
    enum CodingKeys: String, CodingKey { case id = "Id", repoTags = "RepoTags", created = "Created", size = "Size", config = "Config" }
}

/// An entry of `GET /images/json`.
public struct ImageSummary: Codable, Sendable {
    public var id: String
    public var repoTags: [String]?
    public var labels: [String: String]?
    public var size: Int64?
    public var created: Int64?
    enum CodingKeys: String, CodingKey { case id = "Id", repoTags = "RepoTags", labels = "Labels", size = "Size", created = "Created" }
}

/// `{}` in JSON.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

/// One line of `GET /events`.
public struct DockerEvent: Codable, Sendable {
    /// `container`, `network`, `volume`, `image`, …
    public var type: String
    /// `create`, `start`, `die`, `health_status: healthy`, …
    public var action: String
    public var actor: Actor
    public var time: Int64?
    public var timeNano: Int64?

    public struct Actor: Codable, Sendable {
        public var id: String
        public var attributes: [String: String]?
        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
    }
    enum CodingKeys: String, CodingKey { case type = "Type", action = "Action", actor = "Actor", time, timeNano }
}
