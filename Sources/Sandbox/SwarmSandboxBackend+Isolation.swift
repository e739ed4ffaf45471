import Common
import DockerEngine
import Foundation

extension SwarmSandboxBackend {
    /// The six isolation assertions on a swarm (docs/SWARM.md): `dns` and `tcp` probed by a job beside the
    /// first Postgres service, on the internal network alone as the service is (not from a workspace,
    /// which is also on the relay network), `redis` by a job beside Redis, `network`, `volumes` and `host` read from the
    /// manager (the overlay's tasks, the service specs). A check that cannot run is a failure.
    func isolationOnSwarm(_ sandbox: Sandbox) async -> [CheckResult] {
        guard let probe = sandbox.service(role: .postgres) ?? sandbox.services.first else {
            return [.failed("isolation", "the sandbox has no running service to probe from")]
        }
        async let reach = probeReach(from: probe, sandbox: sandbox)
        async let network = checkOverlay(sandbox)
        async let specs = checkSpecs(sandbox)
        async let redis = checkRedis(sandbox)
        return await reach + network + specs + redis
    }

    /// `dns` and `tcp` in one job: production names do not resolve, and no production service's task
    /// (nor a container named like a production host on the manager) answers.
    private func probeReach(from probe: Sandbox.Service, sandbox: Sandbox) async -> [CheckResult] {
        let prodHosts = sandbox.options.allProductionHosts
        var targets: [(name: String, ip: String, port: Int)] = []
        do {
            let ours = Set(sandbox.services.map(\.containerID))
            for s in try await client.listServices() where !ours.contains(s.id) {
                let aliases = (s.spec.taskTemplate.networks ?? []).flatMap { $0.aliases ?? [] }
                guard prodHosts.contains(where: { $0 == s.spec.name || $0 == s.spec.taskTemplate.containerSpec.hostname || aliases.contains($0) }) else { continue }
                for task in try await client.listTasks(filters: ["service": [s.id], "desired-state": ["running"]]) {
                    for a in task.networksAttachments ?? [] {
                        for address in a.addresses ?? [] {
                            let ip = String(address.split(separator: "/").first ?? "")
                            for port in [5432, 6379] { targets.append((s.spec.name, ip, port)) }
                        }
                    }
                }
            }
            for c in try await client.listContainers(all: false) where prodHosts.contains(c.name) {
                let inspect = try await client.inspectContainer(c.id)
                for (_, net) in inspect.networkSettings?.networks ?? [:] {
                    guard let ip = net.ipAddress, !ip.isEmpty else { continue }
                    for port in [5432, 6379] { targets.append((c.name, ip, port)) }
                }
            }
        } catch {
            return [.failed("isolation.dns", "cannot list the swarm's services: \(error)"), .failed("isolation.tcp", "cannot list the swarm's services: \(error)")]
        }
        let dnsScript = prodHosts.map {
            "( if RES_OPTIONS='timeout:1 attempts:1' getent ahosts \(shellQuote($0)) >/dev/null 2>&1; then echo \"resolves \($0)\"; else echo \"unresolved \($0)\"; fi ) &"
        }
        let tcpScript = targets.map { t in
            "( if timeout 2 bash -c 'exec 3<>/dev/tcp/\(t.ip)/\(t.port)' 2>/dev/null; then echo 'open \(t.name) \(t.ip):\(t.port)'; else echo 'closed \(t.name) \(t.ip):\(t.port)'; fi ) &"
        }
        let script = (dnsScript + tcpScript).joined(separator: " ") + " wait"
        let r: CommandResult
        do { r = try await runBesideCollect(probe, command: ["sh", "-c", script]) } catch {
            return [.failed("isolation.dns", "probe failed: \(error)"), .failed("isolation.tcp", "probe failed: \(error)")]
        }
        let lines = r.stdoutText.split(separator: "\n").map(String.init)
        let where_ = "from a job beside \(probe.name) on node \(probe.node ?? "?")"
        var results: [CheckResult] = []
        let dnsLines = lines.filter { $0.hasPrefix("resolves ") || $0.hasPrefix("unresolved ") }
        let leaks = dnsLines.filter { $0.hasPrefix("resolves ") }
        if dnsLines.count != prodHosts.count {
            results.append(.failed("isolation.dns", "the probe did not answer for every host (exit \(r.exitCode)): \(r.stderrText)"))
        } else if leaks.isEmpty {
            results.append(.passed("isolation.dns", "\(where_): \(prodHosts.joined(separator: ", ")) do not resolve"))
        } else {
            results.append(.failed("isolation.dns", "\(where_): \(leaks.joined(separator: ", "))"))
        }
        let tcpLines = lines.filter { $0.hasPrefix("open ") || $0.hasPrefix("closed ") }
        if targets.isEmpty {
            results.append(.passed("isolation.tcp", "no service or manager container named \(prodHosts.joined(separator: "/")) runs on this swarm: nothing to reach"))
        } else if tcpLines.count != targets.count {
            results.append(.failed("isolation.tcp", "the probe did not answer for every address (exit \(r.exitCode)): \(r.stderrText)"))
        } else if let open = Optional(tcpLines.filter { $0.hasPrefix("open ") }), !open.isEmpty {
            results.append(.failed("isolation.tcp", "\(where_), reachable: " + open.joined(separator: ", ")))
        } else {
            results.append(.passed("isolation.tcp", "\(where_), unreachable: " + targets.map { "\($0.name) \($0.ip):\($0.port)" }.joined(separator: ", ")))
        }
        return results
    }

