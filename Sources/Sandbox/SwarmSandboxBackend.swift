public import Common
public import DockerEngine
import CurlHTTP
public import Foundation
public import Logging

/// The sandbox backend on a Docker Swarm, reached through one manager (docs/SWARM.md). A sandbox is a set
/// of services on an `--internal` overlay network, spread over the ready nodes; every data mount is a
/// tmpfs (no volumes: a worker's volumes cannot be removed through the manager). A manager cannot exec into
/// a task on another node, so commands "in" a service run in its workspace (a task beside it whose agent
/// calls this process back through `RelayServer`), and one-off jobs are one-replica services. Services,
/// task containers and networks carry the project's labels; teardown removes them through the manager and
/// waits until it lists no task of the project.
public struct SwarmSandboxBackend: SandboxBackend {
    /// The manager.
    public let client: DockerClient

    public init(client: DockerClient) { self.client = client }

    /// How long a task may take to stop at teardown before it is killed: its data is thrown away, and
    /// teardown waits for every task to be gone (the default is 10 s).
    static let stopGrace: Int64 = 2_000_000_000

    /// Every task's DNS: the embedded server answers the project's names and forwards nothing (its upstream
    /// is the task's own loopback, as on one engine). On an overlay, a name it does not know gets no answer
    /// at all, so the resolver's wait is cut to one second and one try (glibc's default is 5 s × 2 tries
    /// per address family: 20 s for every unknown name an app looks up).
    static let sandboxDNS = ServiceCreate.DNSConfig(nameservers: SandboxOptions.sandboxDNS, options: ["timeout:1", "attempts:1"])

    /// Whether `client`'s engine is a manager of an active swarm (`GET /info`).
    public static func isManager(_ client: DockerClient) async throws -> Bool {
        try await client.info().swarm?.isManager == true
    }

    public func describeEngine() async -> EngineDescription {
        guard let v = try? await client.version() else { return EngineDescription(version: nil, api: "\(client.apiVersion)") }
        let nodes = (try? await client.listNodes()).map { n in " swarm of \(n.count) node(s), \(n.filter(\.isSchedulable).count) ready" } ?? " swarm"
        return EngineDescription(version: "\(v.version) (\(v.os ?? "?")/\(v.arch ?? "?")),\(nodes)", api: "\(client.apiVersion)")
    }

    public var engineAddress: String { client.host.endpoint.description }

    public func isEngineLoss(_ error: any Error) -> Bool { DockerSandboxBackend(client: client).isEngineLoss(error) }

    /// The host never reaches an overlay network: every read goes through a workspace on it.
    public var hostReachesServiceAddresses: Bool { false }

    public func provision(_ spec: StackSpec, project: SandboxProject, options: SandboxOptions, holdBack: Set<String>,
                          logger: Logger, progress: ProgressHandler?) async throws -> Sandbox {
        let sandbox = Sandbox(project: project, client: client, options: options, logger: logger, backend: self)
        do {
            try await build(spec, in: sandbox, holdBack: holdBack, progress: progress)
        } catch {
            logger.warning("provisioning failed, tearing down", metadata: ["error": "\(error)"])
            _ = try? await sandbox.teardown()
            throw error
        }
        return sandbox
    }

    public func attach(project: String, networkName: String?, logger: Logger) async throws -> Sandbox {
        try await attachOnSwarm(project: project, networkName: networkName, logger: logger)
    }

    public func start(_ names: Set<String>, in sandbox: Sandbox, from spec: StackSpec, progress: ProgressHandler?) async throws {
        let order = try spec.startOrder()
        let nodes = try await placement(for: order)
        try await startLevels(order.filter { names.contains($0.name) }, in: sandbox, nodes: nodes, progress: progress)
    }

    public func run(_ command: [String], in service: Sandbox.Service, env: [String], stdin: (any ExecInput)?) async throws -> CommandResult {
        let out = OutputCollector()
        let code = try await stream(command, in: service, env: env, stdin: stdin) { channel, bytes in out.append(channel, bytes) }
        return out.result(exitCode: code)
    }

    public func stream(_ command: [String], in service: Sandbox.Service, env: [String], stdin: (any ExecInput)?,
                       output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        try await runInWorkspace(service, command: command, env: env, stdin: stdin, output: output)
    }

    /// Into the service's workspace (where its commands run), as a tar stream through the relay.
    public func copy(_ files: [(name: String, hostPath: String)], into service: Sandbox.Service, directory: String) async throws {
        let folder = (directory as NSString).lastPathComponent
        let parent = (directory as NSString).deletingLastPathComponent
        let tar = try TarStream(entries: [TarEntry(name: folder, content: .directory, mode: 0o755)]
            + files.map { TarEntry(name: "\(folder)/\($0.name)", content: .file(path: $0.hostPath), mode: 0o644) })
        let r = try await run(["tar", "-x", "-m", "--no-same-owner", "-C", parent.isEmpty ? "/" : parent, "-f", "-"], in: service, env: [], stdin: TarInput(tar))
        guard r.exitCode == 0 else { throw SandboxError(code: .exec, message: "copying into \(service.name)'s workspace: \(r.stderrText)") }
    }

    public func state(of service: Sandbox.Service) async throws -> ServiceState {
        let tasks = try await client.listTasks(filters: ["service": [service.containerID]])
        guard let task = tasks.first(where: { $0.desiredState == "running" }) ?? tasks.first else {
            return ServiceState(running: false, status: "no task", health: nil)
        }
        let state = task.status?.state ?? "?"
        // A task is `running` only once its health check passed (`starting` until then).
        return ServiceState(running: state == "running", status: state, health: state == "running" ? "healthy" : state == "starting" ? "starting" : nil)
    }

    public func runJob(image: String, command: [String], environment: [String], user: String?, in sandbox: Sandbox,
                       output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> JobOutcome {
        try await job(SwarmJob(image: image, command: command, environment: environment, user: user), in: sandbox.project,
                      options: sandbox.options) { stream, bytes in try output(stream == .stderr ? .stderr : .stdout, bytes) }
    }

    public func assertIsolation(_ sandbox: Sandbox) async -> [CheckResult] {
        await isolationOnSwarm(sandbox).map { r in
            var r = r
            r.kind = .isolation
            return r
        }
    }

    public func teardown(project: String, logger: Logger) async throws -> TeardownReport {
        try await teardownOnSwarm(project: project, logger: logger)
    }

    public func projects() async throws -> [ProjectSummary] { try await projectsOnSwarm() }

    /// The ready, active nodes.
    public func placementSlots() async -> Int { max(1, (try? await client.listNodes().filter(\.isSchedulable).count) ?? 1) }

    public func gc(all: Bool, dryRun: Bool, now: Date, logger: Logger) async throws -> [ProjectSummary] {
        try await collect(all: all, dryRun: dryRun, now: now, logger: logger)
    }
}

/// A tar stream as a command's stdin.
struct TarInput: ExecInput {
    let tar: TarStream
    init(_ tar: TarStream) { self.tar = tar }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try tar.read(into: buffer) }
}

/// A command's output, collected per channel.
final class OutputCollector: Sendable {
    private let bytes = Mutex<(out: [UInt8], err: [UInt8])>(([], []))
    func append(_ channel: OutputChannel, _ chunk: UnsafeRawBufferPointer) {
        bytes.withLock { channel == .stderr ? $0.err.append(contentsOf: chunk) : $0.out.append(contentsOf: chunk) }
    }
    func result(exitCode: Int) -> CommandResult {
        bytes.withLock { CommandResult(exitCode: exitCode, stdout: $0.out, stderr: $0.err) }
    }
}

import Synchronization
