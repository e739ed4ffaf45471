import Common
import DockerEngine
import Drill
import Repository
import Foundation
import Sandbox
import Synchronization
import Testing

/// Drills ended at random moments — SIGINT, SIGTERM, SIGKILL, or their engine going away (the proxy of
/// EngineLossTests, killed and started again) — then one `gc`: nothing of theirs is left, every drill that
/// was not SIGKILLed wrote a valid report, and the exit codes are the documented ones. Bounded: eight
/// drills, each ending twice, seeded (the seed is printed, so a failure can be replayed).
/// It loads both cores for half a minute, which would push the timed assertions of the suites beside it:
/// `scripts/test.sh` runs it apart, after the main suite (`ACP_DRILL_APART=1`).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ACP_DRILL_APART"] == "1", "run apart by scripts/test.sh (ACP_DRILL_APART=1)"))
struct ChaosTests {
    enum Ending: String, CaseIterable { case sigint, sigterm, sigkill, engine }

    /// Lines of a drill's progress at which to end it.
    static let moments = ["▸ provision", "▸ download", "restoring acp_", "▸ checks", "passed    row_counts."]

    @Test("eight drills, each ended at a random moment by SIGINT, SIGTERM, SIGKILL or the engine going away; then one gc leaves nothing")
    func chaos() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["ACP_CHAOS_SEED"] ?? "") ?? UInt64.random(in: 1 ... 1_000_000)
        print("chaos seed \(seed) (ACP_CHAOS_SEED=\(seed) replays it)")
        var rng = SplitMix64(seed: seed)
        let source = try await DrillSource.make()
        let proxy = EngineLossTests.Proxy(socket: "/tmp/acp-drill-chaos-\(UUID().uuidString.prefix(8)).sock")
        let before = Set(try await Reaper.projects(client: source.client).map(\.name))
        do {
            try proxy.start()
            let repo = try await source.backup("chaos")
            let set = try #require(try LocalRepository(root: repo).completeSets().first)
            let t0 = ContinuousClock.now
            let endings = (Ending.allCases + Ending.allCases).shuffled(using: &rng)
            for (i, ending) in endings.enumerated() {
                let moment = Self.moments.randomElement(using: &rng)!
                let fired = Mutex(false)
                let signal: Int32 = switch ending { case .sigint: SIGINT; case .sigterm: SIGTERM; case .sigkill: SIGKILL; case .engine: 0 }
                let d = try await source.drill(repo, name: "chaos-\(i)-\(ending.rawValue)", env: ["DOCKER_HOST": "unix://\(proxy.socket)"], until: { text in
                    guard text.contains(moment) else { return false }
                    fired.withLock { $0 = true }
                    if ending == .engine {
                        proxy.kill()
                        Thread.detachNewThread { sleep(3); try? proxy.start() }
                    }
                    return true
                }, signal: signal)
                let what = "drill \(i): \(ending) at \"\(moment)\" → exit \(d.code), \(d.report?.verdict.rawValue ?? "no report")"
                print(what)
                guard fired.withLock({ $0 }) else {
                    // The moment never came (the drill had passed it): a normal end.
                    #expect(d.code == 0 && d.report?.verdict == .passed, "\(what)\n\(d.stderr.suffix(800))")
                    continue
                }
                switch ending {
                case .sigint: #expect(d.code == 130 && d.report?.verdict == .aborted, "\(what)")
                case .sigterm: #expect(d.code == 143 && d.report?.verdict == .aborted, "\(what)")
                case .sigkill: #expect(d.code != 0 && d.report == nil, "\(what)")
                case .engine:
                    #expect(d.code == 1 || d.code == 0, "\(what)")
                    if d.code == 1 { #expect(d.report?.firstFailure?.hasPrefix("engine:") == true, "\(what): \(d.report?.firstFailure ?? "")") }
                }
                if ending != .sigkill {
                    let r = try #require(d.report, "\(what): a report is written")
                    #expect(r.schema == DrillReport.schemaName && r.sandbox?.tornDown == true, "\(what): \(r.sandbox?.teardownError ?? "")")
                    #expect(!String(decoding: try r.encoded(), as: UTF8.self).contains("localhost port 80"))
                }
                // The engine is back (for the next drill) before going on.
                if ending == .engine { for _ in 0 ..< 100 where !FileManager.default.fileExists(atPath: proxy.socket) { usleep(50_000) } }
            }
            // One gc, straight to dockerd: the SIGKILLed drills' sandboxes and scratch folders go.
            let (code, out, _) = try await runCLI(["gc"])
            #expect(code == 0, "\(out)")
            // The chaos drills' projects are the ones that hold the chaos set.
            let left = try await Reaper.projects(client: source.client).filter { !before.contains($0.name) && $0.holds?.hasPrefix("set \(set):") == true }
            #expect(left.isEmpty, "left after gc: \(left.map(\.name))")
            let scratch = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()))?.filter { name in
                name.hasPrefix("acp-drill-scratch-") && name.dropFirst("acp-drill-scratch-".count).split(separator: "-").first.flatMap { Int32($0) }
                    .map { kill($0, 0) != 0 } == true
            } ?? []
            #expect(scratch.isEmpty, "scratch folders of dead drills: \(scratch)")
            print(String(format: "chaos: %d drills in %.0f s", endings.count, (ContinuousClock.now - t0).inSeconds))
        } catch { proxy.kill(); try? FileManager.default.removeItem(atPath: proxy.socket); await source.close(); throw error }
        proxy.kill()
        try? FileManager.default.removeItem(atPath: proxy.socket)
        await source.close()
    }
}
