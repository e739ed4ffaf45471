public import DockerEngine
import Foundation

/// What a one-off job did.
public struct JobOutcome: Sendable, Equatable {
    public var exitCode: Int
    /// The image the job ran, by the engine's ID (`sha256:…`): the record names exactly what ran.
    public var imageID: String?

    public init(exitCode: Int, imageID: String?) {
        self.exitCode = exitCode
        self.imageID = imageID
    }
}

extension Sandbox {
    /// Runs a one-off job container on the sandbox network (an app's test suite, a migration, a scenario):
    /// hardened like the services, labelled with the project (so teardown and gc find it), vetted by the
    /// isolation assertions' own container rules before it starts, output streamed to `onOutput`, removed
    /// afterwards. The image must be on the engine (nothing is pulled). Cancelling the task removes the
    /// container.
    public func runOneOff(
        image: String, command: [String], environment: [String] = [], user: String? = nil,
        onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void
    ) async throws -> JobOutcome {
        let imageInfo: ImageInspect
        do { imageInfo = try await client.inspectImage(image) } catch let e as DockerError where e.code == .notFound {
            throw SandboxError(code: .imageMissing, message: "image \(image) is not on this engine (nothing is pulled: build it, e.g. scripts/build-images.sh, or pull it first)", underlying: e)
        }
        let suffix = String(UUID().uuidString.lowercased().prefix(6))
        var labels = project.containerLabels(service: "run", role: .app)
        labels[SandboxProject.Label.composeOneoff] = "True"
        var spec = ContainerCreate(image: image, cmd: command.isEmpty ? nil : command, env: environment, labels: labels)
        spec.user = user
        var host = HostConfig()
        host.networkMode = project.networkName
        host.dns = SandboxOptions.sandboxDNS
        host.capDrop = ["ALL"]
        host.securityOpt = ["no-new-privileges"]
        host.memory = options.defaultMemory
        host.pidsLimit = options.pidsLimit
        host.`init` = true
        let name = "\(project.name)-run-\(suffix)"
        host.mounts = try await labelledVolumes((imageInfo.config?.volumes ?? [:]).keys.sorted(), for: name)
        let volumes = (host.mounts ?? []).compactMap(\.source)
        host.extraHosts = peerHosts
        spec.hostConfig = host
        let id = try await client.createContainer(name: name, spec)
        let client = self.client
        do {
            let v = await vet(id, as: name)
            guard v.mounts.isEmpty && v.host.isEmpty else {
                throw SandboxError(code: .isolation, message: "job \(name) was not started: " + (v.mounts + v.host).joined(separator: "; "))
            }
            let (registered, signal) = AsyncStream<Void>.makeStream()
            async let exit = client.waitContainer(id, condition: "next-exit", registered: { signal.yield(); signal.finish() })
            for await _ in registered { break }
            try await client.startContainer(id)
            let delivery = LogDelivery(onOutput)
            try await client.logs(id, follow: true) { try delivery.followed($0, $1) }
            let code = try await exit.statusCode
            // Once the job has exited, its log is read back whole and what was not delivered follows.
            try await client.logs(id, follow: false) { try delivery.reread($0, $1) }
            try await Task.detached { try await Self.removeJob(id, name: name, volumes: volumes, client: client) }.value
            return JobOutcome(exitCode: code, imageID: imageInfo.id)
        } catch {
            _ = try? await Task.detached { try await Self.removeJob(id, name: name, volumes: volumes, client: client) }.value
            throw error
        }
    }

    /// Removes a job's container, then its volumes (named volumes outlive their container).
    static func removeJob(_ id: String, name: String, volumes: [String], client: DockerClient) async throws {
        try await client.removeContainer(id, force: true, volumes: true)
        for v in volumes {
            do { try await client.removeVolume(v, force: true) } catch let e as DockerError where e.isNotFound {}
        }
    }

    /// The stack's connection settings, as a job or a CI step wants them in its environment: `PGHOST`,
    /// `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE` and `DATABASE_URL` for the first Postgres service,
    /// `REDIS_URL` for the first Redis service, each reaching the service by its name on the sandbox network.
    /// The password travels in the environment only, never in a command line.
    public var connectionEnvironment: [String] {
        var env: [String] = []
        if let pg = service(role: .postgres) {
            let user = pg.postgresUser ?? "postgres", password = pg.postgresPassword ?? "", db = pg.postgresDatabase ?? "postgres"
            env += ["PGHOST=\(pg.name)", "PGPORT=5432", "PGUSER=\(user)", "PGPASSWORD=\(password)", "PGDATABASE=\(db)",
                    "DATABASE_URL=postgresql://\(Self.urlEncode(user)):\(Self.urlEncode(password))@\(pg.name):5432/\(Self.urlEncode(db))"]
        }
        if let redis = service(role: .redis) { env.append("REDIS_URL=redis://\(redis.name):6379/0") }
        return env
    }

    static func urlEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