    /// `network`: the overlay is internal, and every task on it, on every node, is of this project.
    private func checkOverlay(_ sandbox: Sandbox) async -> [CheckResult] {
        let name = sandbox.project.networkName
        do {
            let net = try await client.inspectNetwork(name)
            guard net.internal == true, net.driver == "overlay" else {
                return [.failed("isolation.network", "\(name) is \(net.internal == true ? "" : "not internal, ")driver \(net.driver ?? "?")")]
            }
            let project = sandbox.project.name
            // The tasks first, then the services: every task listed has a service made before the second
            // list, so a job of ours started meanwhile (this assertion's own probe) is not taken for a stranger.
            let members = try await client.listTasks(filters: ["desired-state": ["running"]])
                .filter { t in (t.networksAttachments ?? []).contains { $0.network?.id == net.id || $0.network?.spec?.name == name } }
            let ours = Set(try await client.listServices(filters: .label(SandboxProject.Label.project, project))
                .filter { $0.spec.labels[SandboxProject.Label.project] == project }.map(\.id))
            let strangers = members.filter { !ours.contains($0.serviceID ?? "") }
            guard strangers.isEmpty else {
                return [.failed("isolation.network", "\(name) holds tasks outside the project: " + strangers.map { "\($0.id) (service \($0.serviceID ?? "?"))" }.joined(separator: ", "))]
            }
            let nodes = Set(members.compactMap(\.nodeID)).count
            return [.passed("isolation.network", "\(name): internal overlay (not encrypted), \(members.count) task(s) on \(nodes) node(s), all of this project")]
        } catch { return [.failed("isolation.network", "cannot inspect the network: \(error)")] }
    }

    /// `volumes` and `host`, from the services' specs as the manager holds them.
    private func checkSpecs(_ sandbox: Sandbox) async -> [CheckResult] {
        let project = sandbox.project.name
        var mountProblems: [String] = [], hostProblems: [String] = []
        var tmpfs = 0
        let services: [SwarmService]
        do {
            services = try await client.listServices(filters: .label(SandboxProject.Label.project, project))
                .filter { $0.spec.labels[SandboxProject.Label.project] == project }
        } catch {
            return [.failed("isolation.volumes", "cannot list the services: \(error)"), .failed("isolation.host", "cannot list the services: \(error)")]
        }
        let network = try? await client.inspectNetwork(sandbox.project.networkName)
        for s in services {
            let c = s.spec.taskTemplate.containerSpec
            let name = s.spec.name
            for m in c.mounts ?? [] {
                if m.type == "tmpfs" { tmpfs += 1 } else { mountProblems.append("\(name): \(m.type) mount at \(m.target)") }
            }
            if !(s.spec.endpointSpec?.ports ?? []).isEmpty { hostProblems.append("\(name) publishes ports") }
            let nets = (s.spec.taskTemplate.networks ?? []).map(\.target)
            if nets.isEmpty { hostProblems.append("\(name) is on no network") }
            for n in nets where n != sandbox.project.networkName && n != network?.id {
                hostProblems.append("\(name) is attached to \(n)")
            }
            if c.dnsConfig?.nameservers != SandboxOptions.sandboxDNS { hostProblems.append("\(name) lets the embedded DNS forward names off the machine") }
            if !(c.capabilityDrop ?? []).contains("ALL") { hostProblems.append("\(name) keeps the default capabilities") }
        }
        return [
            mountProblems.isEmpty
                ? .passed("isolation.volumes", "no volume at all: \(tmpfs) tmpfs mount(s) of the tasks, gone with them")
                : .failed("isolation.volumes", mountProblems.joined(separator: "; ")),
            hostProblems.isEmpty
                ? .passed("isolation.host", "\(services.count) service(s): no published port, only \(sandbox.project.networkName), no bind mount, all capabilities dropped but the image's own, no DNS forwarding")
                : .failed("isolation.host", hostProblems.joined(separator: "; ")),
        ]
    }

    /// `redis`: the sandbox's own, and empty.
    private func checkRedis(_ sandbox: Sandbox) async -> [CheckResult] {
        guard let redis = sandbox.service(role: .redis) else { return [.skipped("isolation.redis", "the stack has no Redis service")] }
        do {
            let r = try await runBesideCollect(redis, command: ["redis-cli", "-h", redis.name, "dbsize"])
            let size = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            return [size == "0"
                ? .passed("isolation.redis", "\(redis.name) answers and holds no keys (DBSIZE 0)")
                : .failed("isolation.redis", "\(redis.name) holds keys it did not create (DBSIZE \(size)) \(r.stderrText)")]
        } catch { return [.failed("isolation.redis", "probe failed: \(error)")] }
    }
}
