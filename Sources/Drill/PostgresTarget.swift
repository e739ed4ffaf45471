import Common
import Foundation
public import Sandbox
import Synchronization

/// A PostgreSQL database in a sandbox service, reached through the backend's exec (never a published port).
public struct PostgresTarget: Sendable {
    public var service: Sandbox.Service
    public var backend: any SandboxBackend
    public var user: String
    public var password: String
    public var database: String
    /// Session settings for every connection (`PGOPTIONS`), e.g. `-c statement_timeout=30000`.
    public var sessionOptions: String?
    /// The container's address when the host reaches it directly (`reachableAddress(_:client:)`): bulk COPY
    /// reads then skip the exec relay.
    public var directAddress: String?

    public init(service: Sandbox.Service, backend: any SandboxBackend, user: String, password: String, database: String) {
        self.service = service
        self.backend = backend
        self.user = user
        self.password = password
        self.database = database
    }

    /// The sandbox's Postgres service as its own superuser (the image's `POSTGRES_USER`), in its default database.
    public static func superuser(of service: Sandbox.Service, backend: any SandboxBackend) -> PostgresTarget {
        PostgresTarget(service: service, backend: backend, user: service.postgresUser ?? "postgres",
                       password: service.postgresPassword ?? "", database: service.postgresDatabase ?? "postgres")
    }

    var env: [String] {
        ["PGPASSWORD=\(password)", "PGUSER=\(user)", "PGHOST=127.0.0.1", "PGDATABASE=\(database)"] + (sessionOptions.map { ["PGOPTIONS=\($0)"] } ?? [])
    }

    /// The same target with `options` (`-c name=value …`) added to its session settings.
    public func adding(sessionOptions options: String) -> PostgresTarget {
        var t = self
        t.sessionOptions = [sessionOptions, options].compactMap { $0 }.joined(separator: " ")
        return t
    }

    /// The same server, another database.
    public func database(_ name: String) -> PostgresTarget {
        var t = self
        t.database = name
        return t
    }

    /// Runs one query and returns its rows (as `psql -At` prints them, tab-separated), failing with the
    /// server's own message. With a `directAddress`, in-process over TCP (no exec: at a few dozen queries
    /// a drill, the execs' runc and relay cost a tenth of the checks stage's CPU).
    public func query(_ sql: String) async throws -> [[String]] {
        let text: String
        if let directAddress, let out = try await queryDirect(directAddress, sql) {
            text = out
        } else {
            let r = try await backend.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql], in: service, env: env, stdin: nil)
            guard r.exitCode == 0 else { throw QueryError(database: database, message: r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)) }
            text = r.stdoutText
        }
        return text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The query's output through `copyOutDirect`; nil when the connection could not be made.
    private func queryDirect(_ address: String, _ sql: String) async throws -> String? {
        let out = Mutex<[UInt8]>([])
        guard try await copyOutDirect(address, sql, onChunk: { bytes in out.withLock { $0.append(contentsOf: bytes) } }) else { return nil }
        return String(decoding: out.withLock { $0 }, as: UTF8.self)
    }

    /// Runs a psql script given on stdin (statements and meta-commands such as `\gexec`) and returns the
    /// lines it prints, failing with psql's own message.
    public func script(_ text: String) async throws -> [String] {
        let r = try await backend.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-f", "-"], in: service, env: env, stdin: BytesInput(text))
        guard r.exitCode == 0 else { throw QueryError(database: database, message: r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return r.stdoutText.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Streams `COPY (query) TO STDOUT` (text format, still escaped) line by line to `onLine`.
    public func copyOut(_ query: String, onLine: @escaping @Sendable ([UInt8]) throws -> Void) async throws {
        let splitter = Mutex(JSONLineSplitter())
        try await copyOutRaw("COPY (\(query)) TO STDOUT") { chunk in
            try splitter.withLock { try $0.feed(chunk, line: onLine) }
        }
        try splitter.withLock { try $0.finish(line: onLine) }
    }

    /// Streams `COPY (query) TO STDOUT (FORMAT binary)` into `state` row by row (a row's fields are valid
    /// only during the call) and returns the state once the stream has ended with its trailer.
    func copyOutBinary<State: Sendable>(_ query: String, into state: State,
                                        row: @escaping @Sendable (inout State, CopyBinaryReader.Row) throws -> Void) async throws -> State {
        let stream = Mutex((reader: CopyBinaryReader(), state: state))
        try await copyOutRaw("COPY (\(query)) TO STDOUT (FORMAT binary)") { chunk in
            try stream.withLock { s in try s.reader.feed(chunk) { try row(&s.state, $0) } }
        }
        return try stream.withLock { s in
            try s.reader.finish()
            return s.state
        }
    }

    /// Runs a `COPY … TO STDOUT` statement and hands its raw output to `onChunk` as it arrives.
    public func copyOutRaw(_ statement: String, onChunk: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        if let directAddress, try await copyOutDirect(directAddress, statement, onChunk: onChunk) { return }
        let errors = Mutex<[UInt8]>([])
        let code = try await backend.stream(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", statement], in: service, env: env, stdin: nil) { stream, bytes in
            if stream == .stderr {
                errors.withLock { $0.append(contentsOf: bytes.prefix(4096)) }
            } else {
                try onChunk(bytes)
            }
        }
        guard code == 0 else {
            throw QueryError(database: database, message: String(decoding: errors.withLock { $0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// A query that failed, with psql's own message.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public var database: String
    public var message: String
    public var description: String { "\(database): \(message)" }
}
