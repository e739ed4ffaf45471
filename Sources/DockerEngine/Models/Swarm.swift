import Foundation

/// The swarm part of `GET /info`: whether this engine is a node, and whether it manages.
public struct SwarmInfo: Codable, Sendable {
    public var nodeID: String?
    public var nodeAddr: String?
    /// `inactive`, `pending`, `active`, `error`, `locked`.
    public var localNodeState: String?
    /// True on a manager: services, tasks and nodes can be asked for here.
    public var controlAvailable: Bool?
    public var nodes: Int?
    public var managers: Int?

    enum CodingKeys: String, CodingKey {
        case nodeID = "NodeID", nodeAddr = "NodeAddr", localNodeState = "LocalNodeState"
        case controlAvailable = "ControlAvailable", nodes = "Nodes", managers = "Managers"
    }

    /// A manager of an active swarm.
    public var isManager: Bool { localNodeState == "active" && controlAvailable == true }
}

/// A node of the swarm (`GET /nodes`).
public struct SwarmNode: Codable, Sendable {
    public var id: String
    public var spec: Spec?
    public var description: Description?
    public var status: Status?
    public var managerStatus: ManagerStatus?

    public struct Spec: Codable, Sendable {
        /// `worker` or `manager`.
        public var role: String?
        /// `active`, `pause`, `drain`.
        public var availability: String?
        enum CodingKeys: String, CodingKey { case role = "Role", availability = "Availability" }
    }
    public struct Description: Codable, Sendable {
        public var hostname: String?
        public var resources: Resources?
        enum CodingKeys: String, CodingKey { case hostname = "Hostname", resources = "Resources" }
    }
    public struct Resources: Codable, Sendable {
        public var nanoCPUs: Int64?
        public var memoryBytes: Int64?
        enum CodingKeys: String, CodingKey { case nanoCPUs = "NanoCPUs", memoryBytes = "MemoryBytes" }
    }
    public struct Status: Codable, Sendable {
        /// `ready`, `down`, `unknown`, `disconnected`.
        public var state: String?
        public var addr: String?
        enum CodingKeys: String, CodingKey { case state = "State", addr = "Addr" }
    }
    public struct ManagerStatus: Codable, Sendable {
        public var leader: Bool?
        public var addr: String?
        enum CodingKeys: String, CodingKey { case leader = "Leader", addr = "Addr" }
    }

    enum CodingKeys: String, CodingKey {
        case id = "ID", spec = "Spec", description = "Description", status = "Status", managerStatus = "ManagerStatus"
    }

    /// Ready and accepting tasks.
    public var isSchedulable: Bool { status?.state == "ready" && (spec?.availability ?? "active") == "active" }
}

