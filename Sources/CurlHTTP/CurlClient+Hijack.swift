import CCurl
import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension CurlClient {
    /// Sends a request on a raw connection and then turns it into a full-duplex byte pipe — Docker's
    /// "hijacked" exec/attach streams, where stdin flows after the response head.
    ///
    /// The head is read first (bytes sent before it are dropped by the daemon); then `stdin` is pumped until
    /// it returns 0 (the write side is then half-closed, which the process sees as end of input), while every
    /// output byte goes to `onOutput`, until the server closes. One poll loop does both, so a process that
    /// writes while it reads cannot deadlock. A non-2xx/101 head ends the exchange: its body is returned.
    ///
    /// Not available over TLS: a half-close cannot be sent inside a TLS session.
    public func hijack(
        _ request: HTTPRequest, stdin: (any HTTPBodySource)?,
        onOutput: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> HTTPResponse {
        let cancel = CancellationFlag()
        if Task.isCancelled { throw CancellationError() }
        return try await BlockingExecutor.run("curl hijack", onCancel: { cancel.cancel() }) {
            try self.hijackBlocking(request, stdin: stdin, cancel: cancel, onOutput: onOutput)
        }
    }

    private func hijackBlocking(
        _ request: HTTPRequest, stdin: (any HTTPBodySource)?, cancel: CancellationFlag,
        onOutput: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> HTTPResponse {
        let describe = "\(request.method.rawValue) \(request.path)"
        if case .tls = endpoint.kind, stdin != nil {
            throw CurlError(code: .other, message: "streaming stdin is not supported over TLS", request: describe)
        }
        let easy = CurlEasy()
        easy.set(CURLOPT_URL, endpoint.baseURL + "/")
        easy.apply(endpoint)
        easy.set(CURLOPT_NOSIGNAL, 1)
        easy.set(CURLOPT_CONNECT_ONLY, 1)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout.milliseconds))
        easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(easy.errorBuffer))
        let code = curl_easy_perform(easy.handle)
        guard code == CURLE_OK else {
            throw CurlError(code: CurlError.classify(code), curlCode: Int(code.rawValue),
                            message: endpoint.explain(code, libcurl: easy.message(for: code)), request: describe)
        }
        var fd: curl_socket_t = -1
        _ = ccurl_getinfo_socket(easy.handle, &fd)
        let pipe = RawPipe(easy: easy, fd: fd, cancel: cancel, describe: describe, endpoint: endpoint)

        var body: [UInt8] = []
        if case .bytes(let bytes) = request.body { body = bytes }
        var head = "\(request.method.rawValue) \(request.path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try pipe.sendAll(Array(head.utf8) + body)

        // The response head, then whatever followed it in the same read.
        var buffered: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            guard let chunk = try pipe.receive(wait: true) else {
                throw CurlError(code: .other, message: "connection closed before the response head", request: describe)
            }
            buffered += chunk
            headEnd = Self.endOfHead(buffered)
        }
        let parsed = Self.parseHead(buffered[..<headEnd!])
        let rest = Array(buffered[headEnd!...])
        guard parsed.status == 101 || (200 ..< 300).contains(parsed.status) else {
            var errorBody = rest
            let length = parsed.header("content-length").flatMap { Int($0) }
            while length.map({ errorBody.count < $0 }) ?? true, let chunk = try pipe.receive(wait: true) {
                errorBody += chunk
            }
            return HTTPResponse(head: parsed, body: errorBody)
        }
        if !rest.isEmpty { try rest.withUnsafeBytes { try onOutput($0) } }
        try pipe.pump(stdin: stdin, onOutput: onOutput)
        return HTTPResponse(head: parsed, body: [])
    }

    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0 ... bytes.count - 4
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    static func parseHead(_ bytes: ArraySlice<UInt8>) -> HTTPResponseHead {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = (lines.first ?? "").split(separator: " ", maxSplits: 2)
        let status = statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
        return HTTPResponseHead(status: status, headers: headers)
    }
}

