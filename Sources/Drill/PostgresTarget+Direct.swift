import Common
import Foundation
import Synchronization

/// Bulk reads straight from the sandbox's Postgres over TCP, when the host can reach the container:
/// libpq in this process reads the COPY output (`DirectCopy`), instead of an exec stream relayed by
/// containerd-shim and dockerd (measured on verify-chain at 622,500 rows: the relay cost as much CPU as the
/// server itself) or a host `psql` writing through a pipe (at 2.49M rows, a core's worth of CPU). Only
/// for an engine on this machine (a unix socket) and the container's own address on the sandbox network;
/// anything else keeps the exec path.
extension PostgresTarget {
    /// `address` if the host may read this target there, else nil: the engine must be local (a unix
    /// socket), a TCP connect to `address:5432` must succeed within half a second, and the server that
    /// answers must be this container's — the same `system_identifier` through exec and through the host
    /// (a unix socket forwarded from another machine would otherwise send us to whatever answers at that
    /// address here).
    public func reachableAddress(_ address: String?) async -> String? {
        guard let address, backend.hostReachesServiceAddresses else { return nil }
        let reachable = (try? await BlockingExecutor.run("drill") { tcpConnects(address, port: 5432, timeoutMillis: 500) }) ?? false
        guard reachable else { return nil }
        let sql = "SELECT system_identifier FROM pg_control_system()"
        guard let viaExec = try? await query(sql).first?.first, !viaExec.isEmpty else { return nil }
        let viaHost = Mutex(Data())
        guard (try? await copyOutDirect(address, sql, onChunk: { bytes in viaHost.withLock { $0.append(contentsOf: bytes) } })) == true else { return nil }
        let answered = String(decoding: viaHost.withLock { $0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return answered == viaExec ? address : nil
    }

    /// Runs `statement` (a COPY … TO STDOUT, or a query whose rows are handed over as tab-separated
    /// lines) in-process against `address`. Returns false, having delivered nothing, when the connection
    /// fails (the caller falls back to exec); throws the server's error. Cancelling the task cancels the
    /// statement on the server.
    func copyOutDirect(_ address: String, _ statement: String, onChunk: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> Bool {
        let copy = DirectCopy(host: address, port: 5432, user: user, password: password, database: database, options: sessionOptions)
        return try await BlockingExecutor.run("drill", onCancel: { copy.cancel() }) { try copy.run(statement, onChunk: onChunk) }
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
