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
    /// The node to run on (a service's, for a probe beside it); anywhere when nil.
    var nodeID: String?
    /// What the job is for, in its name (`run`, `probe`).
    var purpose = "run"
}

extension SwarmSandboxBackend {
    /// Runs `command` beside `service` as a job of the service's image, on its node and on the internal
    /// network alone (where the service itself stands): the isolation probes, measured from the server's
    /// own network position, not from its workspace.
    func runBeside(_ service: Sandbox.Service, command: [String], env: [String],
                   output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        let project = try await projectOf(service)
        let job = SwarmJob(image: service.image, command: command, environment: env, user: nil, nodeID: service.nodeID, purpose: "probe")
        return try await self.job(job, in: project, options: SandboxOptions()) { stream, bytes in
            try output(stream == .stderr ? .stderr : .stdout, bytes)
        }.exitCode
    }

    /// `runBeside`, its output collected.
    func runBesideCollect(_ service: Sandbox.Service, command: [String], env: [String] = []) async throws -> CommandResult {
        let out = OutputCollector()
        let code = try await runBeside(service, command: command, env: env) { out.append($0, $1) }
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
        var serviceID: String?
        func cleanUp() async {
            guard let service = serviceID else { return }
            _ = await Task.detached { try? await client.removeService(service) }.value
        }
        do {
            var container = ServiceCreate.ContainerSpec(image: job.image)
            container.labels = labels
            container.env = job.environment
            container.user = job.user
            container.dnsConfig = Self.sandboxDNS
            container.capabilityDrop = ["ALL"]
            container.stopGracePeriod = Self.stopGrace
            container.initProcess = true
            container.mounts = (imageInfo.config?.volumes ?? [:]).keys.sorted().map { .init(tmpfs: $0, sizeBytes: nil) }
            if !job.command.isEmpty { container.args = job.command }
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
                group.addTask { try await self.waitFinished(id) }
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
    private func waitFinished(_ serviceID: String) async throws -> SwarmTask {
        var delay = Duration.milliseconds(50)
        while true {
            try Task.checkCancellation()
            if let task = try await client.listTasks(filters: ["service": [serviceID]]).first(where: \.isFinal) { return task }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(250))
        }
    }
}
