import DockerEngine
import Drill
import Foundation
import Sandbox
import Synchronization
import Testing

/// dockerd itself restarted mid-drill, in both daemon modes: live-restore off (the sandbox's containers
/// stop with the daemon) and on (they run through the restart). The drill runs on a second dockerd of its
/// own (scripts/engine2.sh: its own network namespace, socket and data), so the restart disturbs nothing
/// else; the source database stays on the main engine. Heavy, so `scripts/test.sh` runs it apart.
@Suite(.serialized, .enabled(if: runsApart, "run apart by scripts/test.sh (ACP_DRILL_APART=1)")) struct EngineRestartTests {
    static let script = repoRoot.appendingPathComponent("scripts/engine2.sh").path
    static let socket = "unix:///run/acp-drill-engine2.sock"
    /// The second dockerd's pid file (scripts/engine2.sh's exec root).
    static let pidFile = "/run/acp-drill-engine2/dockerd.pid"

    static func engine2(_ args: [String]) async throws {
        _ = try await run(["bash", script] + args)
    }

    @Test("dockerd restarted mid-restore, live-restore off and on: the verdict names the engine first, teardown removes the sandbox once it is back, gc leaves nothing")
    func restartMidDrill() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("engine-restart")
            for liveRestore in [false, true] {
                let mode = liveRestore ? ["--live-restore"] : []
                try await Self.engine2(["restart"] + mode)
                let client = try await DockerClient.connect(hostFlag: Self.socket, environment: .system(variables: [:]), logger: quietLogger)
                let fired = Mutex(false)
                let d = try await source.drill(repo, name: "restart-\(liveRestore ? "live" : "stop")", env: ["DOCKER_HOST": Self.socket], until: { text in
                    guard text.contains("restoring acp_") else { return false }
                    if !fired.withLock({ f in defer { f = true }; return f }) {
                        // As a service manager restarts it: SIGTERM now, while the restore runs (not when a
                        // script has started, which on a loaded machine can be after the drill), then wait
                        // for it to exit and start it again.
                        if let pid = (try? String(contentsOfFile: Self.pidFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                            kill(pid, SIGTERM)
                        }
                        Thread.detachNewThread { _ = try? runBlocking(["bash", Self.script, "restart"] + mode) }
                    }
                    return true
                }, signal: 0)
                let what = "live-restore \(liveRestore ? "on" : "off")"
                #expect(d.code == 1, "\(what): \(d.stdout)\n\(d.stderr)")
                let report = try #require(d.report, "\(what): a report is written")
                #expect(report.firstFailure?.hasPrefix("engine: the engine at \(Self.socket) stopped answering during restore") == true,
                        "\(what): \(report.firstFailure ?? "none")")
                #expect(d.lastLine.hasPrefix("Restore drill FAILED — engine:"), "\(what): \(d.lastLine)")
                #expect(!(d.stdout + d.stderr).contains("localhost port 80"))
                #expect(report.sandbox?.tornDown == true, "\(what): teardown waited for the engine: \(report.sandbox?.teardownError ?? "")")
                // Nothing of ours is left on the restarted engine after one gc.
                let (gcCode, gcOut, _) = try await runCLI(["gc"], environment: ["DOCKER_HOST": Self.socket])
                #expect(gcCode == 0, "\(gcOut)")
                let f = DockerFilters.label(SandboxProject.Label.project)
                let left = try await (client.listContainers(filters: f).count, client.listNetworks(filters: f).count, client.listVolumes(filters: f).count)
                #expect(left == (0, 0, 0), "\(what): left \(left)")
            }
        } catch {
            _ = try? await Self.engine2(["down"])
            await source.close()
            throw error
        }
        try await Self.engine2(["down"])
        await source.close()
    }
}
