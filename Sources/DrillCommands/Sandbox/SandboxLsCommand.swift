import ArgumentParser
import DockerEngine
import Foundation
import Sandbox

/// `acp-drill ls`: the projects of ours on this engine.
struct SandboxLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List acp-drill projects on this engine: kind, age, expiry, containers, state."
    )

    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let backend = try await engine.sandboxBackend(onSwarm: true)
        let projects = try await backend.projects()
        if json {
            print(try jsonText(projects))
            return
        }
        guard !projects.isEmpty else {
            print("no acp-drill projects on this engine")
            return
        }
        let now = Date()
        print("PROJECT".padding(toLength: 44, withPad: " ", startingAt: 0) + "KIND           AGE      EXPIRES    CONTAINERS  STATE     OWNER")
        for p in projects {
            let age = p.createdAt.map { human(now.timeIntervalSince($0)) } ?? "-"
            let expires = p.expiresAt.map { $0 <= now ? "expired" : "in " + human($0.timeIntervalSince(now)) } ?? "unknown"
            print(p.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                + p.kind.padding(toLength: 15, withPad: " ", startingAt: 0)
                + age.padding(toLength: 9, withPad: " ", startingAt: 0)
                + expires.padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(p.containers.count).padding(toLength: 12, withPad: " ", startingAt: 0) + p.state.padding(toLength: 10, withPad: " ", startingAt: 0)
                + p.ownerState.rawValue + (p.ownerState == .gone ? " (acp-drill gc removes it)" : ""))
        }
    }
}

func human(_ seconds: TimeInterval) -> String {
    let s = Int(max(0, seconds))
    if s < 120 { return "\(s)s" }
    if s < 7200 { return "\(s / 60)m" }
    if s < 172_800 { return "\(s / 3600)h" }
    return "\(s / 86400)d"
}
