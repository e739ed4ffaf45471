import DockerEngine
import Common
import Foundation

extension Sandbox {
    /// The six isolation assertions of docs/DESIGN.md §3, run against the live sandbox (probes from inside it).
    /// A check that cannot run is a failure: isolation is never assumed.
    ///
    /// Probes only target this daemon's own containers: the production hosts' names (which must not
    /// resolve) and the addresses of containers on this engine named like a production host (which must
    /// not answer).
    func isolationOnDocker() async -> [CheckResult] {
        guard let probe = services.first(where: { $0.role == .postgres }) ?? services.first else {
            return [.failed("isolation", "the sandbox has no running service to probe from")]
        }
        // Independent probes, run at once: this is on the way to every restore.
        async let dns = probeDNS(from: probe)
        async let tcp = probeTCP(from: probe)
        async let network = checkNetwork()
        async let containers = checkContainers()
        async let redis = checkRedis()
        return await dns + tcp + network + containers + redis
    }

    private func probeDNS(from probe: Service) async -> [CheckResult] {
        var results: [CheckResult] = []
        let prodHosts = options.allProductionHosts
        // 1. Production names do not resolve from inside.
        do {
            // Unknown names fail at once (the embedded DNS forwards only to the container's own loopback); the
            // one-second resolver limit bounds the probe if a forwarder ever hangs.
            let script = prodHosts.map {
                "( if RES_OPTIONS='timeout:1 attempts:1' getent ahosts \(shellQuote($0)) >/dev/null 2>&1; then echo \"resolves \($0)\"; else echo \"unresolved \($0)\"; fi ) &"
            }.joined(separator: " ") + " wait"
            let r = try await client.execCollect(probe.containerID, ["sh", "-c", script])
            let leaks = r.stdoutText.split(separator: "\n").filter { $0.hasPrefix("resolves ") }
            let answered = r.stdoutText.split(separator: "\n").count
            if answered != prodHosts.count {
                results.append(.failed("isolation.dns", "the probe did not answer for every host (exit \(r.exitCode)): \(r.stderrText)"))
            } else if leaks.isEmpty {
                results.append(.passed("isolation.dns", "from \(probe.name): \(prodHosts.joined(separator: ", ")) do not resolve"))
            } else {
                results.append(.failed("isolation.dns", "from \(probe.name): \(leaks.joined(separator: ", "))"))
            }
        } catch { results.append(.failed("isolation.dns", "probe failed: \(error)")) }

        return results
    }

    private func probeTCP(from probe: Service) async -> [CheckResult] {
        var results: [CheckResult] = []
        let containers = services
        let prodHosts = options.allProductionHosts
        // 2. Production containers on this engine do not answer from inside.
        do {
            let ours = Set(containers.map(\.containerID))
            var targets: [(name: String, ip: String, port: Int)] = []
            for c in try await client.listContainers(all: false) where !ours.contains(c.id) && prodHosts.contains(c.name) {
                // A container that went away since the listing has nothing to reach.
                let inspect: ContainerInspect
                do { inspect = try await client.inspectContainer(c.id) } catch let e as DockerError where e.isNotFound { continue }
                var ports = Set([5432, 6379])
                for key in (inspect.networkSettings?.ports ?? [:]).keys {
                    if let p = Int(key.split(separator: "/").first ?? "") { ports.insert(p) }
                }
                for (_, net) in inspect.networkSettings?.networks ?? [:] {
                    guard let ip = net.ipAddress, !ip.isEmpty else { continue }
                    for port in ports.sorted() { targets.append((c.name, ip, port)) }
                }
            }
            if targets.isEmpty {
                results.append(.passed("isolation.tcp", "no container named \(prodHosts.joined(separator: "/")) runs on this engine: nothing to reach"))
            } else {
                // Concurrent probes: a dropped packet costs the whole 2 s timeout, once for all addresses.
                let script = targets.map { t in
                    "( if timeout 2 bash -c 'exec 3<>/dev/tcp/\(t.ip)/\(t.port)' 2>/dev/null; then echo 'open \(t.name) \(t.ip):\(t.port)'; else echo 'closed \(t.name) \(t.ip):\(t.port)'; fi ) &"
                }.joined(separator: " ") + " wait"
                let r = try await client.execCollect(probe.containerID, ["sh", "-c", script])
                let lines = r.stdoutText.split(separator: "\n")
                let open = lines.filter { $0.hasPrefix("open ") }
                if lines.count != targets.count {
                    results.append(.failed("isolation.tcp", "the probe did not answer for every address (exit \(r.exitCode)): \(r.stderrText)"))
                } else if open.isEmpty {
                    results.append(.passed("isolation.tcp", "from \(probe.name), unreachable: " + targets.map { "\($0.name) \($0.ip):\($0.port)" }.joined(separator: ", ")))
                } else {
                    results.append(.failed("isolation.tcp", "from \(probe.name), reachable: " + open.joined(separator: ", ")))
                }
            }
        } catch { results.append(.failed("isolation.tcp", "probe failed: \(error)")) }

        return results
    }

    private func checkNetwork() async -> [CheckResult] {
        var results: [CheckResult] = []
        let containers = services
        // 3. The network is internal and holds only this project's containers.
        do {
            let net = try await client.inspectNetwork(project.networkName)
            let members = Set((net.containers ?? [:]).keys)
            let ours = Set(containers.map(\.containerID))
            let strangers = members.subtracting(ours)
            if net.internal != true {
                results.append(.failed("isolation.network", "\(project.networkName) is not internal"))
            } else if !strangers.isEmpty {
                let names = strangers.map { net.containers?[$0]?.name ?? $0 }
                results.append(.failed("isolation.network", "\(project.networkName) holds containers outside the project: \(names.sorted().joined(separator: ", "))"))
            } else {
                results.append(.passed("isolation.network", "\(project.networkName): internal, \(members.count) member(s), all of this project"))
            }
        } catch { results.append(.failed("isolation.network", "cannot inspect the network: \(error)")) }

        return results
    }

