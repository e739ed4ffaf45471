import ArgumentParser
import DockerEngine
import Foundation
import Sandbox

/// `acp-drill gc`: remove expired projects (every run calls it first).
struct SandboxGcCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove expired acp-drill projects (the leftovers of crashed or killed runs).",
        discussion: prose("""
            A project expires at its dev.acp-drill.expires-at label, fixed at creation (now + the run's time
            limit, or + --keep-ttl for kept drills). A live project whose expiry lies ahead is never removed,
            so gc cannot race a run that is starting. Every acp-drill run calls gc first.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Flag(help: "Remove every acp-drill project, expired or not.") var all = false
    @Flag(help: "List what would be removed; remove nothing.") var dryRun = false

    func run() async throws {
        let backend = try await engine.backend()
        let removed = try await backend.gc(all: all, dryRun: dryRun, now: Date(), logger: engine.logger)
        if removed.isEmpty { print(all ? "no acp-drill projects" : "no expired acp-drill projects") }
        for p in removed {
            print("\(dryRun ? "would remove" : "removed") \(p.name) (\(p.kind), \(p.containers.count) container(s), \(p.networks) network(s), \(p.volumes) volume(s))")
        }
    }
}
