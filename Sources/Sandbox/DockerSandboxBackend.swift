public import Common
public import DockerEngine
import CurlHTTP
public import Foundation
public import Logging
import Synchronization

/// The sandbox backend on a Docker engine (dockerd, or Podman's Docker-compatible API): one engine, one
/// host. Networks, containers and volumes are created, found and removed through the Engine API by label;
/// the engine-specific work lives in the `Sandbox+…` files of this module.
public struct DockerSandboxBackend: SandboxBackend {
    public let client: DockerClient

    public init(client: DockerClient) { self.client = client }

    public func describeEngine() async -> EngineDescription {
        guard let v = try? await client.version() else { return EngineDescription(version: nil, api: "\(client.apiVersion)") }
        return EngineDescription(version: "\(v.version) (\(v.os ?? "?")/\(v.arch ?? "?"))", api: "\(client.apiVersion)")
    }

    public var engineAddress: String { client.host.endpoint.description }

    public func isEngineLoss(_ error: any Error) -> Bool {
        var e: (any Error)? = error
        while let current = e {
            if let d = current as? DockerError, d.code == .transport {
                // A connect that failed, or a connection cut mid-call; not a body over its size limit.
                guard let c = d.underlying as? CurlError else { return true }
                return c.code == .couldNotConnect || c.code == .other
            }
            e = (current as? SandboxError)?.underlying ?? (current as? DockerError)?.underlying
            if e is CancellationError { return false }
        }
        return false
    }

    /// Only an engine on a unix socket runs on this machine; a TCP engine may be anywhere.
    public var hostReachesServiceAddresses: Bool {
        if case .unixSocket = client.host.endpoint.kind { return true }
        return false
    }

    public func provision(_ spec: StackSpec, project: SandboxProject, options: SandboxOptions, holdBack: Set<String>,
                          logger: Logger, progress: ProgressHandler?) async throws -> Sandbox {
        try await Sandbox.provision(spec, project: project, client: client, options: options, holdBack: holdBack, logger: logger, progress: progress)
    }

    public func attach(project: String, networkName: String?, logger: Logger) async throws -> Sandbox {
        try await Sandbox.attach(project: project, networkName: networkName, client: client, logger: logger)
    }

    public func start(_ names: Set<String>, in sandbox: Sandbox, from spec: StackSpec, progress: ProgressHandler?) async throws {
        try await sandbox.startOnDocker(names, from: spec, progress: progress)
    }

    public func run(_ command: [String], in service: Sandbox.Service, env: [String], stdin: (any ExecInput)?) async throws -> CommandResult {
        try await client.execCollect(service.containerID, command, env: env.isEmpty ? nil : env, stdin: stdin.map(InputBody.init))
    }

    public func stream(_ command: [String], in service: Sandbox.Service, env: [String], stdin: (any ExecInput)?,
                       output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        let spec = ExecCreate(cmd: command, env: env.isEmpty ? nil : env)
        return try await client.exec(service.containerID, spec, stdin: stdin.map(InputBody.init)) { stream, bytes in
            try output(stream == .stderr ? .stderr : .stdout, bytes)
        }
    }

    public func copy(_ files: [(name: String, hostPath: String)], into service: Sandbox.Service, directory: String) async throws {
        let folder = (directory as NSString).lastPathComponent
        let parent = (directory as NSString).deletingLastPathComponent
        let tar = try TarStream(entries: [TarEntry(name: folder, content: .directory, mode: 0o755)]
            + files.map { TarEntry(name: "\(folder)/\($0.name)", content: .file(path: $0.hostPath), mode: 0o644) })
        try await client.putArchive(service.containerID, path: parent.isEmpty ? "/" : parent, tar: tar)
    }

    public func state(of service: Sandbox.Service) async throws -> ServiceState {
        let inspect = try await client.inspectContainer(service.containerID)
        // Podman answers {"Status": ""} for a container without a healthcheck: that is "none", not "starting".
        var health = inspect.state.health?.status
        if health?.isEmpty == true { health = nil }
        // Podman runs healthchecks from systemd timers, so without systemd one stays "starting": its test is
        // run here, once, as the engine would run it.
        if client.libpodVersion != nil, inspect.state.running, health == "starting",
           let test = inspect.config?.healthcheck?.test, let command = Sandbox.healthCommand(test) {
            health = try await client.execCollect(service.containerID, command).exitCode == 0 ? "healthy" : "unhealthy"
        }
        return ServiceState(running: inspect.state.running, status: inspect.state.status, health: health)
    }

    public func runJob(image: String, command: [String], environment: [String], user: String?, in sandbox: Sandbox,
                       output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> JobOutcome {
        try await sandbox.runOneOff(image: image, command: command, environment: environment, user: user) { stream, bytes in
            try output(stream == .stderr ? .stderr : .stdout, bytes)
        }
    }

    public func assertIsolation(_ sandbox: Sandbox) async -> [CheckResult] {
        await sandbox.isolationOnDocker().map { r in
            var r = r
            r.kind = .isolation
            return r
        }
    }

    public func teardown(project: String, logger: Logger) async throws -> TeardownReport {
        try await Sandbox.teardown(project: project, client: client, logger: logger)
    }

    public func projects() async throws -> [ProjectSummary] { try await Reaper.projects(client: client) }

    public func gc(all: Bool, dryRun: Bool, now: Date, logger: Logger) async throws -> [ProjectSummary] {
        try await Reaper.gc(client: client, all: all, dryRun: dryRun, now: now, logger: logger)
    }
}

/// A command's stdin as the request body of a hijacked exec connection.
struct InputBody: HTTPBodySource {
    let input: any ExecInput
    init(_ input: any ExecInput) { self.input = input }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try input.read(into: buffer) }
}
