public import Common
public import Foundation
public import Logging

/// What stands behind a sandbox: the one seam between the layers that use sandboxes (Drill, Backup,
/// Fixture, the commands) and the engine that runs them (docs/DESIGN.md §3). The Docker engine
/// (`DockerSandboxBackend`, which also serves Podman's Docker-compatible API) is the first implementation;
/// a Swarm backend and, on paper, a Kubernetes one map onto the same calls.
///
/// Every implementation keeps the sandbox contract: each resource it creates carries the project's labels,
/// lists and teardown find resources by label alone, nothing without our label is ever removed, and the
/// isolation assertions mean the same on every backend.
public protocol SandboxBackend: Sendable {
    /// Which engine answers, for reports (`version` and `api` may be nil when it does not say).
    func describeEngine() async -> EngineDescription

    /// Where the engine is, as a person would name it (`unix:///var/run/docker.sock`).
    var engineAddress: String { get }

    /// Whether `error` means the engine stopped answering (its socket gone or refusing, a connection cut),
    /// rather than the engine refusing a request: a drill then names the engine as its cause.
    func isEngineLoss(_ error: any Error) -> Bool

    /// Whether a process on this host may connect to a service's sandbox address (the engine runs on this
    /// machine): bulk reads then skip the exec relay. False for a remote engine.
    var hostReachesServiceAddresses: Bool { get }

    /// Creates the project's network and services from `spec` (each ready before its dependents start);
    /// on any failure, cancellation included, everything created is torn down before the error is rethrown.
    /// `holdBack` names services not started yet (`start(_:in:from:progress:)` starts them later).
    func provision(_ spec: StackSpec, project: SandboxProject, options: SandboxOptions, holdBack: Set<String>,
                   logger: Logger, progress: ProgressHandler?) async throws -> Sandbox

    /// Finds a live project's services again (for `exec`, `run-in`, `verify-chain` on a kept project).
    func attach(project: String, networkName: String?, logger: Logger) async throws -> Sandbox

    /// Starts services held back at provisioning (their dependencies already run).
    func start(_ names: Set<String>, in sandbox: Sandbox, from spec: StackSpec, progress: ProgressHandler?) async throws

    /// Runs `command` in `service` and collects its output; `stdin` is streamed to it when given. A command
    /// that stops reading early closes its stdin; that is not an error.
    func run(_ command: [String], in service: Sandbox.Service, env: [String], stdin: (any ExecInput)?) async throws -> CommandResult

    /// Runs `command` in `service`, streaming `stdin` to it when given and handing its output to `output` as
    /// it arrives; returns its exit code.
    func stream(_ command: [String], in service: Sandbox.Service, env: [String], stdin: (any ExecInput)?,
                output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int

    /// Copies host files into `service` as `directory/<name>` (the folder is created, mode 0755; files 0644).
    func copy(_ files: [(name: String, hostPath: String)], into service: Sandbox.Service, directory: String) async throws

    /// The service's container state right now.
    func state(of service: Sandbox.Service) async throws -> ServiceState

    /// Runs a one-off job container on the sandbox network, hardened and labelled like the services and
    /// vetted by the isolation rules before it starts, removed afterwards; returns its exit code and the
    /// image it ran. An image the engine lacks is `SandboxError(.imageMissing)`: nothing is pulled.
    func runJob(image: String, command: [String], environment: [String], user: String?, in sandbox: Sandbox,
                output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> JobOutcome

    /// The six isolation assertions (docs/DESIGN.md §3), probed from inside the sandbox; kind `isolation`.
    func assertIsolation(_ sandbox: Sandbox) async -> [CheckResult]

    /// Removes everything labelled with `project`, from the engine's state alone; idempotent.
    func teardown(project: String, logger: Logger) async throws -> TeardownReport

    /// Every project of ours on this engine, found by label.
    func projects() async throws -> [ProjectSummary]

    /// Removes expired projects (every project of ours with `all`); returns what was (or would be) removed.
    func gc(all: Bool, dryRun: Bool, now: Date, logger: Logger) async throws -> [ProjectSummary]

    /// How many machines a sandbox's Postgres instances can be spread over: a drill restores its set on
    /// that many instances at once (1: one engine, one host).
    func placementSlots() async -> Int
}

extension SandboxBackend {
    public func placementSlots() async -> Int { 1 }

    /// `gc` from `projects()` and `teardown(project:logger:)`: the expired projects and orphans (every one
    /// with `all`) are torn down one by one, each tried; the first failure is thrown after the rest.
    public func collect(all: Bool, dryRun: Bool, now: Date, logger: Logger) async throws -> [ProjectSummary] {
        let doomed = try await projects().filter { all || $0.collectReason(now: now) != nil }
        guard !dryRun else { return doomed }
        var firstError: (any Error)?
        for project in doomed {
            do { _ = try await teardown(project: project.name, logger: logger) } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return doomed
    }

    /// `gc` before a run: expired projects and orphans go; a failure to remove one is logged, never a
    /// reason to fail the run. Returns what was removed (a drill names it in its report).
    @discardableResult
    public func collectBeforeRun(logger: Logger) async -> [ProjectSummary] {
        do { return try await gc(all: false, dryRun: false, now: Date(), logger: logger) } catch {
            logger.warning("gc of expired projects failed; continuing", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// `provision`, run `body`, and tear down whatever happens (success, error, cancellation), unless
    /// `keep` is set. The library form of a sandbox's lifetime.
    public func withSandbox<T: Sendable>(
        _ spec: StackSpec, project: SandboxProject, options: SandboxOptions = SandboxOptions(), keep: Bool = false,
        logger: Logger, progress: ProgressHandler? = nil, _ body: (Sandbox) async throws -> T
    ) async throws -> T {
        let sandbox = try await provision(spec, project: project, options: options, holdBack: [], logger: logger, progress: progress)
        do {
            let result = try await body(sandbox)
            if !keep { try await sandbox.teardown() }
            return result
        } catch {
            if !keep { _ = try? await sandbox.teardown() }
            throw error
        }
    }
}

/// Which engine stands behind a backend.
public struct EngineDescription: Sendable, Equatable {
    /// e.g. `28.2.2 (linux/amd64)`.
    public var version: String?
    /// The API version spoken, e.g. `1.41`.
    public var api: String?

    public init(version: String?, api: String?) {
        self.version = version
        self.api = api
    }
}

/// Bytes streamed into a command's stdin, pulled as the command reads.
public protocol ExecInput: Sendable {
    /// Fills `buffer` from the front; returns how many bytes were written, 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Which of a command's outputs a chunk came from.
public enum OutputChannel: Sendable { case stdout, stderr }

/// A service's container, as the engine reports it.
public struct ServiceState: Sendable, Equatable {
    public var running: Bool
    /// The engine's own word: `running`, `exited`, …
    public var status: String
    /// The healthcheck's status (`healthy`, `starting`, `unhealthy`), nil when the service has none.
    public var health: String?

    public init(running: Bool, status: String, health: String?) {
        self.running = running
        self.status = status
        self.health = health
    }
}

/// Reads a file descriptor (a pipe from a decryptor) as a command's stdin.
public struct FileDescriptorInput: ExecInput {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw SandboxError(code: .exec, message: "reading stdin: errno \(errno)") }
        }
    }
}
