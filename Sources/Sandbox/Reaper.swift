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

/// Projects gathered from the labels of their resources, whatever kind the backend lists.
struct ProjectCatalog {
    private var byName: [String: ProjectSummary] = [:]

    /// Counts a resource with these labels towards its project (`update` adds what it is); a resource
    /// without our project label is not ours and is skipped.
    mutating func add(_ labels: [String: String]?, created: Date? = nil, _ update: (inout ProjectSummary) -> Void) {
        guard let labels, let name = labels[SandboxProject.Label.project], !name.isEmpty else { return }
        var p = byName[name] ?? ProjectSummary(name: name, kind: labels[SandboxProject.Label.kind] ?? "?", containers: [], networks: 0, volumes: 0)
        if let e = labels[SandboxProject.Label.expiresAt].flatMap(SandboxProject.parseRFC3339) { p.expiresAt = min(p.expiresAt ?? e, e) }
        if let created { p.createdAt = min(p.createdAt ?? created, created) }
        p.owner = p.owner ?? labels[SandboxProject.Label.owner]
        p.holds = p.holds ?? labels[SandboxProject.Label.holds]
        update(&p)
        byName[name] = p
    }

    /// The projects by name, each with its owner's state as seen from this host now.
    var projects: [ProjectSummary] {
        byName.values.map { p in
            var p = p
            p.ownerState = ProjectOwner.state(label: p.owner)
            return p
        }.sorted { $0.name < $1.name }
    }
}

/// Finds and removes sandbox projects by label: `ls` and `gc`.
public enum Reaper {
    /// Every project with our label on this engine, from its containers, networks and volumes.
    public static func projects(client: DockerClient) async throws -> [ProjectSummary] {
        let filter = DockerFilters.label(SandboxProject.Label.project)
        async let containers = client.listContainers(filters: filter)
        async let networks = client.listNetworks(filters: filter)
        async let volumes = client.listVolumes(filters: filter)
        var catalog = ProjectCatalog()
        for c in try await containers {
            catalog.add(c.labels, created: c.created.map { Date(timeIntervalSince1970: TimeInterval($0)) }) {
                $0.containers.append(.init(name: c.name, service: c.labels?[SandboxProject.Label.service], state: c.state ?? "?"))
            }
        }
        for n in try await networks { catalog.add(n.labels) { $0.networks += 1 } }
        for v in try await volumes { catalog.add(v.labels) { $0.volumes += 1 } }
        return catalog.projects
    }

    /// Removes expired projects and orphans (projects whose owner process is gone from this host), or,
    /// with `all`, every project of ours. A project whose owner runs, or that was handed over and has not
    /// expired, is never touched, so `gc` cannot race a run that is starting. With `dryRun` nothing is
    /// removed.
    /// - Returns: the projects removed (or that would be).
    @discardableResult
    public static func gc(client: DockerClient, all: Bool = false, dryRun: Bool = false, now: Date = Date(),
                          logger: Logger) async throws -> [ProjectSummary] {
        try await DockerSandboxBackend(client: client).collect(all: all, dryRun: dryRun, now: now, logger: logger)
    }
}
