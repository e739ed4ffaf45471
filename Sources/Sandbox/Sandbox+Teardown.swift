public import DockerEngine
public import Logging

/// What a teardown removed.
public struct TeardownReport: Sendable, Codable {
    public var project: String
    public var containers = 0
    public var networks = 0
    public var volumes = 0
}

/// A teardown's failed steps: each logged as it happens, every step still tried, the first thrown at the end.
struct TeardownFailures {
    let project: String
    let logger: Logger
    private var first: (any Error)?

    init(project: String, logger: Logger) {
        self.project = project
        self.logger = logger
    }

    var none: Bool { first == nil }

    mutating func note(_ error: any Error, _ step: String) {
        logger.warning("teardown step failed", metadata: ["sandbox.project": "\(project)", "step": "\(step)", "error": "\(error)"])
        if first == nil { first = error }
    }

    func check() throws {
        if let first { throw SandboxError(code: .teardown, message: "teardown of \(project) was incomplete: \(first)", underlying: first) }
    }
}

extension Sandbox {
    /// Removes every resource labelled with this project, from daemon state alone: containers (forced,
    /// with their anonymous volumes), then networks (retried while the daemon still counts an endpoint),
    /// then any volume left with the label. 404 counts as done, so it is idempotent. Every step is tried;
    /// each failure is logged and the first is thrown. Nothing without the project label is touched: every
    /// list is filtered by `dev.acp-drill.project=<project>`, an exact label match.
    @discardableResult
    public static func teardown(project: String, client: DockerClient, logger: Logger) async throws -> TeardownReport {
        try await teardownPass(project: project, client: client, logger: logger, sweep: true)
    }

    /// Removes a network, retried while the engine still counts an endpoint or a task on it (403, 409,
    /// or a swarm's 500 "in use"); returns whether it was there to remove.
    static func removeNetwork(_ id: String, client: DockerClient, attempts: Int) async throws -> Bool {
        var attempt = 0
        while true {
            do {
                try await client.removeNetwork(id)
                return true
            } catch let e as DockerError where e.isNotFound {
                return false
            } catch let e as DockerError where (e.code == .forbidden || e.isConflict || e.code == .serverError) && attempt < attempts {
                attempt += 1
                try await Task.sleep(for: .milliseconds(50 * min(attempt, 10)))
            }
        }
    }

    static func teardownPass(project: String, client: DockerClient, logger: Logger, sweep: Bool = false) async throws -> TeardownReport {
        precondition(!project.isEmpty)
        let filter = DockerFilters.label(SandboxProject.Label.project, project)
        var report = TeardownReport(project: project)
        var failures = TeardownFailures(project: project, logger: logger)

        do {
            let containers = try await client.listContainers(filters: filter)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for c in containers where c.labels?[SandboxProject.Label.project] == project {
                    group.addTask {
                        do { try await client.removeContainer(c.id, force: true, volumes: true); return true } catch let e as DockerError where e.isNotFound {
                            return false
                        } catch let e as DockerError where e.isConflict && e.message.contains("already in progress") {
                            // Another teardown (a parallel gc) is removing it: wait until it is gone.
                            for _ in 0 ..< 100 {
                                guard (try? await client.inspectContainer(c.id)) != nil else { return false }
                                try await Task.sleep(for: .milliseconds(100))
                            }
                            throw e
                        }
                    }
                }
                for try await removed in group where removed { report.containers += 1 }
            }
        } catch { failures.note(error, "containers") }

        do {
            for network in try await client.listNetworks(filters: filter) where network.labels?[SandboxProject.Label.project] == project {
                // "has active endpoints" lingers briefly after the last container is gone.
                if try await removeNetwork(network.id, client: client, attempts: 40) { report.networks += 1 }
            }
        } catch { failures.note(error, "networks") }

        do {
            for volume in try await client.listVolumes(filters: filter) where volume.labels?[SandboxProject.Label.project] == project {
                var attempt = 0
                while true {
                    do {
                        try await client.removeVolume(volume.name, force: true)
                        report.volumes += 1
                        break
                    } catch let e as DockerError where e.isNotFound {
                        break
                    } catch let e as DockerError where e.isConflict && attempt < 20 {
                        attempt += 1
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
        } catch { failures.note(error, "volumes") }

        // A last sweep: anything created while the passes above ran (an in-flight create of a cancelled
        // provisioning) is removed too.
        if sweep, failures.none {
            let lateContainers = (try? await client.listContainers(filters: filter)) ?? []
            let lateNetworks = (try? await client.listNetworks(filters: filter)) ?? []
            if !lateContainers.isEmpty || !lateNetworks.isEmpty {
                logger.debug("teardown found late resources; sweeping again", metadata: ["sandbox.project": "\(project)"])
                let again = try await teardownPass(project: project, client: client, logger: logger)
                report.containers += again.containers
                report.networks += again.networks
                report.volumes += again.volumes
            }
        }
        try failures.check()
        logger.debug("teardown complete", metadata: [
            "sandbox.project": "\(project)", "containers": "\(report.containers)", "networks": "\(report.networks)",
            "volumes": "\(report.volumes)",
        ])
        return report
    }
}