    private func checkContainers() async -> [CheckResult] {
        var results: [CheckResult] = []
        let containers = services
        // 4 and 5. Mounts and host settings of every container.
        var mountProblems: [String] = []
        var hostProblems: [String] = []
        var volumeCount = 0
        for service in containers {
            let v = await vet(service.containerID, as: service.name)
            mountProblems += v.mounts
            hostProblems += v.host
            volumeCount += v.volumes
        }
        results.append(mountProblems.isEmpty
            ? .passed("isolation.volumes", "\(volumeCount) volume(s) of the project's own, each created with its label and used by no other container")
            : .failed("isolation.volumes", mountProblems.joined(separator: "; ")))
        results.append(hostProblems.isEmpty
            ? .passed("isolation.host", "\(containers.count) container(s): no published port, not privileged, no host network/PID/IPC, no bind mount, no DNS forwarding")
            : .failed("isolation.host", hostProblems.joined(separator: "; ")))

        return results
    }

    private func checkRedis() async -> [CheckResult] {
        var results: [CheckResult] = []
        let containers = services
        // 6. Redis is the sandbox's own and empty.
        if let redis = containers.first(where: { $0.role == .redis }) {
            do {
                let r = try await client.execCollect(redis.containerID, ["redis-cli", "dbsize"])
                let size = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                results.append(size == "0"
                    ? .passed("isolation.redis", "\(redis.name) answers and holds no keys (DBSIZE 0)")
                    : .failed("isolation.redis", "\(redis.name) holds keys it did not create (DBSIZE \(size)) \(r.stderrText)"))
            } catch { results.append(.failed("isolation.redis", "probe failed: \(error)")) }
        } else {
            results.append(.skipped("isolation.redis", "the stack has no Redis service"))
        }
        return results
    }
}


extension Sandbox {
    /// What assertions 4 and 5 find wrong with one container of the project: mounts that are not this
    /// project's labelled volumes (or that a container outside it shares), and host settings that break
    /// isolation. The services are vetted by `assertIsolation`; a one-off job before it starts.
    func vet(_ id: String, as name: String) async -> (mounts: [String], host: [String], volumes: Int) {
        var mountProblems: [String] = []
        var hostProblems: [String] = []
        var volumeCount = 0
        do {
            let c = try await client.inspectContainer(id)
            for m in c.mounts ?? [] {
                guard m.type == "volume", let volume = m.name else {
                    mountProblems.append("\(name): \(m.type ?? "?") mount at \(m.destination)")
                    continue
                }
                volumeCount += 1
                let v = try await client.inspectVolume(volume)
                if v.labels?[SandboxProject.Label.project] != project.name {
                    mountProblems.append("\(name): volume \(volume) at \(m.destination) is not labelled for this project")
                }
                let users = try await client.listContainers(filters: ["volume": [volume]])
                let outside = users.filter { $0.labels?[SandboxProject.Label.project] != project.name }
                if !outside.isEmpty {
                    mountProblems.append("\(name): volume \(volume) is also used by \(outside.map(\.name).joined(separator: ", "))")
                }
            }
            let h = c.hostConfig
            if h?.privileged == true { hostProblems.append("\(name) is privileged") }
            if h?.publishAllPorts == true || (h?.portBindings ?? [:]).values.contains(where: { !($0 ?? []).isEmpty }) { hostProblems.append("\(name) publishes ports") }
            let published = (c.networkSettings?.ports ?? [:]).values.contains { !($0 ?? []).isEmpty }
            if published { hostProblems.append("\(name) has published ports") }
            // The network is judged by its actual membership (below): Podman reports "bridge" as the mode of a
            // container on a user network. Only the modes that share another namespace are refused here.
            if let mode = h?.networkMode, mode == "host" || mode.hasPrefix("container:") || mode == "none" {
                hostProblems.append("\(name) uses network mode \(mode)")
            }
            if (h?.pidMode ?? "") == "host" { hostProblems.append("\(name) uses the host PID namespace") }
            if (h?.ipcMode ?? "") == "host" { hostProblems.append("\(name) uses the host IPC namespace") }
            // Bind mounts are judged by Mounts[].Type above: Podman lists volumes in HostConfig.Binds too.
            if h?.dns != SandboxOptions.sandboxDNS { hostProblems.append("\(name) lets the embedded DNS forward names off the machine") }
            // A created container that has not started yet reports no networks; its mode names the one it joins.
            let nets = (c.networkSettings?.networks ?? [:]).keys
            if !nets.isEmpty, Set(nets) != [project.networkName] { hostProblems.append("\(name) is attached to \(nets.sorted().joined(separator: ", "))") }
            if nets.isEmpty, c.state.running { hostProblems.append("\(name) is running on no network") }
            // Created, not started: dockerd's mode names the network it will join ("bridge" would be the
            // default bridge); Podman says "bridge" for every user network, and its membership is checked
            // once the container runs.
            if nets.isEmpty, !c.state.running, client.libpodVersion == nil, h?.networkMode != project.networkName {
                hostProblems.append("\(name) would join network \(h?.networkMode ?? "?")")
            }
        } catch {
            hostProblems.append("\(name): cannot inspect: \(error)")
        }
        return (mountProblems, hostProblems, volumeCount)
    }
}

func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
