import DockerEngine
import Foundation

extension Sandbox {
    /// Waits until a service is ready, checked inside its container: Postgres answers a query over TCP
    /// (the unix socket answers during the image's init, TCP does not), Redis answers PING, other services
    /// report healthy (or run, without a health check). Fails fast, with the last log lines, when the
    /// container exits or is OOM-killed.
    func waitReady(_ service: Service, spec: ServiceSpec) async throws {
        let deadline = ContinuousClock.now + options.readinessTimeout
        var lastProbe = ""
        var delay = Duration.milliseconds(20)
        while true {
            try Task.checkCancellation()
            let state = try await client.inspectContainer(service.containerID).state
            if !state.running {
                let tail = await client.logTail(service.containerID, lines: 20)
                let why = state.oomKilled == true ? "was OOM-killed (raise mem_limit)" : "exited with code \(state.exitCode ?? -1)"
                throw SandboxError(code: .exited, message: "service \(service.name) \(why) while starting; its last log lines:\n\(tail)")
            }
            let ready: Bool
            do {
                ready = try await probe(service, spec: spec, state: state, lastProbe: &lastProbe)
            } catch let e as DockerError {
                // It may have exited between the inspect and the exec (409 on create, 500 on start): the next
                // inspect reports that with its logs; an error that persists ends at the deadline, quoted.
                ready = false
                lastProbe = "\(e)"
            }
            if ready { return }
            if ContinuousClock.now > deadline {
                throw SandboxError(code: .notReady,
                    message: "service \(service.name) not ready after \(options.readinessTimeout): \(lastProbe.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(100))
        }
    }

    /// One readiness probe inside the container.
    private func probe(_ service: Service, spec: ServiceSpec, state: ContainerState, lastProbe: inout String) async throws -> Bool {
        switch service.role {
        case .postgres:
            let r = try await client.execCollect(
                service.containerID,
                ["psql", "-h", "127.0.0.1", "-U", service.postgresUser ?? "postgres", "-d", service.postgresDatabase ?? "postgres",
                 "-Atqc", "select 1"],
                env: ["PGPASSWORD=\(service.postgresPassword ?? "")", "PGCONNECT_TIMEOUT=2"])
            lastProbe = r.stderrText
            return r.exitCode == 0 && r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        case .redis:
            let r = try await client.execCollect(service.containerID, ["redis-cli", "ping"])
            lastProbe = r.stdoutText + r.stderrText
            return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "PONG"
        case .app:
            // No healthcheck: ready once running. Podman says {"Status": ""} for that.
            guard let health = state.health, !health.status.isEmpty else { return true }
            // Podman runs healthchecks from systemd timers; without systemd (a container, CI) the status
            // stays "starting" for ever. There, the stack's own test is run here, as the engine would.
            if client.libpodVersion != nil, health.status == "starting", let test = spec.healthcheck?.test, let command = Self.healthCommand(test) {
                let r = try await client.execCollect(service.containerID, command)
                lastProbe = r.stdoutText + r.stderrText
                if r.exitCode != 0 { try await Task.sleep(for: .milliseconds(400)) }
                return r.exitCode == 0
            }
            if health.status == "unhealthy" {
                throw SandboxError(code: .notReady, message: "service \(service.name) is unhealthy: \(health.log?.last?.output ?? "")")
            }
            lastProbe = health.log?.last?.output ?? ""
            return health.status == "healthy"
        }
    }
}

extension Sandbox {
    /// The command a healthcheck's `test` runs (`CMD …` as is, `CMD-SHELL …` through `sh -c`); nil for `NONE`.
    public static func healthCommand(_ test: [String]) -> [String]? {
        guard let kind = test.first else { return nil }
        switch kind {
        case "CMD": return test.count > 1 ? Array(test.dropFirst()) : nil
        case "CMD-SHELL": return test.count > 1 ? ["sh", "-c", test.dropFirst().joined(separator: " ")] : nil
        default: return nil
        }
    }
}
