import DockerEngine
import Foundation
import Sandbox
import Testing

@Suite(.enabled(if: engineLikely, "needs a Docker engine"))
struct SandboxLifecycleTests {
    @Test("withSandbox: ready services, labels, hardening; nothing left by label or by name afterwards")
    func success() async throws {
        let client = try await EngineFixture.connect()
        let project = testProject()
        try await Sandbox.withSandbox(StackSpec.defaultStack(), project: project, client: client, logger: quietLogger) { sandbox in
            #expect(sandbox.services.map(\.name) == ["postgres", "redis"])
            let pg = try #require(sandbox.service(role: .postgres))
            let inspect = try await client.inspectContainer(pg.containerID)
            #expect(inspect.name == "/\(project.name)-postgres-1")
            #expect(inspect.config?.labels?["dev.acp-drill.expires-at"] == SandboxProject.rfc3339(project.expiresAt))
            #expect(inspect.config?.labels?["com.docker.compose.service"] == "postgres")
            // Podman reports "ALL" as the list of the capabilities it dropped.
            #expect(inspect.hostConfig?.capDrop == ["ALL"] || (EngineFixture.podman && ["NET_RAW", "MKNOD", "SETFCAP"].allSatisfy { inspect.hostConfig?.capDrop?.contains($0) == true }))
            #expect(inspect.hostConfig?.securityOpt == ["no-new-privileges"])
            #expect((inspect.hostConfig?.shmSize ?? 0) >= 1 << 30)
            #expect(inspect.config?.cmd?.contains("fsync=off") == true, "throw-away tuning unless --durable")
            // The password was generated and works over TCP from another container on the network.
            let r = try await client.execCollect(sandbox.service("redis")!.containerID, ["sh", "-c", "getent hosts postgres | cut -d' ' -f1"])
            #expect(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == pg.address)
            let q = try await client.execCollect(pg.containerID, ["psql", "-h", "postgres", "-U", "postgres", "-Atc", "show fsync"],
                                                 env: ["PGPASSWORD=\(pg.postgresPassword ?? "")"])
            #expect(q.stdoutText == "off\n")
            #expect((pg.postgresPassword ?? "").count == 32)
        }
        #expect(try await resources(of: project.name, client) == (0, 0, 0))
        #expect(try await resourcesByName(project.name, client) == 0)
    }

