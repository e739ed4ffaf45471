/// A sandbox stack: the services of `compose/drill.yml`, after the isolation policy accepted them.
public struct StackSpec: Sendable {
    public var services: [ServiceSpec]

    public init(services: [ServiceSpec]) { self.services = services }

    /// The services in start order: every service after the ones it depends on (file order otherwise).
    public func startOrder() throws -> [ServiceSpec] {
        var ordered: [ServiceSpec] = []
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        let byName = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func visit(_ service: ServiceSpec, path: [String]) throws {
            if state[service.name] == 2 { return }
            if state[service.name] == 1 {
                throw SpecError(message: "depends_on forms a cycle: \((path + [service.name]).joined(separator: " -> "))", line: service.line)
            }
            state[service.name] = 1
            for dep in service.dependsOn {
                guard let target = byName[dep] else {
                    throw SpecError(message: "service \"\(service.name)\" depends on unknown service \"\(dep)\"", line: service.line)
                }
                try visit(target, path: path + [service.name])
            }
            state[service.name] = 2
            ordered.append(service)
        }
        for service in services { try visit(service, path: []) }
        return ordered
    }
}

/// What a service is for, which decides how its readiness is checked.
public enum ServiceRole: String, Sendable, Codable {
    /// Ready when it answers a query over TCP (not the unix socket, which answers during init).
    case postgres
    /// Ready when it answers PING.
    case redis
    /// Ready when its health check says healthy, or else when it is running.
    case app
}

/// One service of the stack.
public struct ServiceSpec: Sendable {
    public var name: String
    public var image: String
    public var role: ServiceRole
    /// Ordered as written.
    public var environment: [(name: String, value: String)]
    public var command: [String]?
    public var entrypoint: [String]?
    public var healthcheck: HealthcheckSpec?
    /// Container paths mounted as tmpfs (`/path` or `/path:options`).
    public var tmpfs: [String]
    public var shmSize: Int64?
    public var memLimit: Int64?
    public var dependsOn: [String]
    public var labels: [String: String]
    /// Container paths that get an anonymous, project-labelled volume.
    public var volumes: [String]
    public var capAdd: [String]
    public var user: String?
    public var workingDir: String?
    /// A fixed container name, set only by code (the demo's `acp_postgres`); stack files cannot set it.
    public var containerName: String?
    /// The line of the service in the file, for messages.
    public var line: Int?

    public init(name: String, image: String, role: ServiceRole? = nil) {
        self.name = name
        self.image = image
        self.role = role ?? ServiceRole.infer(image: image)
        self.environment = []
        self.tmpfs = []
        self.dependsOn = []
        self.labels = [:]
        self.volumes = []
        self.capAdd = []
    }

    public func env(_ name: String) -> String? { environment.last { $0.name == name }?.value }
}

extension ServiceRole {
    /// `postgres`/`postgis`/`timescaledb` images are Postgres, `redis`/`valkey` images Redis, others apps.
    public static func infer(image: String) -> ServiceRole {
        let repo = image.split(separator: "/").last.map { String($0.split(separator: ":").first ?? "") } ?? image
        if ["postgres", "postgis", "timescaledb", "timescaledb-ha"].contains(where: { repo.hasPrefix($0) }) { return .postgres }
        if repo.hasPrefix("redis") || repo.hasPrefix("valkey") { return .redis }
        return .app
    }
}

/// A Compose health check.
public struct HealthcheckSpec: Sendable {
    public var test: [String]
    public var interval: Duration?
    public var timeout: Duration?
    public var retries: Int?
    public var startPeriod: Duration?
}

/// A stack file that cannot be used, naming the key and line.
public struct SpecError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var line: Int?
    public var file: String?

    public init(message: String, line: Int?, file: String? = nil) {
        self.message = message
        self.line = line
        self.file = file
    }

    public var description: String {
        let place = [file, line.map { "line \($0)" }].compactMap { $0 }.joined(separator: ":")
        return place.isEmpty ? message : "\(place): \(message)"
    }
}
