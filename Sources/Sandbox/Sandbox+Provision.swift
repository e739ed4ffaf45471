public import DockerEngine
public import Logging
import Foundation

/// Progress of a long operation, for a terminal or a log.
public typealias ProgressHandler = @Sendable (String) -> Void

extension Sandbox {
    /// Creates the project's internal network and services (in `depends_on` order, each ready before its
    /// dependents start), then returns. On any failure — including cancellation — everything already
    /// created is torn down before the error is rethrown.
    ///
    /// `holdBack` names services that are not started yet (the drill's app services, started with
    /// `start(_:from:)` once the data is restored); their images are still checked up front.
    public static func provision(
        _ spec: StackSpec, project: SandboxProject, client: DockerClient, options: SandboxOptions = SandboxOptions(),
        holdBack: Set<String> = [], logger: Logger, progress: ProgressHandler? = nil
    ) async throws -> Sandbox {
        let sandbox = Sandbox(project: project, client: client, options: options, logger: logger)
        do {
            try await sandbox.build(spec, holdBack: holdBack, progress: progress)
        } catch {
            logger.warning("provisioning failed, tearing down", metadata: ["error": "\(error)"])
            _ = try? await sandbox.teardown()
            throw error
        }
        return sandbox
    }

    /// `withSandbox` on the Docker backend of `client` (see `SandboxBackend.withSandbox`).
    public static func withSandbox<T: Sendable>(
        _ spec: StackSpec, project: SandboxProject, client: DockerClient, options: SandboxOptions = SandboxOptions(),
        keep: Bool = false, logger: Logger, progress: ProgressHandler? = nil,
        _ body: (Sandbox) async throws -> T
    ) async throws -> T {
        try await DockerSandboxBackend(client: client).withSandbox(spec, project: project, options: options, keep: keep,
                                                                   logger: logger, progress: progress, body)
    }

    /// Starts services of `spec` held back at provisioning (by dependency level; their dependencies already
    /// run). Whatever fails is left for the sandbox's teardown, like the rest of the project.
    func startOnDocker(_ names: Set<String>, from spec: StackSpec, progress: ProgressHandler? = nil) async throws {
        let order = try spec.startOrder().filter { names.contains($0.name) }
        try await startLevels(order, images: try await localImages(order), progress: progress)
        await completeHosts()
    }