    @Test("a service that exits while starting fails fast with its log lines; nothing is left")
    func failedReadiness() async throws {
        let client = try await EngineFixture.connect()
        let project = testProject()
        let spec = try StackSpec.parse(yaml: """
            services:
              postgres:
                image: acp-drill/postgres:15
                environment: {POSTGRES_PASSWORD: x}
              broken:
                image: acp-drill/redis:7
                command: sh -c 'echo cannot open the config >&2; exit 3'
                x-acp-drill-role: redis
                depends_on: [postgres]
            """)
        let start = ContinuousClock.now
        await #expect {
            try await Sandbox.provision(spec, project: project, client: client, logger: quietLogger)
        } throws: { error in
            guard let e = error as? SandboxError else { return false }
            return e.code == .exited && e.message.contains("exited with code 3") && e.message.contains("cannot open the config")
        }
        // Well under the 120 s readiness timeout, with room for a machine busy with the suites beside it.
        #expect(ContinuousClock.now - start < .seconds(75), "failed fast, not after the readiness timeout")
        #expect(try await resources(of: project.name, client) == (0, 0, 0))
    }

    @Test("a missing image is refused before anything is created")
    func missingImage() async throws {
        let client = try await EngineFixture.connect()
        let project = testProject()
        let spec = try StackSpec.parse(yaml: "services:\n  db:\n    image: acp-drill/nonexistent:0\n")
        await #expect { try await Sandbox.provision(spec, project: project, client: client, logger: quietLogger) } throws: {
            ($0 as? SandboxError)?.code == .imageMissing
        }
        #expect(try await resources(of: project.name, client) == (0, 0, 0))
    }

    @Test("three sandboxes provisioned in parallel do not collide")
    func parallel() async throws {
        let client = try await EngineFixture.connect()
        let projects = (0 ..< 3).map { _ in testProject() }
        let spec = try StackSpec.defaultStack()
        try await withThrowingTaskGroup(of: String.self) { group in
            for project in projects {
                group.addTask {
                    try await Sandbox.withSandbox(spec, project: project, client: client, logger: quietLogger) { sandbox in
                        let r = try await client.execCollect(sandbox.service("redis")!.containerID, ["redis-cli", "ping"])
                        return r.stdoutText + sandbox.project.name
                    }
                }
            }
            var seen = Set<String>()
            for try await result in group { seen.insert(result) }
            #expect(seen.count == 3)
        }
        for project in projects { #expect(try await resources(of: project.name, client) == (0, 0, 0)) }
    }

    @Test("docker-compose -p <project> ps lists the sandbox's containers")
    func composeInterop() async throws {
        let client = try await EngineFixture.connect()
        let project = testProject()
        try await Sandbox.withSandbox(StackSpec.defaultStack(), project: project, client: client, logger: quietLogger) { _ in
            let text = try await run(["docker-compose", "-p", project.name, "-f", repoRoot.appendingPathComponent("compose/drill.yml").path, "ps"])
            #expect(text.contains("\(project.name)-postgres-1"))
            #expect(text.contains("\(project.name)-redis-1"))
        }
    }

    @Test("CLI: up --json, exec with stdin and exit code, run-in, ls, down; a refused spec creates nothing (exit 2)")
    func cli() async throws {
        let client = try await EngineFixture.connect()
        let (code, out, err) = try await runCLI(["up", "--json", "--ttl", "10m"])
        #expect(code == 0, "\(err)")
        struct Up: Decodable { var project: String; var services: [S]; struct S: Decodable { var name: String } }
        let up = try JSONDecoder().decode(Up.self, from: Data(out.utf8))
        #expect(up.services.map(\.name) == ["postgres", "redis"])
        let (ls, lsOut, _) = try await runCLI(["ls"])
        #expect(ls == 0 && lsOut.contains(up.project))
        let (execCode, execOut, _) = try await runCLI(["exec", up.project, "postgres", "--", "psql", "-Atc", "select 6*7"])
        #expect(execCode == 0 && execOut == "42\n")
        let (failCode, _, failErr) = try await runCLI(["exec", up.project, "redis", "--", "sh", "-c", "echo oops >&2; exit 9"])
        #expect(failCode == 9 && failErr.contains("oops"))
        let (runCode, runOut, _) = try await runCLI(["run-in", up.project, "--image", "acp-drill/redis:7", "--", "redis-cli", "-h", "redis", "ping"])
        #expect(runCode == 0 && runOut == "PONG\n")
        let (downCode, _, _) = try await runCLI(["down", up.project])
        #expect(downCode == 0)
        #expect(try await resources(of: up.project, client) == (0, 0, 0))
        let (again, _, _) = try await runCLI(["down", up.project])
        #expect(again == 0, "down is idempotent")

        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yml")
        try "services:\n  db:\n    image: acp-drill/postgres:15\n    ports: [\"5432:5432\"]\n".write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        let (badCode, _, badErr) = try await runCLI(["up", "-f", bad.path])
        #expect(badCode == 2)
        #expect(badErr.contains("line 4") && badErr.contains("ports"))
        #expect(!badErr.contains("starting "), "refused before any project was created")
    }

    @Test("SIGINT during provisioning: teardown runs, exit 130, nothing left")
    func sigint() async throws {
        let client = try await EngineFixture.connect()
        let (code, _, err) = try await runCLI(["up", "--ttl", "10m"], until: { $0.contains("service postgres (") }, signal: SIGINT)
        #expect(code == 130, "\(err)")
        let project = try #require(err.split(separator: "\n").first { $0.hasPrefix("starting ") }.map { String($0.dropFirst("starting ".count)) })
        #expect(try await resources(of: project, client) == (0, 0, 0))
        #expect(try await resourcesByName(project, client) == 0)
    }

    @Test("SIGKILL leaves the project behind; once expired, gc removes it (and never a live one)")
    func sigkillThenGC() async throws {
        let client = try await EngineFixture.connect()
        let live = testProject(ttl: .seconds(3600))
        let liveSandbox = try await Sandbox.provision(try StackSpec.parse(yaml: "services:\n  r:\n    image: acp-drill/redis:7\n"),
                                                      project: live, client: client, logger: quietLogger)
        let (code, _, err) = try await runCLI(["up", "--ttl", "2s"], until: { $0.contains(" ready") }, signal: SIGKILL)
        #expect(code == 9 || code == 137 || code == -9 || code != 0)
        let project = try #require(err.split(separator: "\n").first { $0.hasPrefix("starting ") }.map { String($0.dropFirst("starting ".count)) })
        #expect(try await resources(of: project, client).containers > 0, "a killed run cannot clean up")
        try await Task.sleep(for: .seconds(3))
        let wouldRemove = try await Reaper.gc(client: client, dryRun: true, logger: quietLogger).map(\.name)
        #expect(wouldRemove.contains(project))
        #expect(!wouldRemove.contains(live.name), "a live, unexpired project is never collected")
        #expect(try await resources(of: project, client).containers > 0, "dry run removes nothing")
        let (gcCode, gcOut, _) = try await runCLI(["gc"])
        #expect(gcCode == 0 && gcOut.contains(project))
        #expect(try await resources(of: project, client) == (0, 0, 0))
        #expect(try await resources(of: live.name, client).containers == 1)
        try await liveSandbox.teardown()
    }
}
