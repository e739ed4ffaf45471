import ArgumentParser
import DockerEngine
import Foundation
import Repository
import Sandbox

/// `acp-drill bench sandbox`: time to ready and teardown against docker-compose and a bare docker run.
struct BenchSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Measure sandbox time-to-ready and teardown against docker-compose and a bare docker run.",
        discussion: prose("""
            Each figure is the median of --runs, measured in this run:
              ours      network + Postgres answering a query over TCP + Redis PONG
                        (Sandbox.provision)
              compose   docker-compose up -d of an equivalent file (same images,
                        internal network), then the same readiness probes through
                        `docker exec`
              floor     docker run -d of Postgres alone, then
                        `docker exec psql -h 127.0.0.1 -c 'select 1'`
              teardown  Sandbox.teardown vs docker-compose down -v
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Runs per figure.") var runs = 3
    @Option(help: "The engine's own CLI (default: docker for dockerd, podman for Podman).") var docker: String?
    @Option(help: "The Compose CLI (default: docker-compose; podman-compose for Podman where it is installed).") var compose: String?

    func run() async throws {
        let client = try await engine.connect()
        // Each engine against its own tools.
        let podman = client.libpodVersion != nil
        let docker = self.docker ?? (podman ? "podman" : "docker")
        let compose = self.compose ?? (podman && ProcessPipeline.onPath("podman-compose") ? "podman-compose" : "docker-compose")
        print("engine: \(podman ? "Podman" : "Docker Engine") at \(client.host.endpoint); baselines: \(compose), \(docker) run")
        let logger = engine.logger
        let spec = try StackSpec.defaultStack()
        var ours: [Double] = [], oursDown: [Double] = []
        var composeUp: [Double] = [], composeDown: [Double] = [], floor: [Double] = []
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-bench-compose-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("docker-compose.yml").path
        try """
            version: "2.4"
            services:
              postgres:
                image: acp-drill/postgres:15
                environment: {POSTGRES_PASSWORD: bench}
                labels: {dev.acp-drill.project: bench-compose, dev.acp-drill.kind: bench}
                networks: [net]
              redis:
                image: acp-drill/redis:7
                labels: {dev.acp-drill.project: bench-compose, dev.acp-drill.kind: bench}
                networks: [net]
            networks:
              net: {internal: true, labels: {dev.acp-drill.project: bench-compose, dev.acp-drill.kind: bench}}
            """.write(toFile: file, atomically: true, encoding: .utf8)

        for i in 0 ..< max(1, runs) {
            let project = SandboxProject.new(prefix: "acp_bench", kind: .test, ttl: .seconds(600))
            var sandbox: Sandbox?
            ours.append(try await timed {
                sandbox = try await Sandbox.provision(spec, project: project, client: client, logger: logger)
            })
            oursDown.append(try await timed { try await sandbox!.teardown() })

            let name = "acpbench\(getpid())x\(i)"
            composeUp.append(try timedSync {
                try sh([compose, "-p", name, "-f", file, "up", "-d"])
                try waitUntil { try sh([docker, "exec", "-e", "PGPASSWORD=bench", "\(name)_postgres_1", "psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select 1"]) }
                try waitUntil { try sh([docker, "exec", "\(name)_redis_1", "redis-cli", "ping"], expect: "PONG") }
            })
            // What the baseline made, by its label: podman-compose's `down -v` leaves the network and the
            // images' anonymous volumes behind, and a benchmark leaves nothing.
            let composed = try await client.listContainers(all: true, filters: .label("dev.acp-drill.project", "bench-compose"))
            var volumes: [String] = []
            for c in composed { volumes += (try await client.inspectContainer(c.id).mounts ?? []).compactMap { $0.type == "volume" ? $0.name : nil } }
            composeDown.append(try timedSync { try sh([compose, "-p", name, "-f", file, "down", "-v"]) })
            for v in volumes { try? await client.removeVolume(v, force: true) }
            for n in try await client.listNetworks(filters: .label("dev.acp-drill.project", "bench-compose")) { try? await client.removeNetwork(n.id) }

            let pg = "acp_bench_floor_\(getpid())_\(i)"
            floor.append(try timedSync {
                // No descriptor of ours reaches it: Podman's conmon keeps whatever `podman run -d` inherited (our
                // pipe, and any descriptor Foundation's Process lets through) for the container's life, and
                // reading the pipe to its end would wait for ever.
                try sh(["bash", "-c", #"for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null; done; "$0" "$@" >/dev/null 2>&1 </dev/null"#,
                        docker, "run", "-d", "--name", pg, "--network", "none",
                        "--label", "dev.acp-drill.kind=bench", "-e", "POSTGRES_PASSWORD=bench", "acp-drill/postgres:15"])
                try waitUntil { try sh([docker, "exec", "-e", "PGPASSWORD=bench", pg, "psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select 1"]) }
            })
            try sh([docker, "rm", "-f", "-v", pg])
        }
        let o = med(ours), c = med(composeUp), f = med(floor), od = med(oursDown), cd = med(composeDown)
        print(String(format: "time to ready (Postgres + Redis): ours %.2f s, %@ up -d + wait %.2f s — %.2f× compose (goal ≤ 0.7×)", o, compose, c, o / c))
        print(String(format: "floor (bare %@ run of Postgres to its first query): %.2f s — ours %.2f× the floor (goal ≤ 1.3×)", docker, f, o / f))
        print(String(format: "teardown: ours %.2f s, %@ down -v %.2f s — %.2f× compose (goal ≤ 0.7×)", od, compose, cd, od / cd))
        print("runs: \(runs); samples ours \(ours.map { String(format: "%.2f", $0) }), compose \(composeUp.map { String(format: "%.2f", $0) }), floor \(floor.map { String(format: "%.2f", $0) })")
    }

    func sh(_ args: [String], expect: String? = nil) throws {
        let output = try runProgram(args)
        if let expect, !output.contains(expect) { throw ValidationError("\(args.prefix(3).joined(separator: " ")) …: no \(expect)") }
    }

    func waitUntil(_ probe: () throws -> Void) throws {
        let deadline = Date().addingTimeInterval(60)
        while true {
            do { try probe(); return } catch {
                if Date() > deadline { throw error }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    func med(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
}
