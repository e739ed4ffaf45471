import Foundation
import Sandbox
import Testing

@Suite struct StackSpecPolicyTests {
    /// Each stack breaks isolation in one way; the error must name the key and the line it is on.
    @Test("isolation-breaking keys are refused, naming the key and its line", arguments: [
        ("services:\n  db:\n    image: postgres:15\n    ports:\n      - \"5432:5432\"\n", "ports", 4),
        ("services:\n  db:\n    image: postgres:15\n    network_mode: host\n", "network_mode", 4),
        ("services:\n  db:\n    image: postgres:15\n    privileged: true\n", "privileged", 4),
        ("services:\n  db:\n    image: postgres:15\n    volumes:\n      - /srv/pg:/var/lib/postgresql/data\n", "bind mount", 5),
        ("services:\n  db:\n    image: postgres:15\n    volumes:\n      - ./data:/data\n", "bind mount", 5),
        ("services:\n  db:\n    image: postgres:15\n    volumes:\n      - pgdata:/var/lib/postgresql/data\n", "named volume", 5),
        ("services:\n  db:\n    image: postgres:15\n    volumes:\n      - type: bind\n        source: /etc\n        target: /x\n", "bind mount is not allowed", 5),
        ("services:\n  db:\n    image: postgres:15\nvolumes:\n  pgdata: {}\n", "named volumes", 4),
        ("services:\n  db:\n    image: postgres:15\nnetworks:\n  prod:\n    external: true\n", "networks", 4),
        ("services:\n  db:\n    image: postgres:15\n    networks: [prod]\n", "networks", 4),
        ("services:\n  db:\n    image: postgres:15\n    cap_add: [SYS_ADMIN]\n", "cap_add SYS_ADMIN", 4),
        ("services:\n  db:\n    image: postgres:15\n    cap_add: [NET_RAW]\n", "cap_add NET_RAW", 4),
        ("services:\n  db:\n    image: postgres:15\n    pid: host\n", "pid", 4),
        ("services:\n  db:\n    image: postgres:15\n    ipc: host\n", "ipc", 4),
        ("services:\n  db:\n    image: postgres:15\n    extra_hosts: [\"acp_postgres:10.0.0.5\"]\n", "extra_hosts", 4),
        ("services:\n  db:\n    image: postgres:15\n    security_opt: [seccomp=unconfined]\n", "security_opt", 4),
        ("services:\n  db:\n    image: postgres:15\n    devices: [/dev/sda]\n", "devices", 4),
        ("services:\n  db:\n    image: postgres:15\n    container_name: acp_postgres\n", "container_name", 4),
        ("services:\n  db:\n    image: postgres:15\n    restart: always\n", "restart always", 4),
        ("services:\n  db:\n    image: postgres:15\n    build: .\n", "build", 4),
        ("services:\n  db:\n    image: postgres:15\n    bogus_key: 1\n", "unsupported key \"bogus_key\"", 4),
    ] as [(String, String, Int)])
    func refused(yaml: String, mentions: String, line: Int) {
        #expect {
            try StackSpec.parse(yaml: yaml, file: "drill.yml")
        } throws: { error in
            guard let e = error as? SpecError else { return false }
            return e.message.contains(mentions) && e.line == line && "\(e)".hasPrefix("drill.yml:line \(line): ")
        }
    }

    @Test("the accepted subset: environment forms, commands, health checks, sizes, tmpfs, roles")
    func accepted() throws {
        let yaml = """
            version: "3.8"
            x-common: &common
              mem_limit: 1g
            services:
              db:
                image: registry.local/postgis:15-3.4
                environment:
                  POSTGRES_PASSWORD: ${PW:-fallback}
                  POSTGRES_DB: app
                shm_size: 2g
                command: postgres -c 'max_connections=50'
                volumes: [/var/lib/postgresql/data, {type: volume, target: /extra}]
                tmpfs: [/run/postgresql:size=16m]
                cap_add: [CAP_SYS_NICE]
              cache:
                image: valkey/valkey:8
                mem_limit: 256m
              app:
                image: acme/api:1
                environment: [MODE=drill, TOKEN]
                depends_on:
                  db: {condition: service_healthy}
                  cache: {condition: service_started}
                healthcheck:
                  test: curl -fs http://localhost:8080/health
                  interval: 1s
                  timeout: 500ms
                  retries: 30
                  start_period: 1m30s
                labels: {team: sre}
                x-acp-drill-role: app
            """
        let spec = try StackSpec.parse(yaml: yaml, variables: ["TOKEN": "t0k"])
        let db = try #require(spec.services.first { $0.name == "db" })
        #expect(db.role == .postgres)
        #expect(db.env("POSTGRES_PASSWORD") == "fallback")
        #expect(db.shmSize == 2 << 30)
        #expect(db.command == ["postgres", "-c", "max_connections=50"])
        #expect(db.volumes == ["/var/lib/postgresql/data", "/extra"])
        #expect(db.tmpfs == ["/run/postgresql:size=16m"])
        #expect(db.capAdd == ["SYS_NICE"])
        #expect(spec.services.first { $0.name == "cache" }?.role == .redis)
        #expect(spec.services.first { $0.name == "cache" }?.memLimit == 256 << 20)
        let app = try #require(spec.services.first { $0.name == "app" })
        #expect(app.environment.map { "\($0.name)=\($0.value)" } == ["MODE=drill", "TOKEN=t0k"])
        #expect(app.healthcheck?.test == ["CMD-SHELL", "curl -fs http://localhost:8080/health"])
        #expect(app.healthcheck?.timeout == .milliseconds(500))
        #expect(app.healthcheck?.startPeriod == .seconds(90))
        #expect(app.labels == ["team": "sre"])
        #expect(try spec.startOrder().map(\.name) == ["db", "cache", "app"])
    }

    @Test("start order follows depends_on; cycles and unknown services are refused")
    func order() throws {
        let spec = try StackSpec.parse(yaml: """
            services:
              web: {image: a, depends_on: [api]}
              api: {image: b, depends_on: [db]}
              db: {image: postgres:15}
            """)
        #expect(try spec.startOrder().map(\.name) == ["db", "api", "web"])
        #expect(throws: SpecError.self) {
            try StackSpec.parse(yaml: "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: y, depends_on: [a]}\n")
        }
        #expect(throws: SpecError.self) { try StackSpec.parse(yaml: "services:\n  a: {image: x, depends_on: [nope]}\n") }
    }

    @Test("an unset variable without a default is an error naming it")
    func unsetVariable() throws {
        #expect {
            try StackSpec.parse(yaml: "services:\n  db:\n    image: postgres:15\n    environment:\n      P: ${SECRET_PW}\n")
        } throws: { ($0 as? SpecError)?.message.contains("SECRET_PW is not set") == true && ($0 as? SpecError)?.line == 5 }
        #expect(try StackSpec.parse(yaml: "services:\n  a:\n    image: x\n    command: echo $$HOME\n").services[0].command == ["echo", "$HOME"])
    }

    @Test("malformed files", arguments: ["", "services: []", "services:\n  a: {}\n", "[1, 2]", "services:\n  'bad name!': {image: x}\n"])
    func malformed(yaml: String) {
        #expect(throws: SpecError.self) { try StackSpec.parse(yaml: yaml) }
    }

    @Test("the embedded default is compose/drill.yml, and it parses to Postgres + Redis")
    func embeddedDefault() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: repo.appendingPathComponent("compose/drill.yml"), encoding: .utf8)
        #expect(file == StackSpec.defaultYAML)
        let spec = try StackSpec.defaultStack()
        #expect(spec.services.map(\.role) == [.postgres, .redis])
    }
}

