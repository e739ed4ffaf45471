/// `POST /volumes/create` body.
public struct VolumeCreate: Codable, Sendable {
    public var name: String?
    public var driver: String?
    public var labels: [String: String]

    public init(name: String? = nil, driver: String? = nil, labels: [String: String] = [:]) {
        self.name = name
        self.driver = driver
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey { case name = "Name", driver = "Driver", labels = "Labels" }
}

/// A volume (`GET /volumes/{name}`, entries of `GET /volumes`).
public struct Volume: Codable, Sendable {
    public var name: String
    public var driver: String?
    public var mountpoint: String?
    public var labels: [String: String]?
    public var createdAt: String?
    public var scope: String?

    enum CodingKeys: String, CodingKey {
        case name = "Name", driver = "Driver", mountpoint = "Mountpoint", labels = "Labels"
        case createdAt = "CreatedAt", scope = "Scope"
    }
}

struct VolumeList: Decodable {
    var volumes: [Volume]?
    enum CodingKeys: String, CodingKey { case volumes = "Volumes" }
}
