public import DockerEngine
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
    }

    public let project: SandboxProject
    public let client: DockerClient
    let logger: Logger
    let options: SandboxOptions
    private let state = Mutex<[Service]>([])

    init(project: SandboxProject, client: DockerClient, options: SandboxOptions, logger: Logger) {
        self.project = project
        self.client = client
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
    public static func attach(project name: String, client: DockerClient, logger: Logger) async throws -> Sandbox {
        let containers = try await client.listContainers(filters: .label(SandboxProject.Label.project, name))
        guard let first = containers.first else {
            throw SandboxError(code: .notFound, message: "no sandbox project \(name) on this engine (acp-drill ls lists them)")
        }
        let labels = first.labels ?? [:]
        let kind = SandboxProject.Kind(rawValue: labels[SandboxProject.Label.kind] ?? "") ?? .env
        let expires = labels[SandboxProject.Label.expiresAt].flatMap(SandboxProject.parseRFC3339) ?? Date()
        let sandbox = Sandbox(project: SandboxProject(name: name, kind: kind, expiresAt: expires), client: client,
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

    /// Removes everything of this project (see `Sandbox.teardown(project:client:logger:)`). Safe to call
    /// twice; runs even when the calling task was cancelled (SIGINT), because teardown must not be skipped.
    @discardableResult
    public func teardown() async throws -> TeardownReport {
        let name = project.name
        let client = self.client
        let logger = self.logger
        return try await Task.detached {
            try await Sandbox.teardown(project: name, client: client, logger: logger)
        }.value
    }
}

/// A sandbox failure: provisioning, readiness, isolation or teardown.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable { case imageMissing, notReady, exited, isolation, teardown, notFound, spec }
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