@Suite struct ProjectNameTests {
    @Test("project names: prefix, UTC timestamp, six random characters; labels carry the expiry")
    func name() throws {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let p = SandboxProject.new(kind: .drill, ttl: .seconds(7200), now: now)
        #expect(p.name.range(of: #"^acp_drill_\d{8}T\d{6}Z_[a-z0-9]{6}$"#, options: .regularExpression) != nil)
        #expect(p.name.hasPrefix("acp_drill_20261118T110640Z_"))
        #expect(p.networkName == p.name + "_net")
        #expect(p.containerName("postgres") == p.name + "-postgres-1")
        #expect(p.labels["dev.acp-drill.expires-at"] == SandboxProject.rfc3339(now.addingTimeInterval(7200)))
        #expect(p.labels["com.docker.compose.project"] == p.name.lowercased(), "Compose's own normalisation")
        let names = Set((0 ..< 200).map { _ in SandboxProject.new(kind: .env, ttl: .seconds(1), now: now).name })
        #expect(names.count == 200, "same second, no collision")
        #expect(SandboxProject.parseRFC3339("2026-11-27T10:00:00Z") != nil)
    }
}

@Suite struct HoldBackTests {
    /// Which services a drill starts only after the restore (DESIGN.md §3 "start dependent services").
    @Test("app services are held back, unless a service that starts at once depends on them", arguments: [
        // (stack, held back)
        ("services:\n  db:\n    image: postgres:15\n  api:\n    image: acme/api:1\n    depends_on: [db]\n", ["api"]),
        ("services:\n  db:\n    image: postgres:15\n  cache:\n    image: redis:7\n", []),
        // An app the database needs (a sidecar) starts with it, and so does what it depends on.
        ("services:\n  db:\n    image: postgres:15\n    depends_on: [init]\n  init:\n    image: acme/init:1\n    depends_on: [seed]\n  seed:\n    image: acme/seed:1\n  api:\n    image: acme/api:1\n",
         ["api"]),
        ("services:\n  db:\n    image: postgres:15\n  api:\n    image: acme/api:1\n  worker:\n    image: acme/worker:1\n    depends_on: [api]\n", ["api", "worker"]),
        ("services:\n  db:\n    image: postgres:15\n  tool:\n    image: acp-drill/redis:7\n    x-acp-drill-role: app\n", ["tool"]),
    ] as [(String, [String])])
    func heldBack(yaml: String, held: [String]) throws {
        let spec = try StackSpec.parse(yaml: yaml)
        #expect(Sandbox.appServicesToHoldBack(spec) == Set(held))
    }
}
