public import Logging
public import Sandbox
import Foundation

/// The demo's stand-in for production: project `acp`, containers `acp_postgres` and `acp_redis` on the
/// internal network `acp_prod_net`, loaded with the platform fixture. The backup host reaches Postgres at its
/// address on that host-local bridge (an internal network publishes no ports, and a non-internal one would
/// give the stand-in a route out).
public enum ProdStack {
    public static let project = "acp"
    public static let network = "acp_prod_net"

    /// How the backup host connects.
    public struct Connection: Sendable, Codable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String
        public var databases: [String]
        public var rowCounts: [String: Int]
    }

    /// Starts the stand-in and loads the fixture. Refuses when one is already running (`down` first).
    public static func up(
        fixture: PlatformFixture, backend: any SandboxBackend, logger: Logger, ttl: Duration = .seconds(86400),
        progress: ProgressHandler? = nil
    ) async throws -> Connection {
        if let existing = try? await backend.attach(project: Self.project, networkName: Self.network, logger: logger), !existing.services.isEmpty {
            throw SandboxError(code: .spec, message: "a production stand-in is already running (\(existing.services.map(\.containerName).joined(separator: ", "))): run `acp-drill demo prod down` first")
        }
        var pg = ServiceSpec(name: "postgres", image: "acp-drill/postgres:15", role: .postgres)
        pg.containerName = "acp_postgres"
        pg.environment = [("POSTGRES_USER", "postgres")]
        pg.volumes = ["/var/lib/postgresql/data"]
        pg.memLimit = 4 << 30
        var redis = ServiceSpec(name: "redis", image: "acp-drill/redis:7", role: .redis)
        redis.containerName = "acp_redis"
        redis.volumes = ["/data"]
        let seconds = Double(ttl.components.seconds)
        let project = SandboxProject(name: Self.project, kind: .demo, expiresAt: Date().addingTimeInterval(seconds), networkName: Self.network)
        let sandbox = try await backend.provision(
            StackSpec(services: [pg, redis]), project: project, options: SandboxOptions(durable: true), holdBack: [],
            logger: logger, progress: progress)
        do {
            guard let postgres = sandbox.service(role: .postgres), let password = postgres.postgresPassword, let address = postgres.address else {
                throw SandboxError(code: .notReady, message: "the stand-in's Postgres has no address")
            }
            try await load(fixture: fixture, into: postgres, of: sandbox, password: password, progress: progress)
            if let r = sandbox.service(role: .redis) {
                _ = try await sandbox.run(["redis-cli", "set", "acp:kill_switch", "disengaged"], in: r)
            }
            return Connection(host: address, port: 5432, user: "postgres", password: password,
                              databases: PlatformFixture.databases, rowCounts: fixture.expectedRowCounts)
        } catch {
            _ = try? await sandbox.teardown()
            throw error
        }
    }

    /// Removes the stand-in (by its project label).
    @discardableResult
    public static func down(backend: any SandboxBackend, logger: Logger) async throws -> TeardownReport {
        try await backend.teardown(project: Self.project, logger: logger)
    }

    /// Creates each database and streams its script into `psql` (two at a time); a failure names the
    /// database and carries psql's own error.
    public static func load(fixture: PlatformFixture, into postgres: Sandbox.Service, of sandbox: Sandbox, password: String,
                            progress: ProgressHandler?) async throws {
        let env = ["PGPASSWORD=\(password)", "PGUSER=postgres", "PGHOST=127.0.0.1"]
        let dbs = fixture.tables
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func start() {
                guard next < dbs.count else { return }
                let db = dbs[next]
                next += 1
                group.addTask {
                    let create = try await sandbox.run(["psql", "-v", "ON_ERROR_STOP=1", "-qd", "postgres", "-c", "CREATE DATABASE \(db.name)"], in: postgres, env: env)
                    guard create.exitCode == 0 else {
                        throw FixtureError(message: "creating \(db.name) failed: \(create.stderrText)")
                    }
                    let rows = db.tables.map(\.count).reduce(0, +)
                    progress?("loading \(db.name) (\(rows) rows)")
                    let result = try await sandbox.run(["psql", "-v", "ON_ERROR_STOP=1", "-qX", "-d", db.name], in: postgres,
                                                       env: env, stdin: fixture.script(for: db))
                    guard result.exitCode == 0 else {
                        throw FixtureError(message: "loading \(db.name) failed: \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
                    }
                }
            }
            start(); start()
            while try await group.next() != nil { start() }
        }
    }
}

public struct FixtureError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
