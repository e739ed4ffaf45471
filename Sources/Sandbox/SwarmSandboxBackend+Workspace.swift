import DockerEngine
import Foundation
import Synchronization

/// A workspace: where commands "in" a service run on a swarm. It is a task of the service's image on the
/// service's node, with a tmpfs `/tmp` that keeps files between commands (a dump decrypted into it, then
/// restored from it), on the project's internal network (where it reaches the service by name) and on
/// `<project>_relay`, a non-internal overlay through which its agent calls this process back
/// (`RelayServer`). The service itself stays on the internal network alone: the code a dump carries runs
/// in the server, which still has no route out; the workspace runs only our own commands.
struct Workspace: Sendable {
    var agent: String
    var relay: RelayServer
    /// The service it stands beside: `PGHOST=127.0.0.1` becomes this name.
    var target: String
}

extension SwarmSandboxBackend {
    /// One workspace per service and process, made on first use.
    private static let workspaces = Mutex<[String: Task<Workspace, any Error>]>([:])
    /// The relay network of each project, made once per process.
    private static let relayNetworks = Mutex<[String: Task<Void, any Error>]>([:])

    /// The agent: asks the relay for a script, runs it in the background, asks again. It gives up once
    /// the relay has not answered for 30 s (the drill that made it is gone; teardown removes the task).
    static let agentScript = #"""
        set -u
        host=${ACP_RELAY% *}; port=${ACP_RELAY#* }; misses=0
        while [ "$misses" -lt 60 ]; do
          if exec 3<>"/dev/tcp/$host/$port"; then
            misses=0
            printf 'next %s\n' "$ACP_RELAY_AGENT" >&3
            s=$(cat <&3); exec 3<&-
            [ -n "$s" ] && ( eval "$s" ) &
          else
            misses=$((misses + 1)); sleep 0.5
          fi
        done 2>/dev/null
        """#

    /// The script of one command: its stdin, stdout and stderr are connections to the relay, its exit
    /// code is reported on a fourth. The environment travels inside the script (never in an argument list).
    static func commandScript(token: String, command: [String], env: [String], hasStdin: Bool, directory: String = "/tmp") -> String {
        let open = { (fd: Int, kind: String) in #"exec \#(fd)<>"/dev/tcp/$host/$port" && printf '%s %s\n' \#(kind) \#(token) >&\#(fd)"# }
        let exports = env.compactMap { e -> String? in
            let parts = e.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else { return nil }
            return "export \(parts[0])=\(shellQuote(parts[1])); "
        }.joined()
        // The exit code is reported whatever happens, a connection that could not be opened included (a
        // failed redirection ends the script: its EXIT trap still reports).
        return [
            #"trap 'exec 8<>"/dev/tcp/$host/$port" && printf "exit %s %s\n" \#(token) 255 >&8' EXIT"#,
            open(6, "out"), open(7, "err"),
            hasStdin ? open(5, "in") : "exec 5</dev/null",
            "( exec 5<&- 6>&- 7>&-; \(exports)cd \(shellQuote(directory)) && exec \(command.map(shellQuote).joined(separator: " ")) ) <&5 >&6 2>&7",
            "c=$?",
            "exec 5<&- 6>&- 7>&-",
            "trap - EXIT",
            #"exec 8<>"/dev/tcp/$host/$port" && printf 'exit %s %s\n' \#(token) "$c" >&8"#,
            "exec 8>&-",
        ].joined(separator: "\n")
    }

    /// The address this host has towards the swarm's nodes: `ACP_DRILL_RELAY_ADDRESS`, or the source
    /// address of this host's route to the manager's node address.
    func relayHost() async throws -> String {
        if let given = ProcessInfo.processInfo.environment["ACP_DRILL_RELAY_ADDRESS"], !given.isEmpty { return given }
        guard let nodeAddr = try await client.info().swarm?.nodeAddr, !nodeAddr.isEmpty else {
            throw SandboxError(code: .exec, message: "the manager does not say its node address; set ACP_DRILL_RELAY_ADDRESS to this host's address as the nodes reach it")
        }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = UInt16(2377).bigEndian
        guard inet_pton(AF_INET, nodeAddr, &to.sin_addr) == 1,
              withUnsafePointer(to: &to, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }) == 0 else {
            throw SandboxError(code: .exec, message: "no route from this host to the manager's node address \(nodeAddr); set ACP_DRILL_RELAY_ADDRESS")
        }
        var local = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &local.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
        return String(cString: text)
    }

    /// `work` for `key`, run once in this process by whoever asks first and awaited by every caller; a
    /// failure is forgotten, so that the next caller tries again.
    private static func once<T: Sendable>(_ tasks: borrowing Mutex<[String: Task<T, any Error>]>, _ key: String,
                                          _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = tasks.withLock { all -> Task<T, any Error> in
            if let t = all[key] { return t }
            let t = Task { try await work() }
            all[key] = t
            return t
        }
        do { return try await task.value } catch {
            tasks.withLock { _ = $0.removeValue(forKey: key) }
            throw error
        }
    }

    /// The service's workspace, made (and waited for) on first use.
    func workspace(for service: Sandbox.Service) async throws -> Workspace {
        try await Self.once(Self.workspaces, service.containerID) { try await self.makeWorkspace(for: service) }
    }

    private func makeWorkspace(for service: Sandbox.Service) async throws -> Workspace {
        let project = try await projectOf(service)
        let relayNetwork = "\(project.name)_relay"
        let client = self.client
        try await Self.once(Self.relayNetworks, project.name) {
            var labels = project.labels
            labels[SandboxProject.Label.composeNetwork] = "relay"
            do {
                try await client.createNetwork(NetworkCreate(name: relayNetwork, driver: "overlay", internal: false, attachable: false, labels: labels))
            } catch let e as DockerError where e.isConflict {}
        }
        let relay = try RelayServer.shared(host: try await relayHost())
        let agent = relay.registerAgent()
        var labels = project.containerLabels(service: "workspace-\(service.name)", role: .app)
        labels[SandboxProject.Label.helper] = "workspace"
        var container = ServiceCreate.ContainerSpec(image: service.image)
        container.labels = labels
        container.command = ["bash", "-c", Self.agentScript]
        container.args = []
        container.env = ["ACP_RELAY=\(relay.host) \(relay.port)", "ACP_RELAY_AGENT=\(agent)"]
        container.user = "root"
        container.mounts = [.init(tmpfs: "/tmp", sizeBytes: nil, mode: 0o1777)]
        container.dnsConfig = Self.sandboxDNS
        // None added back: root in the workspace only reads and writes its own /tmp.
        container.capabilityDrop = ["ALL"]
        container.stopGracePeriod = Self.stopGrace
        container.initProcess = true
        let suffix = String(UUID().uuidString.lowercased().prefix(6))
        let spec = ServiceCreate(
            name: Self.serviceName(project, "ws-\(suffix)-\(service.name)"), labels: labels,
            taskTemplate: .init(containerSpec: container,
                                resources: .init(limits: .init(memoryBytes: SandboxOptions().defaultMemory, pids: SandboxOptions().pidsLimit)),
                                restartPolicy: .init(condition: "none"),
                                placement: service.nodeID.map { .init(constraints: ["node.id==\($0)"]) },
                                networks: [.init(target: project.networkName), .init(target: relayNetwork)]),
            mode: .replicated(1), endpointSpec: .init(mode: "dnsrr"))
        let id = try await client.createService(spec)
        let ws = Workspace(agent: agent, relay: relay, target: service.name)
        var probe = Sandbox.Service(name: "workspace of \(service.name)", role: .app, image: service.image, containerID: id, containerName: spec.name)
        probe.node = service.node
        _ = try await waitRunning(probe, options: SandboxOptions())
        return ws
    }

    /// Runs `command` in `service`'s workspace through the relay, with the service's connection settings:
    /// `PGHOST` (a Postgres service's) and redis-cli's host (a Redis service's) name the service, since
    /// the workspace's own loopback is not the service's.
    func runInWorkspace(_ service: Sandbox.Service, command: [String], env: [String], stdin: (any ExecInput)?,
                        output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        let ws = try await workspace(for: service)
        var environment = env.map { $0 == "PGHOST=127.0.0.1" || $0 == "PGHOST=localhost" ? "PGHOST=\(ws.target)" : $0 }
        if service.role == .postgres, !environment.contains(where: { $0.hasPrefix("PGHOST=") }) { environment.append("PGHOST=\(ws.target)") }
        // Likewise redis-cli's default host is the workspace's own loopback: it is pointed at the service.
        var command = command
        if service.role == .redis, command.first == "redis-cli", !command.contains("-h"), !command.contains("-u") {
            command.insert(contentsOf: ["-h", ws.target], at: 1)
        }
        let hasStdin = stdin != nil
        return try await ws.relay.execute(agent: ws.agent, script: { token in
            Self.commandScript(token: token, command: command, env: environment, hasStdin: hasStdin)
        }, stdin: stdin, pickup: .seconds(30), output: output)
    }
}
