/// `POST /containers/create` body. Unknown fields are silently ignored by the daemon, so only typed fields
/// exist here: a typo cannot slip through.
public struct ContainerCreate: Codable, Sendable {
    public var image: String
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var env: [String]?
    public var labels: [String: String]?
    public var user: String?
    public var workingDir: String?
    public var hostname: String?
    public var tty: Bool?
    public var openStdin: Bool?
    public var attachStdin: Bool?
    public var attachStdout: Bool?
    public var attachStderr: Bool?
    public var stopTimeout: Int?
    public var stopSignal: String?
    public var healthcheck: Healthcheck?
    public var hostConfig: HostConfig
    public var networkingConfig: NetworkingConfig?

    public init(image: String, cmd: [String]? = nil, env: [String]? = nil, labels: [String: String]? = nil,
                hostConfig: HostConfig = HostConfig()) {
        self.image = image
        self.cmd = cmd
        self.env = env
        self.labels = labels
        self.hostConfig = hostConfig
    }

    enum CodingKeys: String, CodingKey {
        case image = "Image", cmd = "Cmd", entrypoint = "Entrypoint", env = "Env", labels = "Labels", user = "User"
        case workingDir = "WorkingDir", hostname = "Hostname", tty = "Tty", openStdin = "OpenStdin"
        case attachStdin = "AttachStdin", attachStdout = "AttachStdout", attachStderr = "AttachStderr"
        case stopTimeout = "StopTimeout", stopSignal = "StopSignal", healthcheck = "Healthcheck"
        case hostConfig = "HostConfig", networkingConfig = "NetworkingConfig"
    }
}

/// A container health check. Durations are nanoseconds on the wire.
public struct Healthcheck: Codable, Sendable {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
    public var test: [String]
    public var interval: Int64?
    public var timeout: Int64?
    public var retries: Int?
    public var startPeriod: Int64?

    public init(test: [String], interval: Duration? = nil, timeout: Duration? = nil, retries: Int? = nil,
                startPeriod: Duration? = nil) {
        self.test = test
        self.interval = interval.map(\.nanoseconds)
        self.timeout = timeout.map(\.nanoseconds)
        self.retries = retries
        self.startPeriod = startPeriod.map(\.nanoseconds)
    }

    enum CodingKeys: String, CodingKey {
        case test = "Test", interval = "Interval", timeout = "Timeout", retries = "Retries", startPeriod = "StartPeriod"
    }
}

/// `HostConfig`: resources, security and mounts.
public struct HostConfig: Codable, Sendable {
    public var networkMode: String?
    public var memory: Int64?
    public var pidsLimit: Int64?
    public var nanoCpus: Int64?
    public var capDrop: [String]?
    public var capAdd: [String]?
    public var securityOpt: [String]?
    public var readonlyRootfs: Bool?
    public var privileged: Bool?
    public var publishAllPorts: Bool?
    /// Podman answers `null` for a port the image exposes and nobody publishes.
    public var portBindings: [String: [PortBinding]?]?
    public var binds: [String]?
    /// `name:address` lines for the container's /etc/hosts.
    public var extraHosts: [String]?
    /// Upstream servers for the embedded DNS of user-defined networks.
    public var dns: [String]?
    public var tmpfs: [String: String]?
    public var mounts: [Mount]?
    public var shmSize: Int64?
    public var pidMode: String?
    public var ipcMode: String?
    public var autoRemove: Bool?
    public var `init`: Bool?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case networkMode = "NetworkMode", memory = "Memory", pidsLimit = "PidsLimit", nanoCpus = "NanoCpus"
        case capDrop = "CapDrop", capAdd = "CapAdd", securityOpt = "SecurityOpt", readonlyRootfs = "ReadonlyRootfs"
        case privileged = "Privileged", publishAllPorts = "PublishAllPorts", portBindings = "PortBindings"
        case binds = "Binds", extraHosts = "ExtraHosts", dns = "Dns", tmpfs = "Tmpfs", mounts = "Mounts", shmSize = "ShmSize", pidMode = "PidMode"
        case ipcMode = "IpcMode", autoRemove = "AutoRemove", `init` = "Init"
    }
}

public struct PortBinding: Codable, Sendable {
    public var hostIp: String?
    public var hostPort: String?
    public init(hostIp: String? = nil, hostPort: String? = nil) {
        self.hostIp = hostIp
        self.hostPort = hostPort
    }
    enum CodingKeys: String, CodingKey { case hostIp = "HostIp", hostPort = "HostPort" }
}

/// A mount in `HostConfig.Mounts`. A `volume` mount without `source` creates an anonymous volume, removed
/// with the container by `DELETE …?v=1`, and carries `volumeOptions.labels` so leaks can be found.
public struct Mount: Codable, Sendable {
    public var type: String
    public var source: String?
    public var target: String
    public var readOnly: Bool?
    public var volumeOptions: VolumeOptions?
    public var tmpfsOptions: TmpfsOptions?

    public struct VolumeOptions: Codable, Sendable {
        public var labels: [String: String]?
        public init(labels: [String: String]?) { self.labels = labels }
        enum CodingKeys: String, CodingKey { case labels = "Labels" }
    }

    public struct TmpfsOptions: Codable, Sendable {
        public var sizeBytes: Int64?
        public var mode: Int?
        public init(sizeBytes: Int64?, mode: Int?) {
            self.sizeBytes = sizeBytes
            self.mode = mode
        }
        enum CodingKeys: String, CodingKey { case sizeBytes = "SizeBytes", mode = "Mode" }
    }

    /// An anonymous volume at `target` carrying `labels`.
    public static func anonymousVolume(at target: String, labels: [String: String]) -> Mount {
        Mount(type: "volume", source: nil, target: target, volumeOptions: VolumeOptions(labels: labels))
    }

    public init(type: String, source: String?, target: String, readOnly: Bool? = nil,
                volumeOptions: VolumeOptions? = nil, tmpfsOptions: TmpfsOptions? = nil) {
        self.type = type
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.volumeOptions = volumeOptions
        self.tmpfsOptions = tmpfsOptions
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type", source = "Source", target = "Target", readOnly = "ReadOnly"
        case volumeOptions = "VolumeOptions", tmpfsOptions = "TmpfsOptions"
    }
}

/// `NetworkingConfig`: API 1.41 accepts one endpoint at create; connect more with `connectNetwork`.
public struct NetworkingConfig: Codable, Sendable {
    public var endpointsConfig: [String: EndpointSettings]
    public init(endpointsConfig: [String: EndpointSettings]) { self.endpointsConfig = endpointsConfig }
    enum CodingKeys: String, CodingKey { case endpointsConfig = "EndpointsConfig" }
}

public struct EndpointSettings: Codable, Sendable {
    public var aliases: [String]?
    public init(aliases: [String]?) { self.aliases = aliases }
    enum CodingKeys: String, CodingKey { case aliases = "Aliases" }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
