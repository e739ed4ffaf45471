import Common
import DockerEngine
import Foundation
import Logging
import Sandbox
import Synchronization
import Testing

/// The swarm backend on a real multi-node swarm (scripts/swarm.sh up 3; scripts/test.sh runs this suite
/// with ACP_TEST_SWARM set to the manager's address and ACP_TEST_SWARM_NODES to every node's own socket).
/// Each test looks at every node's own engine afterwards: nothing of its project may be left on any.
@Suite("Sandboxes on a Docker Swarm", .serialized, .enabled(if: SwarmFixture.manager != nil))
struct SwarmTests {
    @Test("up spreads the services over the nodes on an internal overlay; the six assertions hold; exec and jobs reach across nodes; down leaves nothing on any node")
    func lifecycle() async throws {
        let swarm = try await SwarmFixture.connect()
        let project = testProject()
        let sandbox = try await swarm.backend.provision(try StackSpec.defaultStack(), project: project, options: SandboxOptions(),
                                                        holdBack: [], logger: quietLogger, progress: nil)
        do {
            let pg = try #require(sandbox.service(role: .postgres))
            let redis = try #require(sandbox.service(role: .redis))
            #expect(pg.node != nil && redis.node != nil)
            #expect(pg.node != redis.node, "Postgres and Redis are spread over two nodes: \(pg.node ?? "?"), \(redis.node ?? "?")")
            #expect(pg.address?.isEmpty == false)
            let checks = await sandbox.assertIsolation()
            #expect(Set(checks.map(\.name)) == ["isolation.dns", "isolation.tcp", "isolation.network", "isolation.volumes", "isolation.host", "isolation.redis"])
            for c in checks { #expect(c.status == .passed, "\(c.name): \(c.evidence)") }
            #expect(checks.first { $0.name == "isolation.volumes" }?.evidence.contains("no volume at all") == true)

            // A command "in" Postgres runs in its workspace on its node, through the relay: PGHOST is its name.
            let target = PostgresTargetEnv(pg)
            let r = try await sandbox.run(["psql", "-X", "-Atc", "select 6*7"], in: pg, env: target.env)
            #expect(r.exitCode == 0, "\(r.stderrText)")
            #expect(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "42")
            let fed = try await sandbox.run(["psql", "-X", "-At"], in: pg, env: target.env, stdin: BytesInput("select 'from stdin';\n"))
            #expect(fed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "from stdin", "\(fed.stderrText)")
            let failed = try await sandbox.run(["sh", "-c", "echo out; echo err >&2; exit 7"], in: pg, env: [])
            #expect(failed.exitCode == 7)
            #expect(failed.stdoutText == "out\n" && failed.stderrText == "err\n")
            // Bulk input and output stream through (no size limit), byte for byte, and files stay between commands.
            let big = Data((0 ..< 6_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
            let stored = try await sandbox.run(["sh", "-c", "umask 077; cat > /tmp/blob && wc -c < /tmp/blob"], in: pg, env: [], stdin: BytesInput(big))
            #expect(stored.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "6000000", "\(stored.stderrText)")
            let back = try await sandbox.run(["cat", "/tmp/blob"], in: pg, env: [])
            #expect(Data(back.stdout) == big)
            // Several at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0 ..< 6 {
                    group.addTask {
                        let r = try await sandbox.run(["sh", "-c", "sleep 0.3; echo $0", "\(i)"], in: pg, env: [])
                        #expect(r.stdoutText == "\(i)\n")
                    }
                }
                try await group.waitForAll()
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("swarm-copy-\(UUID().uuidString)")
            try Data("copied\n".utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            try await swarm.backend.copy([(name: "note.txt", hostPath: file.path)], into: pg, directory: "/tmp/copied")
            #expect(try await sandbox.run(["cat", "/tmp/copied/note.txt"], in: pg, env: []).stdoutText == "copied\n")
            // A one-off job (run-in) reaches both services by name across the overlay, and nothing outside.
            let out = Mutex<[UInt8]>([])
            let outcome = try await swarm.backend.runJob(
                image: "acp-drill/postgres:15",
                command: ["bash", "-c", #"psql -Atc "select 'pg ' || 1"; (exec 3<>/dev/tcp/redis/6379 && echo redis open) || echo redis closed; getent hosts example.com || echo no outside name"#],
                environment: sandbox.connectionEnvironment, user: nil, in: sandbox) { _, bytes in out.withLock { $0.append(contentsOf: bytes) } }
            let text = String(decoding: out.withLock { $0 }, as: UTF8.self)
            #expect(outcome.exitCode == 0)
            #expect(outcome.imageID?.hasPrefix("sha256:") == true)
            #expect(text.contains("pg 1") && text.contains("redis open") && text.contains("no outside name"), "\(text)")
        } catch {
            _ = try? await sandbox.teardown()
            throw error
        }
        let report = try await sandbox.teardown()
        #expect(report.containers >= 3 && report.networks == 2, "the services, the workspace; the internal and the relay network")
        try await swarm.expectNothingLeft(of: project.name)
    }

    @Test("A drill on the swarm: the databases spread over the nodes and restored at once, checks across nodes, isolation on the overlay, nodes in the report; SIGINT mid-restore tears everything down")
    func drill() async throws {
        let swarm = try await SwarmFixture.connect()
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("swarm")
            let env = ["DOCKER_HOST": swarm.managerAddress]
            let d = try await source.drill(repo, name: "swarm", ["--backend", "swarm"], env: env)
            #expect(d.code == 0, "\(d.stdout)\n\(d.stderr)")
            let r = try #require(d.report)
            #expect(r.verdict == .passed, "\(r.checks.filter { $0.status != .passed && $0.status != .skipped }.map { "\($0.name): \($0.evidence)" })")
            #expect(r.databases.count == 11 && r.databases.allSatisfy { $0.restored && $0.node != nil && $0.instance != nil })
            let nodes = Set(r.databases.compactMap(\.node))
            #expect(nodes.count >= 2, "databases on at least two nodes: \(nodes)")
            let isolation = r.checks.filter { $0.name.hasPrefix("isolation.") }
            #expect(isolation.count == 6 && isolation.allSatisfy { $0.status == .passed }, "\(isolation.map { "\($0.name): \($0.evidence)" })")
            #expect(r.checks.first { $0.name == "reconcile" }?.status == .passed, "reconcile reads acp_audit and acp_usage wherever they are")
            #expect(r.checks.first { $0.name == "verify_chain" }?.status == .passed)
            let project = try #require(r.sandbox?.project)
            try await swarm.expectNothingLeft(of: project)

            let i = try await source.drill(repo, name: "swarm-sigint", ["--backend", "swarm"], env: env,
                                           until: { $0.contains("restoring acp_") }, signal: SIGINT)
            #expect(i.code == 130, "\(i.stderr)")
            let ir = try #require(i.report)
            #expect(ir.verdict == .aborted && ir.sandbox?.tornDown == true)
            try await swarm.expectNothingLeft(of: try #require(ir.sandbox?.project))
        } catch {
            await source.close()
            throw error
        }
        await source.close()
    }

    @Test("A drill SIGKILLed on the swarm leaves an orphan owned by a dead process: gc through the manager names it and removes it from every node")
    func sigkillOrphan() async throws {
        let swarm = try await SwarmFixture.connect()
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("swarm-killed")
            let env = ["DOCKER_HOST": swarm.managerAddress]
            let killed = try await source.drill(repo, name: "swarm-killed", ["--backend", "swarm"], env: env,
                                                until: { $0.contains("restoring acp_") }, signal: SIGKILL)
            #expect(killed.code != 0 && killed.report == nil)
            let orphan = try #require(try await swarm.backend.projects().first { $0.kind == "drill" && $0.ownerState == .gone },
                                      "the killed drill's services are left on the swarm, and their owner is gone")
            #expect(orphan.holds?.contains("acp_audit") == true)
            let (code, out, err) = try await runCLI(["gc"], environment: env)
            #expect(code == 0, "\(err)")
            #expect(out.contains(orphan.name), "\(out)")
            try await swarm.expectNothingLeft(of: orphan.name)
        } catch {
            await source.close()
            throw error
        }
        await source.close()
    }

    @Test("A production-named service on the swarm answers on its own overlay and not from the sandbox: tcp and dns hold, proven against a positive control")
    func productionUnreachable() async throws {
        let swarm = try await SwarmFixture.connect()
        let manager = swarm.backend.client
        // The stand-in, labelled as a test project of its own so that it is removed by label.
        let prod = testProject()
        let prodNet = "\(prod.name)_prodnet"
        try await manager.createNetwork(NetworkCreate(name: prodNet, driver: "overlay", internal: true, attachable: false, labels: prod.labels))
        var redis = ServiceCreate.ContainerSpec(image: "acp-drill/redis:7")
        redis.labels = prod.labels
        redis.hostname = "acp_redis"
        let prodService = try await manager.createService(ServiceCreate(
            name: "\(prod.name)_acp_redis", labels: prod.labels,
            taskTemplate: .init(containerSpec: redis, restartPolicy: .init(condition: "none"), networks: [.init(target: prodNet, aliases: ["acp_redis"])]),
            mode: .replicated(1), endpointSpec: .init(mode: "dnsrr")))
        let project = testProject()
        do {
            var address: String?
            for _ in 0 ..< 100 where address == nil {
                address = try await manager.listTasks(filters: ["service": [prodService]]).first { $0.status?.state == "running" }?.address(on: prodNet)
                if address == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let ip = try #require(address, "the stand-in runs")
            // Positive control: from its own network, the probe's own test finds it open.
            var probe = ServiceCreate.ContainerSpec(image: "acp-drill/postgres:15")
            probe.labels = prod.labels
            probe.args = ["bash", "-c", "timeout 2 bash -c 'exec 3<>/dev/tcp/\(ip)/6379' && echo open || echo closed"]
            let control = try await manager.createService(ServiceCreate(
                name: "\(prod.name)_control", labels: prod.labels,
                taskTemplate: .init(containerSpec: probe, restartPolicy: .init(condition: "none"), networks: [.init(target: prodNet)]),
                mode: .replicated(1)))
            var said = ""
            for _ in 0 ..< 150 where !said.contains("open") && !said.contains("closed") {
                let out = OutputBox()
                try await manager.serviceLogs(control) { _, bytes in out.append(bytes) }
                said = out.text
                if said.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(said.contains("open"), "the control reaches the stand-in on its own network: \(said)")

            let sandbox = try await swarm.backend.provision(try StackSpec.defaultStack(), project: project, options: SandboxOptions(),
                                                            holdBack: [], logger: quietLogger, progress: nil)
            let checks = await sandbox.assertIsolation()
            _ = try await sandbox.teardown()
            let tcp = try #require(checks.first { $0.name == "isolation.tcp" })
            #expect(tcp.status == .passed && tcp.evidence.contains("unreachable") && tcp.evidence.contains("\(ip):6379"), "\(tcp.evidence)")
            #expect(checks.first { $0.name == "isolation.dns" }?.status == .passed)
        } catch {
            _ = try? await swarm.backend.teardown(project: project.name, logger: quietLogger)
            _ = try? await swarm.backend.teardown(project: prod.name, logger: quietLogger)
            throw error
        }
        _ = try await swarm.backend.teardown(project: prod.name, logger: quietLogger)
        try await swarm.expectNothingLeft(of: project.name)
        try await swarm.expectNothingLeft(of: prod.name)
    }

    @Test("The CLI on a swarm: up --json, ls, exec passes the exit code, run-in, gc of an expired project; nothing left on any node")
    func cli() async throws {
        let swarm = try await SwarmFixture.connect()
        let env = ["DOCKER_HOST": swarm.managerAddress]
        let (code, out, err) = try await runCLI(["up", "--json", "--ttl", "3s"], environment: env)
        #expect(code == 0, "\(err)")
        struct Up: Decodable {
            struct S: Decodable { var name: String; var node: String? }
            var project: String
            var services: [S]
        }
        let up = try JSONDecoder().decode(Up.self, from: Data(out.utf8))
        #expect(up.services.allSatisfy { $0.node != nil }, "every service names its node")
        let (lsCode, ls, _) = try await runCLI(["ls"], environment: env)
        #expect(lsCode == 0 && ls.contains(up.project), "\(ls)")
        let (execCode, execOut, execErr) = try await runCLI(["exec", up.project, "postgres", "--", "sh", "-c", "psql -Atc 'select 5'; exit 3"], environment: env)
        #expect(execCode == 3, "\(execErr)")
        #expect(execOut.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
        let (runCode, runOut, runErr) = try await runCLI(["run-in", up.project, "--image", "acp-drill/redis:7", "--", "sh", "-c", "redis-cli -u \"$REDIS_URL\" ping"], environment: env)
        #expect(runCode == 0 && runOut.contains("PONG"), "\(runErr)")
        try await Task.sleep(for: .seconds(3))
        let (gcCode, gcOut, gcErr) = try await runCLI(["gc"], environment: env)
        #expect(gcCode == 0, "\(gcErr)")
        #expect(gcOut.contains(up.project), "\(gcOut)")
        try await swarm.expectNothingLeft(of: up.project)
    }

    @Test("SIGINT while up provisions on the swarm: teardown runs through the manager, exit 130, nothing left on any node")
    func sigint() async throws {
        let swarm = try await SwarmFixture.connect()
        let (code, _, err) = try await runCLI(["up", "--ttl", "10m"], environment: ["DOCKER_HOST": swarm.managerAddress],
                                              until: { $0.contains("service postgres (") }, signal: SIGINT)
        #expect(code == 130, "\(err)")
        let project = try #require(err.split(separator: "\n").first { $0.hasPrefix("starting ") }.map { String($0.dropFirst("starting ".count)) })
        try await swarm.expectNothingLeft(of: project)
    }

    @Test("A task that cannot start fails provisioning at once with the node's own error, and is torn down")
    func taskFails() async throws {
        let swarm = try await SwarmFixture.connect()
        let project = testProject()
        let spec = try StackSpec.parse(yaml: "services:\n  db:\n    image: acp-drill/postgres:15\n  job:\n    image: acp-drill/redis:7\n    command: [\"sh\", \"-c\", \"echo dying; exit 9\"]\n")
        let t0 = ContinuousClock.now
        let error = await #expect(throws: SandboxError.self) {
            _ = try await swarm.backend.provision(spec, project: project, options: SandboxOptions(), holdBack: [], logger: quietLogger, progress: nil)
        }
        #expect(error?.message.contains("non-zero exit (9)") == true, "the node's own error: \(String(describing: error))")
        #expect(error?.message.contains("on node acp-swarm-") == true, "names the node")
        #expect(ContinuousClock.now - t0 < .seconds(60), "a task that exits fails the start at once, not at the readiness timeout")
        try await swarm.expectNothingLeft(of: project.name)
    }

    @Test("--backend swarm refuses an engine that is no manager, and the commands that run on one engine only")
    func refusals() async throws {
        let swarm = try await SwarmFixture.connect()
        let (code, _, err) = try await runCLI(["demo", "prod", "up", "--backend", "swarm"], environment: ["DOCKER_HOST": swarm.managerAddress])
        #expect(code == 2, "\(err)")
        #expect(err.contains("runs on one engine, not on a swarm"), "\(err)")
        if let worker = swarm.nodeAddresses.dropFirst().first {
            let (c, _, e) = try await runCLI(["ls", "--backend", "swarm"], environment: ["DOCKER_HOST": worker])
            #expect(c == 2 && e.contains("not a manager"), "\(e)")
        }
    }
}

/// The test swarm: its manager, through which the backend works, and each node's own engine, asked only
/// by the tests to prove that nothing is left on it.
struct SwarmFixture: Sendable {
    static let manager = ProcessInfo.processInfo.environment["ACP_TEST_SWARM"]
    static let nodes = (ProcessInfo.processInfo.environment["ACP_TEST_SWARM_NODES"] ?? "")
        .split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }).map(String.init)

    let managerAddress: String
    let nodeAddresses: [String]
    let backend: SwarmSandboxBackend
    let nodeClients: [DockerClient]

    static func connect() async throws -> SwarmFixture {
        let manager = try #require(Self.manager)
        let env = HostEnvironment.system(variables: ProcessInfo.processInfo.environment)
        let client = try await DockerClient.connect(hostFlag: manager, environment: env, logger: quietLogger)
        var nodeClients: [DockerClient] = []
        for node in nodes { nodeClients.append(try await DockerClient.connect(hostFlag: node, environment: env, logger: quietLogger)) }
        #expect(nodeClients.count >= 3, "ACP_TEST_SWARM_NODES names every node's socket (scripts/swarm.sh nodes)")
        return SwarmFixture(managerAddress: manager, nodeAddresses: nodes, backend: SwarmSandboxBackend(client: client), nodeClients: nodeClients)
    }

    /// Nothing of `project` on the manager (services, tasks, networks), and, on every node's own
    /// engine, no container or network of it. A node removes a stopped task's container a few seconds
    /// after the manager has dropped the task, so the nodes are given up to 30 s.
    func expectNothingLeft(of project: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let manager = backend.client
        let filter = DockerFilters.label(SandboxProject.Label.project, project)
        #expect(try await manager.listServices(filters: filter).isEmpty, "services", sourceLocation: sourceLocation)
        #expect(try await manager.listNetworks(filters: filter).isEmpty, "networks", sourceLocation: sourceLocation)
        #expect(try await manager.listTasks().filter { $0.spec?.containerSpec?.labels?[SandboxProject.Label.project] == project }.isEmpty,
                "tasks", sourceLocation: sourceLocation)
        let deadline = ContinuousClock.now + .seconds(30)
        var left: [String] = []
        repeat {
            left = []
            for (address, node) in zip(nodeAddresses, nodeClients) {
                let containers = try await node.listContainers(filters: filter)
                let networks = try await node.listNetworks().filter { $0.name.hasPrefix(project) || $0.labels?[SandboxProject.Label.project] == project }
                left += containers.map { "\(address): container \($0.name)" } + networks.map { "\(address): network \($0.name)" }
            }
            if left.isEmpty { return }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        Issue.record("left on the nodes 30 s after teardown: \(left.joined(separator: "; "))", sourceLocation: sourceLocation)
    }
}

/// Bytes gathered from a log stream.
final class OutputBox: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func append(_ chunk: UnsafeRawBufferPointer) { bytes.withLock { $0.append(contentsOf: chunk) } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}

/// A Postgres service's connection settings for a command beside it (PostgresTarget's, without Drill).
struct PostgresTargetEnv {
    let env: [String]
    init(_ service: Sandbox.Service) {
        env = ["PGPASSWORD=\(service.postgresPassword ?? "")", "PGUSER=\(service.postgresUser ?? "postgres")", "PGHOST=127.0.0.1",
               "PGDATABASE=\(service.postgresDatabase ?? "postgres")"]
    }
}
