public import DockerEngine
import Foundation
import Synchronization

/// A PostgreSQL database inside a container, reached through exec (never a published port).
public struct PostgresTarget: Sendable {
    public var containerID: String
    public var user: String
    public var password: String
    public var database: String
    /// Session settings for every connection (`PGOPTIONS`), e.g. `-c statement_timeout=30000`.
    public var sessionOptions: String?
    /// The container's address when the host reaches it directly (`reachableAddress(_:client:)`): bulk COPY
    /// reads then skip the exec relay.
    public var directAddress: String?

    public init(containerID: String, user: String, password: String, database: String) {
        self.containerID = containerID
        self.user = user
        self.password = password
        self.database = database
    }

    var env: [String] {
        ["PGPASSWORD=\(password)", "PGUSER=\(user)", "PGHOST=127.0.0.1", "PGDATABASE=\(database)"] + (sessionOptions.map { ["PGOPTIONS=\($0)"] } ?? [])
    }

    /// Runs one query and returns its rows (`psql -At`, tab-separated), failing with psql's own message.
    public func query(_ sql: String, client: DockerClient) async throws -> [[String]] {
        let r = try await client.execCollect(containerID, ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql], env: env)
        guard r.exitCode == 0 else { throw QueryError(database: database, message: r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return r.stdoutText.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Streams `COPY (query) TO STDOUT` (text format, still escaped) line by line to `onLine`.
    public func copyOut(_ query: String, client: DockerClient, onLine: @escaping @Sendable ([UInt8]) throws -> Void) async throws {
        let splitter = Mutex(JSONLineSplitter())
        try await copyOutRaw("COPY (\(query)) TO STDOUT", client: client) { chunk in
            try splitter.withLock { try $0.feed(chunk, line: onLine) }
        }
        try splitter.withLock { try $0.finish(line: onLine) }
    }

    /// Runs a `COPY … TO STDOUT` statement and hands its raw output to `onChunk` as it arrives.
    public func copyOutRaw(_ statement: String, client: DockerClient, onChunk: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        if let directAddress, try await copyOutDirect(directAddress, statement, onChunk: onChunk) { return }
        let errors = Mutex<[UInt8]>([])
        let code = try await client.exec(containerID, ExecCreate(cmd: ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", statement], env: env)) { stream, bytes in
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