/// A connected socket driven through `curl_easy_send`/`curl_easy_recv` (non-blocking) and `poll`.
private struct RawPipe {
    let easy: CurlEasy
    let fd: curl_socket_t
    let cancel: CancellationFlag
    let describe: String
    let endpoint: HTTPEndpoint

    func fail(_ code: CURLcode, _ what: String) -> CurlError {
        CurlError(code: CurlError.classify(code), curlCode: Int(code.rawValue),
                  message: "\(what): \(endpoint.explain(code, libcurl: easy.message(for: code)))", request: describe)
    }

    /// Waits until the socket is readable/writable, checking for cancellation every 200 ms.
    func wait(read: Bool, write: Bool) throws -> (readable: Bool, writable: Bool) {
        while true {
            if cancel.isCancelled { throw CancellationError() }
            var p = pollfd(fd: fd, events: Int16((read ? POLLIN : 0) | (write ? POLLOUT : 0)), revents: 0)
            let n = poll(&p, 1, 200)
            if n < 0 && errno == EINTR { continue }
            if n > 0 {
                let r = Int32(p.revents)
                return ((r & (POLLIN | POLLHUP | POLLERR)) != 0, (r & (POLLOUT | POLLERR)) != 0)
            }
        }
    }

    func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let rc = bytes.withUnsafeBytes { raw in
                curl_easy_send(easy.handle, raw.baseAddress! + offset, bytes.count - offset, &sent)
            }
            if rc == CURLE_AGAIN { _ = try wait(read: false, write: true); continue }
            guard rc == CURLE_OK else { throw fail(rc, "send") }
            offset += sent
        }
    }

    /// One read: the bytes, or nil at end of stream. With `wait` it blocks until something arrives.
    func receive(wait blocking: Bool) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var got = 0
            let rc = buffer.withUnsafeMutableBytes { curl_easy_recv(easy.handle, $0.baseAddress!, $0.count, &got) }
            if rc == CURLE_AGAIN {
                if !blocking { return [] }
                _ = try wait(read: true, write: false)
                continue
            }
            guard rc == CURLE_OK else { throw fail(rc, "receive") }
            if got == 0 { return nil }
            return Array(buffer[..<got])
        }
    }

    func pump(stdin: (any HTTPBodySource)?, onOutput: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inputOpen = stdin != nil
        var pending: [UInt8] = []
        var pendingOffset = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        if !inputOpen { shutdown(fd, Int32(SHUT_WR)) }
        while true {
            let ready = try wait(read: true, write: inputOpen)
            if ready.readable {
                let bytes: [UInt8]?
                // A peer that resets the connection once the command is done with its input (Podman, when
                // the command stops reading early) has ended the stream: the caller takes the command's
                // exit status from the engine, which still answers if only the stream was cut.
                do { bytes = try receive(wait: false) } catch let e as CurlError where e.curlCode == Int(CURLE_RECV_ERROR.rawValue) { return }
                guard let bytes else { return }
                if !bytes.isEmpty { try bytes.withUnsafeBytes { try onOutput($0) } }
            }
            guard inputOpen, ready.writable, let stdin else { continue }
            if pendingOffset == pending.count {
                let n = try chunk.withUnsafeMutableBytes { try stdin.read(into: $0) }
                if n == 0 {
                    inputOpen = false
                    shutdown(fd, Int32(SHUT_WR))
                    continue
                }
                pending = Array(chunk[..<n])
                pendingOffset = 0
            }
            var sent = 0
            let rc = pending.withUnsafeBytes { raw in
                curl_easy_send(easy.handle, raw.baseAddress! + pendingOffset, pending.count - pendingOffset, &sent)
            }
            if rc == CURLE_AGAIN { continue }
            if rc == CURLE_SEND_ERROR {
                // EPIPE or ECONNRESET on send: the command closed its stdin (it stopped reading). Its output
                // and exit status still come.
                inputOpen = false
                continue
            }
            guard rc == CURLE_OK else { throw fail(rc, "send stdin") }
            pendingOffset += sent
        }
    }
}
