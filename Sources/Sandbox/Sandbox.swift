public import DockerEngine
public import Common
public import Logging
import Foundation
import Synchronization

/// One provisioned sandbox project: an internal network and one container per service, all labelled.
///
/// Everything it owns can be found again from the daemon by its project label, so teardown works from
/// daemon state alone (after a crash, from another process: `Sandbox.teardown(project:client:logger:)`).
public final class Sandbox: Sendable {
    /// A running service of the sandbox.
    public struct Service: Sendable, Codable {
        public var name: String
        public var role: ServiceRole
        public var image: String
        public var containerID: String
        public var containerName: String
        /// Its address on the sandbox network.
        public var address: String?
        /// For Postgres: the superuser, password and default database the container was created with.
        public var postgresUser: String?
        public var postgresPassword: String?
        public var postgresDatabase: String?
        /// The swarm node that runs it (its hostname), on a swarm; nil on one engine.
        public var node: String?
        /// That node's swarm id (where jobs beside the service are placed).
        public var nodeID: String?

        public init(name: String, role: ServiceRole, image: String = "", containerID: String, containerName: String, address: String? = nil,
                    postgresUser: String? = nil, postgresPassword: String? = nil, postgresDatabase: String? = nil, node: String? = nil) {
            self.name = name
            self.role = role
            self.image = image
            self.containerID = containerID
            self.containerName = containerName
            self.address = address
            self.postgresUser = postgresUser
            self.postgresPassword = postgresPassword
            self.postgresDatabase = postgresDatabase
            self.node = node
        }
    }

    public let project: SandboxProject
    /// What runs the sandbox: every operation of Drill, Backup and Fixture goes through it.
    public let backend: any SandboxBackend
    /// The Docker engine behind the backend (the `Sandbox+…` files' own; a swarm's manager for `SwarmSandboxBackend`).
    let client: DockerClient
    let logger: Logger
    let options: SandboxOptions
    private let state = Mutex<[Service]>([])

    init(project: SandboxProject, client: DockerClient, options: SandboxOptions, logger: Logger, backend: (any SandboxBackend)? = nil) {
        self.project = project
        self.client = client
        self.backend = backend ?? DockerSandboxBackend(client: client)
        self.options = options
        var logger = logger
        logger[metadataKey: "sandbox.project"] = "\(project.name)"
        self.logger = logger
    }

    /// The services, in start order.
    public var services: [Service] { state.withLock { $0 } }

    public func service(_ name: String) -> Service? { services.first { $0.name == name } }

    /// The first service with this role.
    public func service(role: ServiceRole) -> Service? { services.first { $0.role == role } }

    func record(_ service: Service) { state.withLock { $0.append(service) } }

    /// Finds a project's services again from the daemon (for `exec`, `verify-chain` on a kept project).
    /// `networkName` names the project's network; by default it is the one network labelled with the
    /// project (`<project>_net`, or the demo stand-in's own).
    public static func attach(project name: String, networkName: String? = nil, client: DockerClient, logger: Logger) async throws -> Sandbox {
        let containers = try await client.listContainers(filters: .label(SandboxProject.Label.project, name))
        guard let first = containers.first else {
            throw SandboxError(code: .notFound, message: "no sandbox project \(name) on this engine (acp-drill ls lists them)")
        }
        let labels = first.labels ?? [:]
        let kind = SandboxProject.Kind(rawValue: labels[SandboxProject.Label.kind] ?? "") ?? .env
        let expires = labels[SandboxProject.Label.expiresAt].flatMap(SandboxProject.parseRFC3339) ?? Date()
        // The project's network: the one asked for; else the one its containers are actually on (the demo's
        // stand-in names its own, and an engine may not filter networks by label as dockerd does); else the
        // one labelled with it.
        var found = networkName
        if found == nil {
            let joined = Set(try await client.inspectContainer(first.id).networkSettings?.networks?.keys.map { $0 } ?? [])
            if joined.count == 1 { found = joined.first }
        }
        if found == nil {
            let labelled = try await client.listNetworks(filters: .label(SandboxProject.Label.project, name))
            if labelled.count == 1 { found = labelled.first?.name }
        }
        let project = found
            .map { SandboxProject(name: name, kind: kind, expiresAt: expires, networkName: $0) }
            ?? SandboxProject(name: name, kind: kind, expiresAt: expires)
        let sandbox = Sandbox(project: project, client: client,
                              options: SandboxOptions(), logger: logger)
        for c in containers.sorted(by: { ($0.created ?? 0) < ($1.created ?? 0) }) {
            let inspect = try await client.inspectContainer(c.id)
            let l = c.labels ?? [:]
            let env = inspect.config?.environment ?? [:]
            let role = ServiceRole(rawValue: l[SandboxProject.Label.role] ?? "") ?? .app
            sandbox.record(Service(
                name: l[SandboxProject.Label.service] ?? c.name, role: role, image: c.image ?? "", containerID: c.id,
                containerName: c.name, address: inspect.networkSettings?.networks?[sandbox.project.networkName]?.ipAddress,
                postgresUser: role == .postgres ? env["POSTGRES_USER"] ?? "postgres" : nil,
                postgresPassword: role == .postgres ? env["POSTGRES_PASSWORD"] : nil,
                postgresDatabase: role == .postgres ? env["POSTGRES_DB"] ?? env["POSTGRES_USER"] ?? "postgres" : nil))
        }
        return sandbox
    }

    /// Removes everything of this project (the backend's `teardown(project:logger:)`). Safe to call
    /// twice; runs even when the calling task was cancelled (SIGINT), because teardown must not be skipped.
    @discardableResult
    public func teardown() async throws -> TeardownReport {
        let name = project.name
        let backend = self.backend
        let logger = self.logger
        return try await Task.detached {
            try await backend.teardown(project: name, logger: logger)
        }.value
    }

    // MARK: operations through the backend

    /// Runs `command` in `service` and collects its output (see `SandboxBackend.run`).
    public func run(_ command: [String], in service: Service, env: [String] = [], stdin: (any ExecInput)? = nil) async throws -> CommandResult {
        try await backend.run(command, in: service, env: env, stdin: stdin)
    }

    /// Starts services held back at provisioning.
    public func start(_ names: Set<String>, from spec: StackSpec, progress: ProgressHandler? = nil) async throws {
        try await backend.start(names, in: self, from: spec, progress: progress)
    }

    /// The isolation assertions, kind `isolation` (see `SandboxBackend.assertIsolation`).
    public func assertIsolation() async -> [CheckResult] { await backend.assertIsolation(self) }
}

/// A sandbox failure: provisioning, readiness, isolation or teardown.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable { case imageMissing, notReady, exited, isolation, teardown, notFound, spec, exec }
        let base: Base
        /// A service's image is not on the engine (build it with scripts/build-images.sh, or pull it).
        public static let imageMissing = Code(base: .imageMissing)
        /// A service did not become ready in time.
        public static let notReady = Code(base: .notReady)
        /// A service's container exited (or was OOM-killed) while starting.
        public static let exited = Code(base: .exited)
        /// An isolation assertion failed.
        public static let isolation = Code(base: .isolation)
        /// Teardown could not remove something.
        public static let teardown = Code(base: .teardown)
        /// No such project or service.
        public static let notFound = Code(base: .notFound)
        /// The stack file was refused.
        public static let spec = Code(base: .spec)
        /// A command in a service could not be run or fed.
        public static let exec = Code(base: .exec)
        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
