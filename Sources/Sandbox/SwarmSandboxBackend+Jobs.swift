import Common
import DockerEngine
import Foundation

/// A one-off job on a swarm: a service of one replica that is never restarted, so that it runs to
/// completion once. Not a `replicated-job` service, though API 1.41 has them: removing one leaves its
/// completed task in the manager's store and its container on its node for good (moby/moby#42789, #44312),
/// which would leave a labelled container behind on every node that ran a job.
struct SwarmJob: Sendable {
    var image: String
    var command: [String]
    var environment: [String]
    var user: String?
    /// The node to run on (a service's, for a command beside it); anywhere when nil.
    var nodeID: String?
    /// Fed to the command's stdin, through a swarm config (so at most `stdinLimit` bytes).
    var stdin: [UInt8]?
    /// What the job is for, in its name (`run`, `exec`, `probe`).
    var purpose = "run"

    init(image: String, command: [String], environment: [String], user: String?, nodeID: String? = nil, stdin: [UInt8]? = nil, purpose: String = "run") {
        self.image = image
        self.command = command
        self.environment = environment
        self.user = user
        self.nodeID = nodeID
        self.stdin = stdin
        self.purpose = purpose
    }

    /// A swarm config holds at most 500 KB.
    static let stdinLimit = 500 * 1024
    /// Where the stdin config is mounted in the job.
    static let stdinPath = "/run/acp-drill-stdin"
}

