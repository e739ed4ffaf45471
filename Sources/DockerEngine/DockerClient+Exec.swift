public import CurlHTTP
import Foundation
import Synchronization

extension DockerClient {
    /// Maps to `POST /containers/{id}/exec`. - Returns: the exec id.
    public func createExec(_ container: String, _ spec: ExecCreate) async throws -> String {
        let path = "/containers/\(DockerQuery.escape(container))/exec"
        let response = try await call(.post, path, json: spec)
        return try decode(IDResponse.self, from: response, request: "POST \(path)").id
    }

    /// Maps to `GET /exec/{id}/json`.
    public func inspectExec(_ id: String) async throws -> ExecInspect {
        try await get(ExecInspect.self, "/exec/\(DockerQuery.escape(id))/json")
    }

    /// Runs a command in a running container: `POST /containers/{id}/exec`, then `POST /exec/{id}/start`
    /// with the output stream demultiplexed into `onOutput` as it arrives, then `GET /exec/{id}/json` for the
    /// exit code once the stream has ended.
    ///
    /// With `stdin` the start request goes over a hijacked connection: the input is streamed after the
    /// response head and the write side is half-closed at its end, which the process reads as EOF. Errors
    /// that happen after the stream began (a missing binary) arrive as output with exit code 126/127.
    /// - Returns: the exit code.
    public func exec(
        _ container: String, _ spec: ExecCreate, stdin: (any HTTPBodySource)? = nil,
        onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void
    ) async throws -> Int {
        var spec = spec
        spec.attachStdin = stdin != nil
        spec.tty = false
        let id = try await createExec(container, spec)
        let path = "/exec/\(DockerQuery.escape(id))/start"
        let body = Array(#"{"Detach":false,"Tty":false}"#.utf8)
        let demuxer = Mutex(StreamDemuxer())
        // Podman reports its own failure to copy a closed stdin as a stderr frame of the command's: it is
        // not the command's output, and dropped.
        let podman = libpodVersion != nil
        let emit: @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void = { stream, bytes in
            if podman, stream == .stderr, Self.isPodmanCopyNoise(bytes) { return }
            try onOutput(stream, bytes)
        }
        let feed: @Sendable (UnsafeRawBufferPointer) throws -> Void = { chunk in
            try demuxer.withLock { try $0.feed(chunk, emit: emit) }
        }
        if let stdin {
            var request = HTTPRequest(.post, versioned(path), body: .bytes(body))
            request.headers = [("Content-Type", "application/json"), ("Connection", "Upgrade"), ("Upgrade", "tcp")]
            let response: HTTPResponse
            do { response = try await http.hijack(request, stdin: stdin, onOutput: feed) } catch let error as CurlError {
                throw DockerError.transport(error)
            }
            guard response.status == 101 || response.status == 200 else {
                throw DockerError.from(status: response.status, body: response.body, request: "POST \(path)")
            }
        } else {
            var request = HTTPRequest(.post, versioned(path), body: .bytes(body))
            request.headers = [("Content-Type", "application/json")]
            try await stream(request, describe: "POST \(path)", onBody: feed)
        }
        if demuxer.withLock({ $0.hasPartialFrame }) {
            throw DockerError(code: .streamError, message: "exec output ended inside a frame", request: "POST \(path)")
        }
        // The stream ends when the process exits; other engines may publish the exit code a moment later.
        for attempt in 0 ..< 50 {
            let state = try await inspectExec(id)
            if !state.running, let code = state.exitCode { return code }
            try await Task.sleep(for: .milliseconds(attempt < 10 ? 10 : 100))
        }
        throw DockerError(code: .unexpectedStatus, message: "exec \(id) still running after its output ended",
                          request: "GET /exec/\(id)/json")
    }

    /// Whether a stderr frame is Podman's own message about the attach socket (`Error: read unixpacket
    /// @->/proc/self/fd/16/attach: read: connection reset by peer`), not the command's.
    static func isPodmanCopyNoise(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count < 512 else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        return (text.hasPrefix("Error: read unixpacket ") || text.hasPrefix("Error: write unixpacket "))
            && (text.contains("connection reset by peer") || text.contains("broken pipe"))
    }

    /// `exec` with stdout and stderr collected in memory (each bounded by `limit` bytes; the rest is dropped).
    public func execCollect(
        _ container: String, _ cmd: [String], env: [String]? = nil, user: String? = nil,
        stdin: (any HTTPBodySource)? = nil, limit: Int = 16 << 20
    ) async throws -> ExecResult {
        let out = Mutex<([UInt8], [UInt8])>(([], []))
        let code = try await exec(container, ExecCreate(cmd: cmd, env: env, user: user), stdin: stdin) { stream, chunk in
            out.withLock { buffers in
                if stream == .stderr {
                    buffers.1.append(contentsOf: chunk.prefix(max(0, limit - buffers.1.count)))
                } else {
                    buffers.0.append(contentsOf: chunk.prefix(max(0, limit - buffers.0.count)))
                }
            }
        }
        let (stdout, stderr) = out.withLock { $0 }
        return ExecResult(exitCode: code, stdout: stdout, stderr: stderr)
    }
}
