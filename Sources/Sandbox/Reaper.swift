public import DockerEngine
public import Logging
public import Foundation

/// A project as the daemon knows it, from the labels of its resources.
public struct ProjectSummary: Sendable, Codable {
    public var name: String
    public var kind: String
    public var expiresAt: Date?
    public var createdAt: Date?
    public var containers: [ContainerInfo]
    public var networks: Int
    public var volumes: Int
    /// The owner label (`ProjectOwner`), when the project has one.
    public var owner: String?
    /// What the project holds (its `dev.acp-drill.holds` label), when known.
    public var holds: String?
    /// The owner's state as seen from this host when the projects were listed.
    public var ownerState: ProjectOwner.State = .untilExpiry

    public struct ContainerInfo: Sendable, Codable {
        public var name: String
        public var service: String?
        public var state: String
    }

    /// Past its expiry label. A project without one was not made by acp-drill's lifecycle (every resource it
    /// creates carries the label): only `gc --all` or `down` removes it.
    public func isExpired(now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }

    /// Why `gc` removes it (nil: it stays): past its expiry, or its owner process is gone from this host.
    public func collectReason(now: Date) -> String? {
        if isExpired(now: now) { return "expired" }
        if ownerState == .gone { return "its owner process is gone" }
        return nil
    }

    /// `running`, `partial` (some containers not running), `stopped`, or `empty` (no containers left).
    public var state: String {
        if containers.isEmpty { return "empty" }
        let running = containers.filter { $0.state == "running" }.count
        return running == containers.count ? "running" : running == 0 ? "stopped" : "partial"
    }
}

/// Finds and removes sandbox projects by label: `ls` and `gc`.
public enum Reaper {
    /// Every project with our label on this engine, from its containers, networks and volumes.
    public static func projects(client: DockerClient) async throws -> [ProjectSummary] {
        let key = SandboxProject.Label.project
        let filter = DockerFilters.label(key)
        async let containers = client.listContainers(filters: filter)
        async let networks = client.listNetworks(filters: filter)
        async let volumes = client.listVolumes(filters: filter)
        var byName: [String: ProjectSummary] = [:]
        func touch(_ labels: [String: String]?) -> String? {
            guard let labels, let name = labels[key], !name.isEmpty else { return nil }
            var p = byName[name] ?? ProjectSummary(name: name, kind: labels[SandboxProject.Label.kind] ?? "?", containers: [], networks: 0, volumes: 0)
            if let e = labels[SandboxProject.Label.expiresAt].flatMap(SandboxProject.parseRFC3339) {
                p.expiresAt = min(p.expiresAt ?? e, e)
            }
            p.owner = p.owner ?? labels[SandboxProject.Label.owner]
            p.holds = p.holds ?? labels[SandboxProject.Label.holds]
            byName[name] = p
            return name
        }
        for c in try await containers {
            guard let name = touch(c.labels) else { continue }
            byName[name]!.containers.append(.init(name: c.name, service: c.labels?[SandboxProject.Label.service], state: c.state ?? "?"))
            let created = c.created.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            if let created { byName[name]!.createdAt = min(byName[name]!.createdAt ?? created, created) }
        }
        for n in try await networks { if let name = touch(n.labels) { byName[name]!.networks += 1 } }
        for v in try await volumes { if let name = touch(v.labels) { byName[name]!.volumes += 1 } }
        return byName.values.map { p in
            var p = p
            p.ownerState = ProjectOwner.state(label: p.owner)
            return p
        }.sorted { $0.name < $1.name }
    }

    /// Removes expired projects and orphans (projects whose owner process is gone from this host), or,
    /// with `all`, every project of ours. A project whose owner runs, or that was handed over and has not
    /// expired, is never touched, so `gc` cannot race a run that is starting. With `dryRun` nothing is
    /// removed.
    /// - Returns: the projects removed (or that would be).
    @discardableResult
    public static func gc(client: DockerClient, all: Bool = false, dryRun: Bool = false, now: Date = Date(),
                          logger: Logger) async throws -> [ProjectSummary] {
        let doomed = try await projects(client: client).filter { all || $0.collectReason(now: now) != nil }
        guard !dryRun else { return doomed }
        var firstError: (any Error)?
        for project in doomed {
            do { try await Sandbox.teardown(project: project.name, client: client, logger: logger) } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return doomed
    }
}
