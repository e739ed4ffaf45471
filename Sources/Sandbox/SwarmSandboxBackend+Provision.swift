import DockerEngine
import Foundation
import Logging

extension SwarmSandboxBackend {
    /// The swarm name of a project's service: service names are swarm-wide, so they carry the project's.
    /// A swarm takes at most 63 characters: a longer name keeps its start and ends in a hash of the whole.
    static func serviceName(_ project: SandboxProject, _ service: String) -> String {
        let full = "\(project.name)_\(service)"
        guard full.count > 63 else { return full }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in full.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        let tag = String(String(hash, radix: 36).prefix(8))
        return String(full.prefix(63 - tag.count - 1)) + "-" + tag
    }

    /// Creates the overlay network, then the services level by level (each ready before its dependents).
    func build(_ spec: StackSpec, in sandbox: Sandbox, holdBack: Set<String>, progress: ProgressHandler?) async throws {
        let project = sandbox.project
        let order = try spec.startOrder()
        let nodes = try await placement(for: order)
        progress?("network \(project.networkName) (overlay, internal)")
        var netLabels = project.labels
        netLabels[SandboxProject.Label.composeNetwork] = "net"
        try await client.createNetwork(NetworkCreate(name: project.networkName, driver: "overlay", internal: true, attachable: false, labels: netLabels))
        try await startLevels(order.filter { !holdBack.contains($0.name) }, in: sandbox, nodes: nodes, progress: progress)
    }

    /// Which node runs each service: Postgres services first, spread over the ready nodes (workers before
    /// managers, so that a manager's own work competes with as little as possible), then the others.
    func placement(for order: [ServiceSpec]) async throws -> [String: SwarmNode] {
        let ready = try await client.listNodes().filter(\.isSchedulable)
            .sorted { a, b in
                let am = a.spec?.role == "manager", bm = b.spec?.role == "manager"
                return am != bm ? !am : (a.description?.hostname ?? a.id, a.id) < (b.description?.hostname ?? b.id, b.id)
            }
        guard !ready.isEmpty else {
            throw SandboxError(code: .notReady, message: "the swarm has no ready, active node to run the sandbox on (docker node ls)")
        }
        var placed: [String: SwarmNode] = [:]
        let ranked = order.filter { $0.role == .postgres } + order.filter { $0.role != .postgres }
        for (i, service) in ranked.enumerated() { placed[service.name] = ready[i % ready.count] }
        return placed
    }

    /// Starts `order`'s services by dependency level, each level's at once.
    func startLevels(_ order: [ServiceSpec], in sandbox: Sandbox, nodes: [String: SwarmNode], progress: ProgressHandler?) async throws {
        var images: [String: ImageInspect] = [:]
        for service in order where images[service.image] == nil {
            do { images[service.image] = try await client.inspectImage(service.image) } catch let e as DockerError where e.isNotFound {
                throw SandboxError(code: .imageMissing,
                    message: "image \(service.image) (service \(service.name)) is not on the manager: load it on every node (scripts/swarm.sh copies the offline images); nothing is pulled")
            }
        }
        for level in Sandbox.levels(order) {
            try Task.checkCancellation()
            try await withThrowingTaskGroup(of: Sandbox.Service.self) { group in
                for service in level {
                    let image = images[service.image]!
                    let node = nodes[service.name]!
                    group.addTask {
                        progress?("service \(service.name) (\(service.image)) on node \(node.description?.hostname ?? node.id)")
                        var running = try await self.createService(service, image: image, node: node, in: sandbox)
                        let task = try await self.waitRunning(running, options: sandbox.options)
                        running.address = task.address(on: sandbox.project.networkName)
                        progress?("service \(service.name) ready")
                        return running
                    }
                }
                var ready: [Sandbox.Service] = []
                for try await service in group { ready.append(service) }
                for service in level { if let s = ready.first(where: { $0.name == service.name }) { sandbox.record(s) } }
            }
        }
    }

