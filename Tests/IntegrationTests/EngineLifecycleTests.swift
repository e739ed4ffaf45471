import CurlHTTP
import DockerEngine
import Foundation
import Synchronization
import Testing

@Suite(.enabled(if: engineLikely, "needs a Docker engine (set ACP_DRILL_REQUIRE_DOCKER=1 to make it mandatory)"))
struct EngineLifecycleTests {
    @Test("network, container and labelled anonymous volume: create, inspect, list, remove, nothing left")
    func lifecycle() async throws {
        try await withFixture { f in
            let client = f.client
            let netName = "\(f.project)_net"
            let netID = try await client.createNetwork(NetworkCreate(name: netName, internal: true, labels: f.labels))
            // CheckDuplicate: the same name again is a conflict, not a second network.
            await #expect { try await client.createNetwork(NetworkCreate(name: netName, labels: f.labels)) } throws: {
                ($0 as? DockerError)?.code == .conflict
            }
            let net = try await client.inspectNetwork(netID)
            #expect(net.internal == true)
            #expect(net.labels?["dev.acp-drill.project"] == f.project)

            var spec = ContainerCreate(image: testImage, cmd: ["sleep", "300"], labels: f.labels)
            spec.hostConfig.networkMode = netName
            spec.hostConfig.mounts = [.anonymousVolume(at: "/data", labels: f.labels)]
            spec.networkingConfig = NetworkingConfig(endpointsConfig: [netName: EndpointSettings(aliases: ["cache"])])
            let id = try await client.createContainer(name: "\(f.project)-redis-1", spec)
            try await client.startContainer(id)
            try await client.startContainer(id)  // 304 already running counts as started

            let inspect = try await client.inspectContainer(id)
            #expect(inspect.state.running)
            #expect(inspect.name == "/\(f.project)-redis-1")
            let mount = try #require(inspect.mounts?.first { $0.destination == "/data" })
            #expect(mount.type == "volume")
            let volume = try await client.inspectVolume(try #require(mount.name))
            // Podman drops an anonymous volume's labels: the sandbox creates its volumes, labelled, first.
            #expect(volume.labels?["dev.acp-drill.project"] == (EngineFixture.podman ? nil : f.project), "anonymous volumes carry our labels on dockerd")
            #expect(inspect.networkSettings?.networks?[netName]?.aliases?.contains("cache") == true)

            let listed = try await client.listContainers(filters: .label("dev.acp-drill.project", f.project))
            #expect(listed.map(\.id) == [id])
            #expect(listed.first?.name == "\(f.project)-redis-1")
            #expect(try await client.inspectNetwork(netID).containers?[id] != nil)

            // Removing a network with an endpoint attached is refused (403), as teardown must expect.
            // (Podman answers 2xx and keeps it while the container is on it.)
            if !EngineFixture.podman {
                await #expect { try await client.removeNetwork(netID) } throws: { ($0 as? DockerError)?.code == .forbidden }
            }

            try await client.stopContainer(id, timeout: 1)
            try await client.stopContainer(id, timeout: 1)  // 304 already stopped counts as stopped
            try await client.removeContainer(id, force: true, volumes: true)
            #expect(try await client.listVolumes(filters: .label("dev.acp-drill.project", f.project)).isEmpty,
                    "v=1 removed the anonymous volume")
            try await client.removeNetwork(netID)
            await #expect { try await client.inspectNetwork(netID) } throws: { ($0 as? DockerError)?.isNotFound == true }
            await #expect { try await client.removeContainer(id) } throws: { ($0 as? DockerError)?.isNotFound == true }
            await #expect { try await client.inspectContainer("\(f.project)-nope") } throws: {
                guard let e = $0 as? DockerError else { return false }
                return e.isNotFound && e.message.lowercased().contains("no such container")
            }
        }
    }

    @Test("the daemon's own message for a bad request and a missing image")
    func daemonMessages() async throws {
        try await withFixture { f in
            await #expect { try await f.client.createContainer(name: "bad name!", ContainerCreate(image: testImage, labels: f.labels)) } throws: {
                guard let e = $0 as? DockerError else { return false }
                // The daemon's own words: dockerd's 400, Podman's 500.
                return EngineFixture.podman ? e.message.contains("names must match") : e.code == .badRequest && e.message.contains("Invalid container name")
            }
            await #expect { try await f.client.createContainer(name: nil, ContainerCreate(image: "acp-drill/none:0", labels: f.labels)) } throws: {
                guard let e = $0 as? DockerError else { return false }
                return e.isNotFound && e.message.lowercased().contains("no such image")
            }
        }
    }

    @Test("wait registered before start sees the exit code")
    func waitNextExit() async throws {
        try await withFixture { f in
            let id = try await f.container("w", cmd: ["sh", "-c", "exit 7"], volume: nil, start: false)
            let (registered, signal) = AsyncStream<Void>.makeStream()
            async let result = f.client.waitContainer(id, condition: "next-exit", registered: { signal.yield(); signal.finish() })
            for await _ in registered { break }
            try await f.client.startContainer(id)
            #expect(try await result.statusCode == 7)
        }
    }

    @Test("cancelling a quiet, unbounded wait returns promptly")
    func cancelWait() async throws {
        try await withFixture { f in
            let id = try await f.container("c", cmd: ["sleep", "300"], volume: nil)
            let start = ContinuousClock.now
            let task = Task { try await f.client.waitContainer(id) }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // The multi handle's poll is woken at once; the bound allows for a loaded two-core machine.
            #expect(ContinuousClock.now - start < .seconds(5), "the transfer was woken and aborted")
        }
    }

    @Test("no engine at the given address is a clear .noEngine error")
    func noEngine() async throws {
        await #expect {
            try await DockerClient.connect(hostFlag: "unix:///nonexistent/acp-drill.sock", environment: .system(variables: [:]), logger: .init(label: "t"))
        } throws: { error in
            guard let e = error as? DockerError else { return false }
            return e.code == .noEngine && e.message.contains("/nonexistent/acp-drill.sock")
        }
    }

    @Test("ping, version and info answer; the API version is negotiated, not pinned")
    func system() async throws {
        let client = try await EngineFixture.connect()
        let ping = try await client.ping()
        let engineVersion = try #require(ping.apiVersion)
        #expect(client.apiVersion == min(engineVersion, DockerClient.maximumAPIVersion))
        let version = try await client.version()
        #expect(!version.version.isEmpty)
        #expect(try await client.info().driver != nil)
    }
}
