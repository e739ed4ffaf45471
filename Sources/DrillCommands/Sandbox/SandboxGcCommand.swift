import ArgumentParser
import DockerEngine
import Foundation
import Drill
import Sandbox

/// `acp-drill gc`: remove expired projects and orphans (every run calls it first).
struct SandboxGcCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove expired acp-drill projects, and at once the orphans of killed runs.",
        discussion: prose("""
            A project made by a run (a drill's sandbox, a backup's verify) records its owner process in its
            dev.acp-drill.owner label: this host, the process id and its start time. Once that process is gone
            from this host (SIGKILL, a crash, a reboot), the project is an orphan, possibly holding decrypted
            production data, and gc removes it at once. A project handed over (up, run --keep, the demo's
            stand-in) has no owner and lives to its dev.acp-drill.expires-at label, fixed at creation; so does
            one made from another host. A project whose owner runs, or whose expiry lies ahead, is never
            removed, so gc cannot race a run that is starting. Every acp-drill run, up and backup calls gc
            first; acp-drill ls shows each owner's state.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Flag(help: "Remove every acp-drill project, expired or not.") var all = false
    @Flag(help: "List what would be removed; remove nothing.") var dryRun = false

    func run() async throws {
        let backend = try await engine.sandboxBackend(onSwarm: true)
        let removed = try await backend.gc(all: all, dryRun: dryRun, now: Date(), logger: engine.logger)
        if !dryRun { for path in DrillRun.sweepScratchFolders() { print("removed \(path) (the scratch folder of a killed drill)") } }
        if removed.isEmpty { print(all ? "no acp-drill projects" : "no expired or orphaned acp-drill projects") }
        let now = Date()
        for p in removed {
            let why = all ? "" : "\(p.collectReason(now: now) ?? "expired"); "
            print("\(dryRun ? "would remove" : "removed") \(p.name) (\(why)\(p.kind), \(p.containers.count) container(s), \(p.networks) network(s), \(p.volumes) volume(s)"
                  + (p.holds.map { "; held \($0)" } ?? "") + ")")
        }
    }
}
