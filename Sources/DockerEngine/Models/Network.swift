/// `POST /networks/create` body.
public struct NetworkCreate: Codable, Sendable {
    public var name: String
    /// Sent only below API 1.44, where it defaults to false and duplicate names are created silently.
    public var checkDuplicate: Bool?
    public var driver: String
    public var `internal`: Bool
    public var attachable: Bool
    public var enableIPv6: Bool
    public var labels: [String: String]
    public var options: [String: String]

    public init(
        name: String, driver: String = "bridge", internal: Bool = true, attachable: Bool = false,
        enableIPv6: Bool = false, labels: [String: String] = [:], options: [String: String] = [:]
    ) {
        self.name = name
        self.driver = driver
        self.internal = `internal`
        self.attachable = attachable
        self.enableIPv6 = enableIPv6
        self.labels = labels
        self.options = options
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", checkDuplicate = "CheckDuplicate", driver = "Driver", `internal` = "Internal"
        case attachable = "Attachable", enableIPv6 = "EnableIPv6", labels = "Labels", options = "Options"
    }
}

/// `GET /networks/{id}` (and the entries of `GET /networks`).
public struct NetworkInspect: Codable, Sendable {
    public var name: String
    public var id: String
    public var driver: String?
    public var scope: String?
    public var `internal`: Bool?
    public var labels: [String: String]?
    public var options: [String: String]?
    public var containers: [String: Endpoint]?
    public var ipam: IPAM?

    public struct Endpoint: Codable, Sendable {
        public var name: String?
        public var ipv4Address: String?
        enum CodingKeys: String, CodingKey { case name = "Name", ipv4Address = "IPv4Address" }
    }

    public struct IPAM: Codable, Sendable {
        public var config: [Config]?
        public struct Config: Codable, Sendable {
            public var subnet: String?
            public var gateway: String?
            enum CodingKeys: String, CodingKey { case subnet = "Subnet", gateway = "Gateway" }
        }
        enum CodingKeys: String, CodingKey { case config = "Config" }
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", id = "Id", driver = "Driver", scope = "Scope", `internal` = "Internal"
        case labels = "Labels", options = "Options", containers = "Containers", ipam = "IPAM"
    }
}

struct IDResponse: Decodable {
    var id: String
    var warning: String?
    var warnings: [String]?
    enum CodingKeys: String, CodingKey { case id = "Id", warning = "Warning", warnings = "Warnings" }
}
