public import DockerEngine
import Foundation

extension Sandbox {
    /// Runs a one-off job container on the sandbox network (an app's test suite, a migration): hardened like
    /// the services, labelled with the project (so teardown and gc find it), output streamed to `onOutput`,
    /// removed afterwards. Cancelling the task removes the container.
    /// - Returns: the job's exit code.
    public func runOneOff(
        image: String, command: [String], environment: [String] = [], user: String? = nil,
        onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void
    ) async throws -> Int {
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
        let image = try? await client.inspectImage(image)
        host.mounts = (image?.config?.volumes ?? [:]).keys.sorted().map { .anonymousVolume(at: $0, labels: project.labels) }
        spec.hostConfig = host
        let id = try await client.createContainer(name: "\(project.name)-run-\(suffix)", spec)
        let client = self.client
        do {
            let (registered, signal) = AsyncStream<Void>.makeStream()
            async let exit = client.waitContainer(id, condition: "next-exit", registered: { signal.yield(); signal.finish() })
            for await _ in registered { break }
            try await client.startContainer(id)
            try await client.logs(id, follow: true, onOutput: onOutput)
            let code = try await exit.statusCode
            try await Task.detached { try await client.removeContainer(id, force: true, volumes: true) }.value
            return code
        } catch {
            _ = try? await Task.detached { try await client.removeContainer(id, force: true, volumes: true) }.value
            throw error
        }
    }
}