extension SwarmSandboxBackend {
    /// Runs `command` beside `service`: a job of the service's image on the service's node and network,
    /// with the service's connection settings (a Postgres service's `PGHOST` is its name on the network:
    /// the job is another container, so `127.0.0.1` would be the job itself). Stdin is read whole first
    /// and handed over as a config; more than 500 KB is refused, named.
    func runBeside(_ service: Sandbox.Service, command: [String], env: [String], stdin: (any ExecInput)?,
                   output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        let project = try await projectOf(service)
        var input: [UInt8]?
        if let stdin {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try stdin.read(into: $0) }
                if n == 0 { break }
                bytes += buffer[..<n]
                if bytes.count > SwarmJob.stdinLimit {
                    throw SandboxError(code: .exec, message: "stdin for \(command.first ?? "the command") in \(service.name) is over \(SwarmJob.stdinLimit / 1024) KB: on a swarm a command's input travels as a config, and a config holds at most 500 KB")
                }
            }
            input = bytes
        }
        var environment = env.map { e -> String in
            e == "PGHOST=127.0.0.1" || e == "PGHOST=localhost" ? "PGHOST=\(service.name)" : e
        }
        if service.role == .postgres, !environment.contains(where: { $0.hasPrefix("PGHOST=") }) { environment.append("PGHOST=\(service.name)") }
        let job = SwarmJob(image: service.image, command: command, environment: environment, user: nil, nodeID: service.nodeID, stdin: input, purpose: "exec")
        return try await self.job(job, in: project, options: SandboxOptions()) { stream, bytes in
            try output(stream == .stderr ? .stderr : .stdout, bytes)
        }.exitCode
    }

    /// `runBeside`, its output collected.
    func runBesideCollect(_ service: Sandbox.Service, command: [String], env: [String] = []) async throws -> CommandResult {
        let out = OutputCollector()
        let code = try await runBeside(service, command: command, env: env, stdin: nil) { out.append($0, $1) }
        return out.result(exitCode: code)
    }

    /// The project a service belongs to, from its labels.
    func projectOf(_ service: Sandbox.Service) async throws -> SandboxProject {
        let found = try await client.listServices(filters: ["id": [service.containerID]]).first { $0.id == service.containerID }
        guard let labels = found?.spec.labels, let name = labels[SandboxProject.Label.project] else {
            throw SandboxError(code: .notFound, message: "service \(service.name) is gone from the swarm")
        }
        let network = found?.spec.taskTemplate.networks?.first?.target
        let expires = labels[SandboxProject.Label.expiresAt].flatMap(SandboxProject.parseRFC3339) ?? Date()
        var project = SandboxProject(name: name, kind: SandboxProject.Kind(rawValue: labels[SandboxProject.Label.kind] ?? "") ?? .env, expiresAt: expires)
        if let network, network != project.networkName { project.networkNameOverride = network }
        project.owner = labels[SandboxProject.Label.owner].flatMap(ProjectOwner.init(label:))
        return project
    }

    /// Runs a job service on the project's network, hardened and labelled like the services, its output
    /// followed as it comes (and read back once it ended), and removes it (also when cancelled). Its exit
    /// code is its task's container's. An image not on the manager is `.imageMissing` (nothing is pulled).
    func job(_ job: SwarmJob, in project: SandboxProject, options: SandboxOptions,
             onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void) async throws -> JobOutcome {
        let imageInfo: ImageInspect
        do { imageInfo = try await client.inspectImage(job.image) } catch let e as DockerError where e.code == .notFound {
            throw SandboxError(code: .imageMissing, message: "image \(job.image) is not on the swarm's manager (nothing is pulled: load it on every node, e.g. scripts/swarm.sh)", underlying: e)
        }
        let suffix = String(UUID().uuidString.lowercased().prefix(6))
        let name = Self.serviceName(project, "\(job.purpose)-\(suffix)")
        var labels = project.containerLabels(service: job.purpose, role: .app)
        labels[SandboxProject.Label.composeOneoff] = "True"
        labels[SandboxProject.Label.helper] = "job"
        let client = self.client
        var configID: String?
        var serviceID: String?
        func cleanUp() async {
            let (service, config) = (serviceID, configID)
            _ = try? await Task.detached {
                if let service { try? await client.removeService(service) }
                if let config { try await Self.removeConfig(config, client: client) }
            }.value
        }
        do {
            var container = ServiceCreate.ContainerSpec(image: job.image)
            container.labels = labels
            container.env = job.environment
            container.user = job.user
            container.dnsConfig = SwarmSandboxBackend.sandboxDNS
            container.capabilityDrop = ["ALL"]
            container.stopGracePeriod = SwarmSandboxBackend.stopGrace
            container.initProcess = true
            container.mounts = (imageInfo.config?.volumes ?? [:]).keys.sorted().map { .init(tmpfs: $0, sizeBytes: nil) }
            if let stdin = job.stdin {
                let id = try await client.createConfig(name: "\(name)-stdin", labels: project.labels, data: stdin)
                configID = id
                container.configs = [.init(id: id, name: "\(name)-stdin", path: SwarmJob.stdinPath, mode: 0o444)]
                container.command = ["sh", "-c", #"exec "$@" < "#+SwarmJob.stdinPath, "sh"]
                container.args = job.command
            } else if !job.command.isEmpty {
                container.args = job.command
            }
            let spec = ServiceCreate(
                name: name, labels: labels,
                taskTemplate: .init(containerSpec: container,
                                    resources: .init(limits: .init(memoryBytes: options.defaultMemory, pids: options.pidsLimit)),
                                    restartPolicy: .init(condition: "none"),
                                    placement: job.nodeID.map { .init(constraints: ["node.id==\($0)"]) },
                                    networks: [.init(target: project.networkName)]),
                mode: .replicated(1), endpointSpec: .init(mode: "dnsrr"))
            let id = try await client.createService(spec)
            serviceID = id
            let delivery = LogDelivery(onOutput)
            let task: SwarmTask = try await withThrowingTaskGroup(of: SwarmTask?.self) { group in
                // A service's followed log does not end with its task: it is cut once the task has ended.
                group.addTask {
                    try? await client.serviceLogs(id, follow: true) { try delivery.followed($0, $1) }
                    return nil
                }
                group.addTask { try await self.waitFinished(id, name: name) }
                while let next = try await group.next() {
                    if let task = next {
                        group.cancelAll()
                        return task
                    }
                }
                throw CancellationError()
            }
            try await client.serviceLogs(id) { try delivery.reread($0, $1) }
            await cleanUp()
            if task.status?.state == "rejected" {
                let err = task.status?.err ?? "rejected"
                throw SandboxError(code: err.contains("No such image") ? .imageMissing : .exec, message: "job \(name) was rejected by its node: \(err)")
            }
            let code = task.status?.state == "complete" ? 0 : task.status?.containerStatus?.exitCode ?? 1
            return JobOutcome(exitCode: code, imageID: imageInfo.id)
        } catch {
            await cleanUp()
            throw error
        }
    }

    /// Polls the job's task until it has ended.
    private func waitFinished(_ serviceID: String, name: String) async throws -> SwarmTask {
        var delay = Duration.milliseconds(50)
        while true {
            try Task.checkCancellation()
            if let task = try await client.listTasks(filters: ["service": [serviceID]]).first(where: \.isFinal) { return task }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(250))
        }
    }

    /// Removes a config, retried while a task that used it is still being removed.
    static func removeConfig(_ id: String, client: DockerClient) async throws {
        for attempt in 0 ..< 50 {
            do { try await client.removeConfig(id); return } catch let e as DockerError where e.isNotFound {
                return
            } catch let e as DockerError where attempt < 49 && (e.isConflict || e.code == .badRequest || e.message.contains("in use")) {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
