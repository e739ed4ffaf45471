import Common
import DockerEngine
import Drill
import Foundation
import Synchronization
import Testing

/// The engine goes away mid-drill, for real: the drill talks to dockerd through a unix-socket proxy
/// (scripts/socket_proxy.py) that the test kills during the restore and starts again a few seconds later.
/// Other suites keep their own connection to dockerd, undisturbed.
/// Heavy (a proxied drill), so `scripts/test.sh` runs it apart, after the main suite (`ACP_DRILL_APART=1`).
@Suite(.serialized, .enabled(if: runsApart, "run apart by scripts/test.sh (ACP_DRILL_APART=1)")) struct EngineLossTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts").path

    final class Proxy: @unchecked Sendable {
        let socket: String
        let lock = NSLock()
        var process: Process?

        init(socket: String) { self.socket = socket }

        func start() throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", "\(EngineLossTests.scripts)/socket_proxy.py", socket, "/var/run/docker.sock"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            lock.withLock { process = p }
            for _ in 0 ..< 100 where !FileManager.default.fileExists(atPath: socket) { usleep(50_000) }
            usleep(200_000)
        }

        func kill() {
            lock.withLock {
                if let p = process { Foundation.kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
                process = nil
            }
        }
    }

    @Test("the engine stops answering mid-restore: the verdict names it first, teardown waits for it, nothing is left, no 'localhost port 80'")
    func engineGoesAwayAndComesBack() async throws {
        let source = try await DrillSource.make()
        let proxy = Proxy(socket: "/tmp/acp-drill-engine-\(UUID().uuidString.prefix(8)).sock")
        do {
            try proxy.start()
            let repo = try await source.backup("engine-loss")
            let gone = Mutex(false)
            let d = try await source.drill(repo, name: "engine-loss", env: ["DOCKER_HOST": "unix://\(proxy.socket)"], until: { text in
                guard text.contains("restoring acp_") else { return false }
                if !gone.withLock({ g in defer { g = true }; return g }) {
                    proxy.kill()
                    // The engine comes back 4 s later, well within teardown's wait.
                    Thread.detachNewThread { sleep(4); try? proxy.start() }
                }
                return true
            }, signal: 0)
            #expect(d.code == 1, "\(d.stdout)\n\(d.stderr)")
            let report = try #require(d.report)
            #expect(report.firstFailure?.hasPrefix("engine: the engine at unix://\(proxy.socket) stopped answering during restore") == true,
                    "\(report.firstFailure ?? "none")")
            #expect(d.lastLine.hasPrefix("Restore drill FAILED — engine:"))
            #expect(!(d.stdout + d.stderr).contains("localhost port 80"), "libcurl's placeholder host is never shown for a unix socket")
            let reportText = String(decoding: try report.encoded(), as: UTF8.self)
            #expect(!reportText.contains("localhost port 80"))
            #expect(report.sandbox?.tornDown == true, "teardown waited for the engine and removed the sandbox: \(report.sandbox?.teardownError ?? "")")
            #expect(d.stderr.contains("is not answering; waiting up to"), "teardown says it waits")
        } catch { proxy.kill(); try? FileManager.default.removeItem(atPath: proxy.socket); await source.close(); throw error }
        proxy.kill()
        try? FileManager.default.removeItem(atPath: proxy.socket)
        await source.close()
    }

    @Test("an engine that is not there is named by its socket, not libcurl's placeholder host")
    func noEngine() async throws {
        let (code, _, err) = try await runCLI(["ls", "--host", "unix:///tmp/acp-drill-no-engine-\(getpid()).sock"])
        #expect(code == 2 && !err.contains("localhost port 80") && err.contains("no socket at unix:///tmp/acp-drill-no-engine-"), "\(err)")
    }
}

/// Suites that load the machine run apart from the main suite under scripts/test.sh (whose main run sets
/// ACP_DRILL_REQUIRE_DOCKER=1 without ACP_DRILL_APART); a plain `swift test` runs them with the rest.
let runsApart = ProcessInfo.processInfo.environment["ACP_DRILL_APART"] == "1" || ProcessInfo.processInfo.environment["ACP_DRILL_REQUIRE_DOCKER"] != "1"
