/// `GET /version`.
public struct EngineVersion: Codable, Sendable {
    public var version: String
    public var apiVersion: String
    public var minAPIVersion: String?
    public var os: String?
    public var arch: String?
    public var kernelVersion: String?
    public var components: [Component]?

    public struct Component: Codable, Sendable {
        public var name: String
        public var version: String
        enum CodingKeys: String, CodingKey { case name = "Name", version = "Version" }
    }

    enum CodingKeys: String, CodingKey {
        case version = "Version", apiVersion = "ApiVersion", minAPIVersion = "MinAPIVersion", os = "Os"
        case arch = "Arch", kernelVersion = "KernelVersion", components = "Components"
    }
}

/// The parts of `GET /info` this tool reports.
public struct EngineInfo: Codable, Sendable {
    public var name: String?
    public var serverVersion: String?
    public var driver: String?
    public var operatingSystem: String?
    public var cgroupVersion: String?
    public var cgroupDriver: String?
    public var ncpu: Int?
    public var memTotal: Int64?
    public var containers: Int?
    public var images: Int?
    public var securityOptions: [String]?
    /// Whether the engine is a swarm node, and a manager.
    public var swarm: SwarmInfo?

    enum CodingKeys: String, CodingKey {
        case swarm = "Swarm"
        case name = "Name", serverVersion = "ServerVersion", driver = "Driver", operatingSystem = "OperatingSystem"
        case cgroupVersion = "CgroupVersion", cgroupDriver = "CgroupDriver", ncpu = "NCPU", memTotal = "MemTotal"
        case containers = "Containers", images = "Images", securityOptions = "SecurityOptions"
    }
}

/// What `/_ping` says: the API version the engine speaks, and whether it is Podman.
public struct PingResult: Sendable {
    public var apiVersion: APIVersion?
    /// Set by Podman's Docker-compatible service (`Libpod-API-Version`).
    public var libpodVersion: String?
    public var server: String?
    public var osType: String?
}

/// An Engine API version such as 1.41, ordered numerically (1.9 < 1.41).
public struct APIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.init(major, minor)
    }

    public static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
    public var description: String { "\(major).\(minor)" }
}

import Foundation
