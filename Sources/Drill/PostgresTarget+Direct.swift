import Common
import Foundation
import Repository
import Synchronization

/// Bulk reads straight from the sandbox's Postgres over TCP, when the host can reach the container: the
/// host's `psql` streams COPY output through a pipe instead of an exec stream relayed by containerd-shim
/// and dockerd. Measured on verify-chain (622,500 rows): the relay cost as much CPU as the server itself.
/// Only for an engine on this machine (a unix socket) and the container's own address on the sandbox
/// network; anything else keeps the exec path.
extension PostgresTarget {
    /// `address` if the host may read this target there, else nil: the engine must be local (a unix
    /// socket), the host must have `psql`, a TCP connect to `address:5432` must succeed within half a
    /// second, and the server that answers must be this container's — the same `system_identifier`
    /// through exec and through the host (a unix socket forwarded from another machine would otherwise
    /// send us to whatever answers at that address here).
    public func reachableAddress(_ address: String?) async -> String? {
        guard let address, backend.hostReachesServiceAddresses, ProcessPipeline.onPath("psql") else { return nil }
        let reachable = (try? await BlockingExecutor.run("drill") { tcpConnects(address, port: 5432, timeoutMillis: 500) }) ?? false
        guard reachable else { return nil }
        let sql = "SELECT system_identifier FROM pg_control_system()"
        guard let viaExec = try? await query(sql).first?.first, !viaExec.isEmpty else { return nil }
        let viaHost = Mutex(Data())
        guard (try? await copyOutDirect(address, sql, onChunk: { bytes in viaHost.withLock { $0.append(contentsOf: bytes) } })) == true else { return nil }
        let answered = String(decoding: viaHost.withLock { $0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return answered == viaExec ? address : nil
    }

    /// Runs `statement` (a COPY, or a query printed unaligned) with the host's psql against `address`.
    /// Returns false, having delivered nothing, when the connection fails (the caller falls back to
    /// exec); throws a query's error.
    func copyOutDirect(_ address: String, _ statement: String, onChunk: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> Bool {
        var environment = ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "3", "PGAPPNAME": "acp-drill"]
        if let sessionOptions { environment["PGOPTIONS"] = sessionOptions }
        let step = ProcessPipeline.Step(executable: "psql", arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", address, "-p", "5432",
                                                                        "-U", user, "-d", database, "-c", statement], environment: environment)
        let database = database
        return try await BlockingExecutor.run("drill") { () throws -> Bool in
            var delivered = false
            do {
                try ProcessPipeline.run([step]) { chunk in
                    delivered = true
                    try chunk.withUnsafeBytes { try onChunk($0) }
                }
                return true
            } catch let failure as ProcessPipeline.Failure {
                // psql: 2 = the connection failed; with nothing delivered, the exec path can still serve.
                if failure.status == 2 && !delivered { return false }
                throw QueryError(database: database, message: failure.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
    }
}

/// Whether a TCP connection to `host:port` (an IPv4 or IPv6 literal) opens within the timeout.
func tcpConnects(_ host: String, port: UInt16, timeoutMillis: Int32) -> Bool {
    var hints = addrinfo()
    hints.ai_flags = AI_NUMERICHOST
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var info: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &info) == 0, let ai = info else { return false }
    defer { freeaddrinfo(info) }
    let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return true }
    guard errno == EINPROGRESS else { return false }
    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    guard poll(&pfd, 1, timeoutMillis) == 1 else { return false }
    var error: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0
}