    /// Services held back from provisioning so that they start after the restore: the app services, except
    /// those a service that starts at once depends on (directly or through other services).
    public static func appServicesToHoldBack(_ spec: StackSpec) -> Set<String> {
        var held = Set(spec.services.filter { $0.role == .app }.map(\.name))
        let byName = Dictionary(spec.services.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var changed = true
        while changed {
            changed = false
            for service in spec.services where !held.contains(service.name) {
                for dep in service.dependsOn where held.contains(dep) && byName[dep] != nil {
                    held.remove(dep)
                    changed = true
                }
            }
        }
        return held
    }

    /// Every image must be local before anything is created (no implicit pulls).
    private func localImages(_ services: [ServiceSpec]) async throws -> [String: ImageInspect] {
        var images: [String: ImageInspect] = [:]
        for service in services where images[service.image] == nil {
            do { images[service.image] = try await client.inspectImage(service.image) } catch let e as DockerError where e.isNotFound {
                throw SandboxError(code: .imageMissing,
                    message: "image \(service.image) (service \(service.name)) is not on the engine: build it with scripts/build-images.sh or pull it")
            }
        }
        return images
    }

    private func build(_ spec: StackSpec, holdBack: Set<String>, progress: ProgressHandler?) async throws {
        let order = try spec.startOrder()
        let images = try await localImages(order)
        progress?("network \(project.networkName)")
        var netLabels = project.labels
        netLabels[SandboxProject.Label.composeNetwork] = "net"
        // dockerd's bridge driver takes ICC as an option (a daemon started with --icc=false would cut the
        // services off from each other); Podman's does not know it, and no option is sent that an engine
        // does not know.
        try await client.createNetwork(NetworkCreate(
            name: project.networkName, driver: "bridge", internal: true, labels: netLabels,
            options: client.libpodVersion == nil ? ["com.docker.network.bridge.enable_icc": "true"] : [:]))
        try await startLevels(order.filter { !holdBack.contains($0.name) }, images: images, progress: progress)
        await completeHosts()
    }

    /// A volume of the project's for each path, created with our labels (Podman drops an anonymous
    /// volume's labels, and an unlabelled volume would be invisible to gc), named after `container`.
    func labelledVolumes(_ paths: [String], for container: String) async throws -> [Mount] {
        var mounts: [Mount] = []
        for (i, path) in paths.enumerated() {
            // A random suffix: an engine answers a create of an existing name with that volume, data and all.
            let suffix = String(UUID().uuidString.lowercased().prefix(6))
            let volume = try await client.createVolume(VolumeCreate(name: "\(container)-data\(i)-\(suffix)", labels: project.labels))
            mounts.append(Mount(type: "volume", source: volume.name, target: path))
        }
        return mounts
    }

    /// On Podman, the services' names as /etc/hosts lines (`name:address`) for a container being created:
    /// its DNS server (aardvark-dns) forwards every other name off the machine, even on an internal
    /// network, so a sandbox container gets no DNS server (`SandboxOptions.sandboxDNS`) and learns the
    /// names it may resolve this way. On dockerd, nil: its embedded DNS answers the network's names and
    /// forwards nothing (its upstream is that same unanswered address).
    var peerHosts: [String]? {
        guard client.libpodVersion != nil else { return nil }
        return services.flatMap { s in s.address.map { ip in ["\(s.name):\(ip)", "\(s.containerName):\(ip)"] } ?? [] }
    }

    /// On Podman, once the services run: each learns the names of those started beside it or after it
    /// (a container's /etc/hosts is its own, written at its creation). Best effort: an image without a
    /// shell keeps the names it was created with.
    func completeHosts() async {
        guard client.libpodVersion != nil else { return }
        let entries = services.flatMap { s in s.address.map { ip in ["\(ip) \(s.name)", "\(ip) \(s.containerName)"] } ?? [] }
        let script = #"for e in "$@"; do n=${e#* }; awk -v n="$n" '{for(i=2;i<=NF;i++) if($i==n) f=1} END{exit !f}' /etc/hosts || echo "$e" >> /etc/hosts; done"#
        for s in services {
            _ = try? await client.execCollect(s.containerID, ["sh", "-c", script, "sh"] + entries, user: "root")
        }
    }

    /// Services start by dependency level: a level's services start together once every service of the
    /// levels before is ready (Redis does not wait for Postgres unless it depends on it).
    private func startLevels(_ order: [ServiceSpec], images: [String: ImageInspect], progress: ProgressHandler?) async throws {
        for level in Self.levels(order) {
            try Task.checkCancellation()
            try await withThrowingTaskGroup(of: Service.self) { group in
                for service in level {
                    let image = images[service.image]!
                    group.addTask {
                        progress?("service \(service.name) (\(service.image))")
                        var running = try await self.createService(service, image: image)
                        try await self.client.startContainer(running.containerID)
                        try await self.waitReady(running, spec: service)
                        running.address = try await self.client.inspectContainer(running.containerID)
                            .networkSettings?.networks?[self.project.networkName]?.ipAddress
                        progress?("service \(service.name) ready")
                        return running
                    }
                }
                var ready: [Service] = []
                for try await service in group { ready.append(service) }
                for service in level { if let s = ready.first(where: { $0.name == service.name }) { record(s) } }
            }
        }
    }

    /// Groups services (already in start order) so that each one's dependencies are in an earlier group.
    static func levels(_ order: [ServiceSpec]) -> [[ServiceSpec]] {
        var level: [String: Int] = [:]
        var groups: [[ServiceSpec]] = []
        for service in order {
            let l = service.dependsOn.map { (level[$0] ?? -1) + 1 }.max() ?? 0
            level[service.name] = l
            while groups.count <= l { groups.append([]) }
            groups[l].append(service)
        }
        return groups
    }

    private func createService(_ service: ServiceSpec, image: ImageInspect) async throws -> Service {
        let name = service.containerName ?? project.containerName(service.name)
        var env = service.environment
        var pgUser: String?, pgPassword: String?, pgDatabase: String?
        var command = service.command
        if service.role == .postgres {
            pgUser = service.env("POSTGRES_USER") ?? "postgres"
            if let given = service.env("POSTGRES_PASSWORD"), !given.isEmpty {
                pgPassword = given
            } else {
                let generated = Self.randomPassword()
                env.append(("POSTGRES_PASSWORD", generated))
                pgPassword = generated
            }
            pgDatabase = service.env("POSTGRES_DB") ?? pgUser
            if !options.durable {
                let base = command ?? ["postgres"]
                if base.first == "postgres" {
                    command = base + SandboxOptions.throwAwayPostgresSettings.flatMap { ["-c", $0] }
                }
            }
        }
        let labels = project.containerLabels(service: service.name, role: service.role).merging(service.labels) { ours, _ in ours }
        // Every data path, the image's own VOLUMEs included, gets a volume of the project's, created first
        // with our labels (an anonymous volume's labels are dropped by Podman, and an unlabelled volume
        // would be invisible to gc); teardown removes them by label.
        var paths = service.volumes
        for path in (image.config?.volumes ?? [:]).keys.sorted() where !paths.contains(path) { paths.append(path) }
        let tmpfsPaths = Set(service.tmpfs.map { String($0.split(separator: ":").first ?? "") })
        paths.removeAll { tmpfsPaths.contains($0) }

        var spec = ContainerCreate(image: service.image, cmd: command, env: env.map { "\($0.name)=\($0.value)" }, labels: labels)
        spec.entrypoint = service.entrypoint
        spec.user = service.user
        spec.workingDir = service.workingDir
        spec.hostname = service.name
        if let hc = service.healthcheck {
            spec.healthcheck = Healthcheck(test: hc.test, interval: hc.interval, timeout: hc.timeout, retries: hc.retries,
                                           startPeriod: hc.startPeriod)
        }
        var host = HostConfig()
        host.networkMode = project.networkName
        host.dns = SandboxOptions.sandboxDNS
        host.mounts = try await labelledVolumes(paths, for: name)
        host.extraHosts = peerHosts
        host.tmpfs = Dictionary(service.tmpfs.map { entry -> (String, String) in
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { _, b in b })
        host.capDrop = ["ALL"]
        host.capAdd = Array(Set(Self.roleCapabilities(service.role) + service.capAdd)).sorted()
        host.securityOpt = ["no-new-privileges"]
        host.privileged = false
        host.publishAllPorts = false
        host.memory = service.memLimit ?? options.defaultMemory
        host.pidsLimit = options.pidsLimit
        host.shmSize = service.shmSize ?? (service.role == .postgres ? 1 << 30 : nil)
        host.`init` = service.role == .app ? true : nil
        spec.hostConfig = host
        spec.networkingConfig = NetworkingConfig(endpointsConfig: [project.networkName: EndpointSettings(aliases: [service.name])])
        let id = try await client.createContainer(name: name, spec)
        return Service(name: service.name, role: service.role, image: service.image, containerID: id, containerName: name,
                       address: nil, postgresUser: pgUser, postgresPassword: pgPassword, postgresDatabase: pgDatabase)
    }

    /// What the official images' entrypoints need as root before they drop privileges.
    static func roleCapabilities(_ role: ServiceRole) -> [String] {
        switch role {
        case .postgres, .redis: return ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
        case .app: return []
        }
    }

    /// 32 random characters from [A-Za-z0-9]: an ephemeral credential that dies with the sandbox.
    public static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var rng = SystemRandomNumberGenerator()
        return String((0 ..< 32).map { _ in alphabet[Int.random(in: 0 ..< alphabet.count, using: &rng)] })
    }
}