    private func createService(_ service: ServiceSpec, image: ImageInspect, node: SwarmNode, in sandbox: Sandbox) async throws -> Sandbox.Service {
        let project = sandbox.project
        let options = sandbox.options
        let name = Self.serviceName(project, service.name)
        var env = service.environment
        var pgUser: String?, pgPassword: String?, pgDatabase: String?
        var command = service.command
        var healthcheck = service.healthcheck.map {
            Healthcheck(test: $0.test, interval: $0.interval, timeout: $0.timeout, retries: $0.retries, startPeriod: $0.startPeriod)
        }
        switch service.role {
        case .postgres:
            pgUser = service.env("POSTGRES_USER") ?? "postgres"
            if let given = service.env("POSTGRES_PASSWORD"), !given.isEmpty {
                pgPassword = given
            } else {
                let generated = Sandbox.randomPassword()
                env.append(("POSTGRES_PASSWORD", generated))
                pgPassword = generated
            }
            pgDatabase = service.env("POSTGRES_DB") ?? pgUser
            if !options.durable {
                let base = command ?? ["postgres"]
                if base.first == "postgres" { command = base + SandboxOptions.throwAwayPostgresSettings.flatMap { ["-c", $0] } }
            }
            // Ready means a query answers over TCP: the image's init answers on the unix socket only. A task
            // is `running` only once this passes, so the manager's task state is the readiness.
            healthcheck = Self.readiness(#"PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=2 psql -h 127.0.0.1 -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" -Atqc 'select 1' | grep -qx 1"#, options)
        case .redis:
            if healthcheck == nil { healthcheck = Self.readiness("redis-cli ping | grep -qx PONG", options) }
        case .app:
            break
        }
        let labels = project.containerLabels(service: service.name, role: service.role).merging(service.labels) { ours, _ in ours }
        // No volumes: every data path (the image's VOLUMEs included) is a tmpfs of the task, gone with it.
        var paths = service.volumes
        for path in (image.config?.volumes ?? [:]).keys.sorted() where !paths.contains(path) { paths.append(path) }
        var mounts: [ServiceCreate.ServiceMount] = []
        for entry in service.tmpfs {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            let size = parts.count > 1 ? Self.tmpfsSize(parts[1]) : nil
            mounts.append(.init(tmpfs: parts[0], sizeBytes: size))
        }
        for path in paths where !mounts.contains(where: { $0.target == path }) { mounts.append(.init(tmpfs: path, sizeBytes: nil)) }
        if let shm = service.shmSize ?? (service.role == .postgres ? 1 << 30 : nil), !mounts.contains(where: { $0.target == "/dev/shm" }) {
            mounts.append(.init(tmpfs: "/dev/shm", sizeBytes: shm, mode: 0o1777))
        }
        var container = ServiceCreate.ContainerSpec(image: service.image)
        container.labels = labels
        container.command = service.entrypoint
        container.args = command
        container.hostname = service.name
        container.env = env.map { "\($0.name)=\($0.value)" }
        container.dir = service.workingDir
        container.user = service.user
        container.mounts = mounts
        container.healthcheck = healthcheck
        container.dnsConfig = SwarmSandboxBackend.sandboxDNS
        container.capabilityDrop = ["ALL"]
        container.stopGracePeriod = SwarmSandboxBackend.stopGrace
        let caps = Array(Set(Sandbox.roleCapabilities(service.role) + service.capAdd)).sorted()
        container.capabilityAdd = caps.isEmpty ? nil : caps
        container.initProcess = service.role == .app ? true : nil
        let spec = ServiceCreate(
            name: name, labels: labels,
            taskTemplate: .init(containerSpec: container,
                                resources: .init(limits: .init(memoryBytes: service.memLimit ?? options.defaultMemory, pids: options.pidsLimit)),
                                restartPolicy: .init(condition: "none"),
                                placement: .init(constraints: ["node.id==\(node.id)"]),
                                networks: [.init(target: project.networkName, aliases: [service.name])]),
            mode: .replicated(1), endpointSpec: .init(mode: "dnsrr"))
        let id = try await client.createService(spec)
        var s = Sandbox.Service(name: service.name, role: service.role, image: service.image, containerID: id, containerName: name,
                                address: nil, postgresUser: pgUser, postgresPassword: pgPassword, postgresDatabase: pgDatabase,
                                node: node.description?.hostname ?? node.id)
        s.nodeID = node.id
        return s
    }

    /// A health check that decides readiness: every second, failures not counted for the readiness timeout.
    static func readiness(_ shell: String, _ options: SandboxOptions) -> Healthcheck {
        Healthcheck(test: ["CMD-SHELL", shell], interval: .seconds(1), timeout: .seconds(5), retries: 3, startPeriod: options.readinessTimeout)
    }

    /// `size=64m` (or `64m`, bytes, k, m, g) of a tmpfs option string.
    static func tmpfsSize(_ options: String) -> Int64? {
        for option in options.split(separator: ",") {
            let value = option.hasPrefix("size=") ? option.dropFirst(5) : option
            guard let last = value.last else { continue }
            let scale: Int64 = switch last.lowercased() { case "k": 1 << 10; case "m": 1 << 20; case "g": 1 << 30; default: 1 }
            if let n = Int64(scale == 1 ? value : value.dropLast()) { return n * scale }
        }
        return nil
    }

    /// Waits until the service's task runs (its health check passed), failing at once with the task's own
    /// error when it fails or is rejected (an image missing on its node, no node that fits).
    func waitRunning(_ service: Sandbox.Service, options: SandboxOptions) async throws -> SwarmTask {
        let deadline = ContinuousClock.now + options.readinessTimeout + .seconds(10)
        var last = "no task yet"
        while true {
            try Task.checkCancellation()
            let tasks = try await client.listTasks(filters: ["service": [service.containerID]])
            if let task = tasks.first(where: { $0.status?.state == "running" }) { return task }
            if let task = tasks.first(where: \.isFinal) {
                let err = task.status?.err ?? task.status?.message ?? task.status?.state ?? "?"
                let code: SandboxError.Code = err.contains("No such image") ? .imageMissing : .exited
                let tail = await logTail(service.containerID)
                throw SandboxError(code: code, message: "service \(service.name) on node \(service.node ?? "?") did not start: \(err)" + (tail.isEmpty ? "" : "; its last log lines:\n\(tail)"))
            }
            if let task = tasks.first {
                last = [task.status?.state, task.status?.message, task.status?.err].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            }
            if ContinuousClock.now > deadline {
                throw SandboxError(code: .notReady, message: "service \(service.name) not ready after \(options.readinessTimeout) (its task: \(last))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The last lines a service printed, for error messages.
    func logTail(_ serviceID: String, lines: Int = 20) async -> String {
        let out = OutputCollector()
        _ = try? await client.serviceLogs(serviceID) { stream, bytes in out.append(stream == .stderr ? .stderr : .stdout, bytes) }
        let r = out.result(exitCode: 0)
        return (r.stdoutText + r.stderrText).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Finds a live project's services again through the manager.
    func attachOnSwarm(project name: String, networkName: String?, logger: Logger) async throws -> Sandbox {
        let services = try await client.listServices(filters: .label(SandboxProject.Label.project, name))
            .filter { $0.spec.labels[SandboxProject.Label.project] == name && $0.spec.labels[SandboxProject.Label.helper] == nil }
        guard let first = services.first else {
            throw SandboxError(code: .notFound, message: "no sandbox project \(name) on this swarm (acp-drill ls lists them)")
        }
        let labels = first.spec.labels
        let kind = SandboxProject.Kind(rawValue: labels[SandboxProject.Label.kind] ?? "") ?? .env
        let expires = labels[SandboxProject.Label.expiresAt].flatMap(SandboxProject.parseRFC3339) ?? Date()
        let project = SandboxProject(name: name, kind: kind, expiresAt: expires, networkName: networkName)
        let sandbox = Sandbox(project: project, client: client, options: SandboxOptions(), logger: logger, backend: self)
        let nodes = Dictionary((try await client.listNodes()).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for s in services.sorted(by: { ($0.createdAt ?? "") < ($1.createdAt ?? "") }) {
            let l = s.spec.labels
            let role = ServiceRole(rawValue: l[SandboxProject.Label.role] ?? "") ?? .app
            let env = Dictionary((s.spec.taskTemplate.containerSpec.env ?? []).map { e -> (String, String) in
                let parts = e.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { _, b in b })
            let task = try await client.listTasks(filters: ["service": [s.id]]).first { $0.status?.state == "running" }
            let node = task?.nodeID.flatMap { nodes[$0] }
            var service = Sandbox.Service(
                name: l[SandboxProject.Label.service] ?? s.spec.name, role: role, image: s.spec.taskTemplate.containerSpec.image,
                containerID: s.id, containerName: s.spec.name, address: task?.address(on: project.networkName),
                postgresUser: role == .postgres ? env["POSTGRES_USER"] ?? "postgres" : nil,
                postgresPassword: role == .postgres ? env["POSTGRES_PASSWORD"] : nil,
                postgresDatabase: role == .postgres ? env["POSTGRES_DB"] ?? env["POSTGRES_USER"] ?? "postgres" : nil,
                node: node?.description?.hostname ?? task?.nodeID)
            service.nodeID = task?.nodeID
            sandbox.record(service)
        }
        return sandbox
    }
}
