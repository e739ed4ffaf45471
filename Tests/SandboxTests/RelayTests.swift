import Common
import Foundation
@testable import Sandbox
import Synchronization
import Testing

/// The swarm workspace's command relay, end to end on this machine: the real agent script in a real bash,
/// calling a real `RelayServer` on loopback (on a swarm the agent runs in a task; the protocol is the same).
@Suite("The workspace relay", .serialized)
struct RelayTests {
    /// The agent, started in bash with the relay's address and its token.
    final class Agent: Sendable {
        let relay: RelayServer
        let token: String
        let process: Process

        init() throws {
            relay = try RelayServer.shared(host: "127.0.0.1")
            token = relay.registerAgent()
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", SwarmSandboxBackend.agentScript]
            process.environment = ["ACP_RELAY": "127.0.0.1 \(relay.port)", "ACP_RELAY_AGENT": token,
                                   "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// SIGKILL: a test process may hold SIGTERM blocked, and its children inherit that mask. Not waited
        /// for: Foundation's wait lasts until the agent's last child (a `cat` on the relay's held call) ends.
        func stop() { kill(process.processIdentifier, SIGKILL) }

        func run(_ command: [String], env: [String] = [], stdin: [UInt8]? = nil, pickup: Duration = .seconds(10)) async throws -> CommandResult {
            let out = OutputCollector()
            let code = try await relay.execute(agent: token, script: { t in
                SwarmSandboxBackend.commandScript(token: t, command: command, env: env, hasStdin: stdin != nil)
            }, stdin: stdin.map { BytesInput(Data($0)) }, pickup: pickup) { out.append($0, $1) }
            return out.result(exitCode: code)
        }
    }

    @Test("arguments and environment arrive byte for byte; stdout, stderr and the exit code come back apart")
    func quoting() async throws {
        let agent = try Agent()
        defer { agent.stop() }
        let args = ["plain", "two words", "it's", #"double "quoted""#, "$HOME and `date` and $(id)", "new\nline", "tab\there", "ünïcødé", "", "-n", "*"]
        let r = try await agent.run(["printf", "%s|"] + args)
        #expect(r.exitCode == 0, "\(r.stderrText)")
        #expect(r.stdoutText == args.map { $0 + "|" }.joined())
        let secret = #"p@ss 'w"o$rd`\"#
        let e = try await agent.run(["sh", "-c", #"printf '%s' "$SECRET"; echo oops >&2; exit 42"#], env: ["SECRET=\(secret)", "not a name=x"])
        #expect(e.exitCode == 42)
        #expect(e.stdoutText == secret)
        #expect(e.stderrText == "oops\n")
    }

    @Test("stdin streams through whole (binary, megabytes); a command that stops reading early is no error; several run at once")
    func streams() async throws {
        let agent = try Agent()
        defer { agent.stop() }
        var rng = SplitMix64(seed: 7)
        let blob = (0 ..< 3_000_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let echoed = try await agent.run(["cat"], stdin: blob)
        #expect(echoed.exitCode == 0)
        #expect(echoed.stdout == blob)
        let head = try await agent.run(["head", "-c", "10"], stdin: blob)
        #expect(head.exitCode == 0 && head.stdout == Array(blob.prefix(10)))
        let none = try await agent.run(["sh", "-c", "cat; echo end"])
        #expect(none.stdoutText == "end\n", "no stdin: an empty one")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0 ..< 8 {
                group.addTask {
                    let r = try await agent.run(["sh", "-c", "sleep 0.2; echo $0", "\(i)"])
                    #expect(r.stdoutText == "\(i)\n")
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("a command whose exit code comes without its output, or whose output ends without an exit code, fails within seconds instead of waiting for ever")
    func lostConnections() async throws {
        let agent = try Agent()
        defer { agent.stop() }
        func run(_ script: @escaping @Sendable (String) -> String) async throws -> Int {
            try await agent.relay.execute(agent: agent.token, script: script, stdin: nil, pickup: .seconds(10)) { _, _ in }
        }
        let t0 = ContinuousClock.now
        let noOutput = await #expect(throws: SandboxError.self) {
            _ = try await run { t in #"exec 8<>"/dev/tcp/$host/$port" && printf 'exit %s 0\n' \#(t) >&8; exec 8>&-"# }
        }
        #expect(noOutput?.message.contains("lost the command's output") == true, "\(String(describing: noOutput))")
        let noExit = await #expect(throws: SandboxError.self) {
            _ = try await run { t in
                #"exec 6<>"/dev/tcp/$host/$port" && printf 'out %s\n' \#(t) >&6; exec 7<>"/dev/tcp/$host/$port" && printf 'err %s\n' \#(t) >&7; exec 6>&- 7>&-"#
            }
        }
        #expect(noExit?.message.contains("without an exit code") == true, "\(String(describing: noExit))")
        #expect(ContinuousClock.now - t0 < .seconds(30))
    }

    @Test("an agent that is gone fails the command after its pickup time, naming why; an unknown agent at once")
    func failures() async throws {
        let agent = try Agent()
        #expect(try await agent.run(["true"]).exitCode == 0)
        agent.stop()
        let t0 = ContinuousClock.now
        let error = await #expect(throws: SandboxError.self) { _ = try await agent.run(["true"], pickup: .seconds(2)) }
        #expect(ContinuousClock.now - t0 < .seconds(30))
        #expect(error?.message.contains("did not take the command") == true, "\(String(describing: error))")
        let relay = try RelayServer.shared(host: "127.0.0.1")
        await #expect(throws: SandboxError.self) {
            _ = try await relay.execute(agent: "nobody", script: { _ in "" }, stdin: nil, pickup: .seconds(1)) { _, _ in }
        }
    }
}

/// Names and sizes of the swarm backend's specs.
struct SwarmNamingTests {
    @Test("service names stay within the swarm's 63 characters, unique, and keep their start")
    func serviceNames() {
        let project = SandboxProject(name: "acp_drill_test_20261206T213000Z_abc123", kind: .test, expiresAt: Date())
        #expect(SwarmSandboxBackend.serviceName(project, "postgres") == "acp_drill_test_20261206T213000Z_abc123_postgres")
        let a = SwarmSandboxBackend.serviceName(project, "ws-1a2b3c-a-very-long-service-name-from-a-stack-file")
        let b = SwarmSandboxBackend.serviceName(project, "ws-1a2b3c-a-very-long-service-name-from-a-stack-filf")
        #expect(a.count <= 63 && b.count <= 63 && a != b)
        #expect(a.hasPrefix("acp_drill_test_20261206T213000Z_abc123_ws-1a2b3c-"))
    }

    @Test("tmpfs sizes as Compose writes them")
    func tmpfsSizes() {
        let table: [(String, Int64?)] = [("size=64m", 64 << 20), ("64m", 64 << 20), ("mode=1777,size=1g", 1 << 30), ("size=512k", 512 << 10),
                                         ("size=1000", 1000), ("mode=1777", nil), ("", nil), ("size=lots", nil)]
        for (text, want) in table { #expect(SwarmSandboxBackend.tmpfsSize(text) == want, "\(text)") }
    }
}
