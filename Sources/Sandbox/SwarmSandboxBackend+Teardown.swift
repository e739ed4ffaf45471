import DockerEngine
import Foundation
import Logging

extension SwarmSandboxBackend {
    /// Removes everything labelled with `project` through the manager: its services (their task containers
    /// and tmpfs mounts go with them on every node), then waits until the manager lists no task of them,
    /// then its networks (retried while the overlay's endpoints drain), then sweeps once more.
    /// 404 counts as done, so it is idempotent; nothing without the project's label is touched.
    func teardownOnSwarm(project: String, logger: Logger) async throws -> TeardownReport {
        precondition(!project.isEmpty)
        let filter = DockerFilters.label(SandboxProject.Label.project, project)
        var report = TeardownReport(project: project)
        var failures = TeardownFailures(project: project, logger: logger)
        for pass in 0 ..< 2 {
            var removed: [String] = []
            do {
                for s in try await client.listServices(filters: filter) where s.spec.labels[SandboxProject.Label.project] == project {
                    do { try await client.removeService(s.id) } catch let e as DockerError where e.isNotFound {}
                    removed.append(s.id)
                    report.containers += 1
                }
            } catch { failures.note(error, "services") }
            // "Done" means done on every node: the manager drops a task once its node reports it shut down.
            do { try await waitTasksGone(project: project, services: removed) } catch { failures.note(error, "tasks") }
            do {
                for network in try await client.listNetworks(filters: filter) where network.labels?[SandboxProject.Label.project] == project {
                    // "network is in use by task …" until the nodes have detached the tasks.
                    if try await Sandbox.removeNetwork(network.id, client: client, attempts: 100) { report.networks += 1 }
                }
            } catch { failures.note(error, "networks") }
            // A second pass only for what appeared meanwhile (a create of a cancelled provisioning in flight).
            guard pass == 0, failures.none else { break }
            let late = ((try? await client.listServices(filters: filter)) ?? []).count + ((try? await client.listNetworks(filters: filter)) ?? []).count
            if late == 0 { break }
            logger.debug("teardown found late resources; sweeping again", metadata: ["sandbox.project": "\(project)"])
        }
        try failures.check()
        return report
    }

    /// Waits (up to a minute) until the manager lists no task of the project: a removed service's tasks
    /// stay listed, desired state `remove`, until their node has shut their containers down and removed
    /// them. They are found by their containers' labels (or their service), since `GET /tasks` cannot
    /// filter on those and a removed service's id is a 404 for its filter.
    private func waitTasksGone(project: String, services: [String]) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        let removed = Set(services)
        while true {
            let left = try await client.listTasks().filter {
                removed.contains($0.serviceID ?? "") || $0.spec?.containerSpec?.labels?[SandboxProject.Label.project] == project
            }
            if left.isEmpty { return }
            if ContinuousClock.now > deadline {
                let nodes = Set(left.compactMap(\.nodeID)).sorted().joined(separator: ", ")
                throw SandboxError(code: .teardown, message: "\(left.count) task(s) of \(project) still on node(s) \(nodes) after 60 s (a node that is down removes them when it rejoins)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Every project of ours on the swarm, from the labels of its services and networks.
    func projectsOnSwarm() async throws -> [ProjectSummary] {
        let filter = DockerFilters.label(SandboxProject.Label.project)
        async let services = client.listServices(filters: filter)
        async let networks = client.listNetworks(filters: filter)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let ours = try await services
        let tasks = ours.isEmpty ? [] : (try? await client.listTasks(filters: ["service": ours.map(\.id)])) ?? []
        var catalog = ProjectCatalog()
        for s in ours {
            let task = tasks.filter { $0.serviceID == s.id }.first { $0.desiredState == "running" || $0.desiredState == "complete" }
            let created = s.createdAt.flatMap { iso.date(from: String($0.prefix(23)) + "Z") ?? SandboxProject.parseRFC3339($0) }
            catalog.add(s.spec.labels, created: created) {
                $0.containers.append(.init(name: s.spec.name, service: s.spec.labels[SandboxProject.Label.service], state: task?.status?.state ?? "no task"))
            }
        }
        for n in try await networks { catalog.add(n.labels) { $0.networks += 1 } }
        return catalog.projects
    }
}