/// `POST /services/create`: the parts of a service spec this tool sets (API 1.41).
public struct ServiceCreate: Codable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var taskTemplate: TaskTemplate
    public var mode: Mode
    public var endpointSpec: EndpointSpec?

    public init(name: String, labels: [String: String], taskTemplate: TaskTemplate, mode: Mode, endpointSpec: EndpointSpec? = nil) {
        self.name = name
        self.labels = labels
        self.taskTemplate = taskTemplate
        self.mode = mode
        self.endpointSpec = endpointSpec
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", labels = "Labels", taskTemplate = "TaskTemplate", mode = "Mode", endpointSpec = "EndpointSpec"
    }

    public struct TaskTemplate: Codable, Sendable {
        public var containerSpec: ContainerSpec
        public var resources: Resources?
        public var restartPolicy: RestartPolicy?
        public var placement: Placement?
        public var networks: [NetworkAttachment]?

        public init(containerSpec: ContainerSpec, resources: Resources? = nil, restartPolicy: RestartPolicy? = nil,
                    placement: Placement? = nil, networks: [NetworkAttachment]? = nil) {
            self.containerSpec = containerSpec
            self.resources = resources
            self.restartPolicy = restartPolicy
            self.placement = placement
            self.networks = networks
        }

        enum CodingKeys: String, CodingKey {
            case containerSpec = "ContainerSpec", resources = "Resources", restartPolicy = "RestartPolicy"
            case placement = "Placement", networks = "Networks"
        }
    }

    public struct ContainerSpec: Codable, Sendable {
        public var image: String
        public var labels: [String: String]?
        /// The entrypoint (Compose's `entrypoint`).
        public var command: [String]?
        /// The arguments (Compose's `command`).
        public var args: [String]?
        public var hostname: String?
        public var env: [String]?
        public var dir: String?
        public var user: String?
        public var mounts: [ServiceMount]?
        public var healthcheck: Healthcheck?
        public var dnsConfig: DNSConfig?
        public var capabilityAdd: [String]?
        public var capabilityDrop: [String]?
        public var initProcess: Bool?
        public var readOnly: Bool?
        public var stopGracePeriod: Int64?

        public init(image: String) { self.image = image }

        enum CodingKeys: String, CodingKey {
            case image = "Image", labels = "Labels", command = "Command", args = "Args", hostname = "Hostname", env = "Env"
            case dir = "Dir", user = "User", mounts = "Mounts", healthcheck = "HealthCheck", dnsConfig = "DNSConfig"
            case capabilityAdd = "CapabilityAdd", capabilityDrop = "CapabilityDrop", initProcess = "Init", readOnly = "ReadOnly"
            case stopGracePeriod = "StopGracePeriod"
        }
    }

    public struct ServiceMount: Codable, Sendable {
        public var type: String
        public var target: String
        public var tmpfsOptions: TmpfsOptions?

        public init(tmpfs target: String, sizeBytes: Int64?, mode: Int? = nil) {
            type = "tmpfs"
            self.target = target
            tmpfsOptions = TmpfsOptions(sizeBytes: sizeBytes, mode: mode)
        }

        enum CodingKeys: String, CodingKey { case type = "Type", target = "Target", tmpfsOptions = "TmpfsOptions" }
    }

    public struct TmpfsOptions: Codable, Sendable {
        public var sizeBytes: Int64?
        public var mode: Int?
        enum CodingKeys: String, CodingKey { case sizeBytes = "SizeBytes", mode = "Mode" }
    }

    public struct DNSConfig: Codable, Sendable {
        public var nameservers: [String]?
        /// resolv.conf options (`timeout:1`, …).
        public var options: [String]?
        public init(nameservers: [String]?, options: [String]? = nil) {
            self.nameservers = nameservers
            self.options = options
        }
        enum CodingKeys: String, CodingKey { case nameservers = "Nameservers", options = "Options" }
    }

    public struct Resources: Codable, Sendable {
        public var limits: Limits?
        public init(limits: Limits?) { self.limits = limits }
        enum CodingKeys: String, CodingKey { case limits = "Limits" }
    }

    public struct Limits: Codable, Sendable {
        public var memoryBytes: Int64?
        /// API 1.41.
        public var pids: Int64?
        public init(memoryBytes: Int64?, pids: Int64?) {
            self.memoryBytes = memoryBytes
            self.pids = pids
        }
        enum CodingKeys: String, CodingKey { case memoryBytes = "MemoryBytes", pids = "Pids" }
    }

    public struct RestartPolicy: Codable, Sendable {
        /// `none`, `on-failure`, `any`.
        public var condition: String
        public init(condition: String) { self.condition = condition }
        enum CodingKeys: String, CodingKey { case condition = "Condition" }
    }

    public struct Placement: Codable, Sendable {
        public var constraints: [String]?
        public init(constraints: [String]?) { self.constraints = constraints }
        enum CodingKeys: String, CodingKey { case constraints = "Constraints" }
    }

    public struct NetworkAttachment: Codable, Sendable {
        public var target: String
        public var aliases: [String]?
        public init(target: String, aliases: [String]? = nil) {
            self.target = target
            self.aliases = aliases
        }
        enum CodingKeys: String, CodingKey { case target = "Target", aliases = "Aliases" }
    }

    /// `Replicated` (a service that runs), or `ReplicatedJob` (runs to completion; API 1.41) as listed.
    public struct Mode: Codable, Sendable {
        public var replicated: Replicated?
        public var replicatedJob: ReplicatedJob?

        public struct Replicated: Codable, Sendable {
            public var replicas: Int
            enum CodingKeys: String, CodingKey { case replicas = "Replicas" }
        }
        public struct ReplicatedJob: Codable, Sendable {
            public var maxConcurrent: Int
            public var totalCompletions: Int
            enum CodingKeys: String, CodingKey { case maxConcurrent = "MaxConcurrent", totalCompletions = "TotalCompletions" }
        }

        public static func replicated(_ n: Int) -> Mode { Mode(replicated: Replicated(replicas: n), replicatedJob: nil) }

        enum CodingKeys: String, CodingKey { case replicated = "Replicated", replicatedJob = "ReplicatedJob" }
    }

    public struct EndpointSpec: Codable, Sendable {
        /// `vip` or `dnsrr`.
        public var mode: String?
        /// Published ports (a sandbox has none).
        public var ports: [PortConfig]?
        public init(mode: String) { self.mode = mode }
        enum CodingKeys: String, CodingKey { case mode = "Mode", ports = "Ports" }
    }

    public struct PortConfig: Codable, Sendable {
        public var targetPort: Int?
        public var publishedPort: Int?
        enum CodingKeys: String, CodingKey { case targetPort = "TargetPort", publishedPort = "PublishedPort" }
    }
}

