import CLibPQ
import Foundation
import Synchronization

/// One statement on its own libpq connection, its output handed over in chunks of up to 256 KiB (libpq
/// returns a COPY row at a time; the reader wants bytes in bulk). The password travels in the connection
/// parameters, never in an environment or an argument list. `cancel()`, from any thread, asks the server
/// to cancel the statement; `run` then throws `CancellationError`.
final class DirectCopy: Sendable {
    private let parameters: [(String, String)]
    private let database: String
    private let cancelHandle = Mutex<(requested: Bool, handle: OpaquePointer?)>((false, nil))

    init(host: String, port: Int, user: String, password: String, database: String, options: String?) {
        self.database = database
        // Everything that decides where we connect is given, so no PG* variable of the operator's
        // environment (meant for production) can redirect it; no TLS or GSS negotiation on a sandbox network.
        parameters = [("host", host), ("port", String(port)), ("user", user), ("password", password), ("dbname", database),
                      ("connect_timeout", "3"), ("application_name", "acp-drill"), ("sslmode", "disable"), ("gssencmode", "disable")]
            + (options.map { [("options", $0)] } ?? [])
    }

    func cancel() {
        cancelHandle.withLock { c in
            c.requested = true
            if let h = c.handle {
                var message = [CChar](repeating: 0, count: 256)
                _ = PQcancel(h, &message, 256)
            }
        }
    }

    /// Returns false when the connection failed (nothing was delivered).
    func run(_ statement: String, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let keys = parameters.map { strdup($0.0) }, values = parameters.map { strdup($0.1) }
        defer { (keys + values).forEach { free($0) } }
        var k = keys.map { UnsafePointer<CChar>($0) } + [nil], v = values.map { UnsafePointer<CChar>($0) } + [nil]
        guard let conn = PQconnectdbParams(&k, &v, 0) else { return false }
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else { return false }
        let cancelled: Bool = cancelHandle.withLock { c in
            c.handle = PQgetCancel(conn)
            return c.requested
        }
        defer { cancelHandle.withLock { c in if let h = c.handle { PQfreeCancel(h) }; c.handle = nil } }
        if cancelled { throw CancellationError() }
        guard let first = PQexec(conn, statement) else { throw failure(conn) }
        switch PQresultStatus(first) {
        case PGRES_COPY_OUT:
            PQclear(first)
            try copyOut(conn, onChunk: onChunk)
        case PGRES_TUPLES_OK:
            defer { PQclear(first) }
            try rows(first, onChunk: onChunk)
        case PGRES_COMMAND_OK:
            PQclear(first)
        default:
            let error = failure(conn, result: first)
            PQclear(first)
            throw error
        }
        return true
    }

    private func copyOut(_ conn: OpaquePointer, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        let capacity = 256 << 10
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer { staging.deallocate() }
        var used = 0
        func flush() throws {
            if used > 0 { try onChunk(UnsafeRawBufferPointer(rebasing: staging[0 ..< used])) }
            used = 0
        }
        var pending: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = Int(PQgetCopyData(conn, &buffer, 0))
            if n < 0 { break }
            guard let buffer else { continue }
            defer { PQfreemem(buffer) }
            // After the reader failed, the rest is drained so that the connection ends cleanly.
            guard pending == nil else { continue }
            do {
                let row = UnsafeRawBufferPointer(start: buffer, count: n)
                if used + n > capacity { try flush() }
                if n > capacity {
                    try onChunk(row)
                } else {
                    (staging.baseAddress! + used).copyMemory(from: row.baseAddress!, byteCount: n)
                    used += n
                }
            } catch {
                pending = error
                cancel()
            }
        }
        if let pending { throw pending }
        try flush()
        var failed: (any Error)?
        while let result = PQgetResult(conn) {
            if failed == nil, PQresultStatus(result) != PGRES_COMMAND_OK { failed = failure(conn, result: result) }
            PQclear(result)
        }
        if let failed { throw failed }
    }

    /// A query's rows as tab-separated lines, each ending in a newline.
    private func rows(_ result: OpaquePointer, onChunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        var out: [UInt8] = []
        for r in 0 ..< PQntuples(result) {
            for c in 0 ..< PQnfields(result) {
                if c > 0 { out.append(9) }
                if PQgetisnull(result, r, c) == 0, let v = PQgetvalue(result, r, c) {
                    out.append(contentsOf: UnsafeRawBufferPointer(start: v, count: Int(PQgetlength(result, r, c))))
                }
            }
            out.append(10)
        }
        try out.withUnsafeBytes { try onChunk($0) }
    }

    private func failure(_ conn: OpaquePointer, result: OpaquePointer? = nil) -> any Error {
        if cancelHandle.withLock({ $0.requested }) { return CancellationError() }
        let text = result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) } ?? String(cString: PQerrorMessage(conn))
        return QueryError(database: database, message: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
