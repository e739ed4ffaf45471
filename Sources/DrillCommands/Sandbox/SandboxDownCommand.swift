import ArgumentParser
import DockerEngine
import Sandbox

/// `acp-drill down`: remove a project (or all of ours).
struct SandboxDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove a sandbox project: its containers, network and volumes (found by label).",
        discussion: "Idempotent: removing a project that is already gone succeeds. Only resources carrying the project's label are touched."
    )

    @OptionGroup var engine: EngineOptions
    @Argument(help: "The project name (acp-drill ls lists them).") var project: String?
    @Flag(help: "Remove every acp-drill project on this engine, expired or not.") var all = false

    func validate() throws {
        if all == (project != nil) { throw ValidationError("give a project name or --all (not both)") }
    }

    func run() async throws {
        let backend = try await engine.sandboxBackend(onSwarm: true)
        let logger = engine.logger
        let names: [String]
        if all { names = try await backend.projects().map(\.name) } else { names = [project!] }
        var failed = false
        for name in names {
            do {
                let report = try await backend.teardown(project: name, logger: logger)
                print("removed \(name): \(report.containers) container(s), \(report.networks) network(s), \(report.volumes) volume(s)")
            } catch {
                printError("error: \(error)")
                failed = true
            }
        }
        if failed { throw DrillExit.failure }
    }
}