/// A service as `GET /services` lists it.
public struct SwarmService: Codable, Sendable {
    public var id: String
    public var spec: ServiceCreate
    public var createdAt: String?

    enum CodingKeys: String, CodingKey { case id = "ID", spec = "Spec", createdAt = "CreatedAt" }
}

/// A task (one container of a service on one node) as `GET /tasks` lists it.
public struct SwarmTask: Codable, Sendable {
    public var id: String
    public var serviceID: String?
    public var nodeID: String?
    public var desiredState: String?
    public var status: Status?
    public var networksAttachments: [NetworkAttachment]?
    /// What the task runs: its container's labels are the ones a task is told apart by once its service
    /// is gone (`GET /tasks` cannot filter on them).
    public var spec: Spec?

    public struct Spec: Codable, Sendable {
        public var containerSpec: ContainerLabels?
        enum CodingKeys: String, CodingKey { case containerSpec = "ContainerSpec" }
    }
    public struct ContainerLabels: Codable, Sendable {
        public var labels: [String: String]?
        enum CodingKeys: String, CodingKey { case labels = "Labels" }
    }

    public struct Status: Codable, Sendable {
        /// `new`, `pending`, `assigned`, `accepted`, `preparing`, `starting`, `running`, `complete`,
        /// `shutdown`, `failed`, `rejected`, `orphaned`, `remove`.
        public var state: String?
        public var message: String?
        public var err: String?
        public var containerStatus: ContainerStatus?
        enum CodingKeys: String, CodingKey { case state = "State", message = "Message", err = "Err", containerStatus = "ContainerStatus" }
    }
    public struct ContainerStatus: Codable, Sendable {
        public var containerID: String?
        public var exitCode: Int?
        enum CodingKeys: String, CodingKey { case containerID = "ContainerID", exitCode = "ExitCode" }
    }
    public struct NetworkAttachment: Codable, Sendable {
        public var network: Network?
        public var addresses: [String]?
        public struct Network: Codable, Sendable {
            public var id: String?
            public var spec: NetworkSpec?
            enum CodingKeys: String, CodingKey { case id = "ID", spec = "Spec" }
        }
        public struct NetworkSpec: Codable, Sendable {
            public var name: String?
            enum CodingKeys: String, CodingKey { case name = "Name" }
        }
        enum CodingKeys: String, CodingKey { case network = "Network", addresses = "Addresses" }
    }

    enum CodingKeys: String, CodingKey {
        case id = "ID", serviceID = "ServiceID", nodeID = "NodeID", desiredState = "DesiredState", status = "Status"
        case networksAttachments = "NetworksAttachments", spec = "Spec"
    }

    /// The task's state has ended (it will not run again).
    public var isFinal: Bool { ["complete", "shutdown", "failed", "rejected", "orphaned", "remove"].contains(status?.state ?? "") }

    /// The task's address on a network (without the prefix length).
    public func address(on network: String) -> String? {
        networksAttachments?.first { $0.network?.spec?.name == network }?.addresses?.first
            .map { String($0.split(separator: "/").first ?? "") }
    }
}
