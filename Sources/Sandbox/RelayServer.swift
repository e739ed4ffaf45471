import Common
import Foundation
import Synchronization

/// The drill host's end of the command relay to swarm workspaces (docs/SWARM.md): a TCP listener that
/// workspace agents call back to. A manager has no exec into a task on another node, so a workspace (a
/// task beside a service, on its node) runs an agent that asks this listener for its next command, and
/// each command opens its own connections for stdin, stdout and stderr and reports its exit code. Every
/// connection opens with one line, `<kind> <token>`; agents and commands are known by random 128-bit
/// tokens, and a line with an unknown token is dropped. Nothing but bytes of our own commands crosses it.
final class RelayServer: Sendable {
    /// Where agents call: the host's address as the swarm's nodes reach it, and the listener's port.
    let host: String
    let port: Int
    private let listener: Int32
    private let state = Mutex<State>(State())

    private struct State {
        var agents: [String: Agent] = [:]
        var commands: [String: RelayCommand] = [:]
    }

    /// An agent's queue of scripts, handed over one per `next` call.
    private final class Agent: Sendable {
        let scripts = Mutex<[String]>([])
        let ready = DispatchSemaphore(value: 0)
        /// When it last asked for work (a workspace whose agent never calls is named in the error).
        let lastSeen = Mutex<ContinuousClock.Instant?>(nil)
    }

    /// One listener per host address, for the process's life.
    private static let servers = Mutex<[String: RelayServer]>([:])

    static func shared(host: String) throws -> RelayServer {
        try servers.withLock { servers in
            if let s = servers[host] { return s }
            let s = try RelayServer(host: host)
            servers[host] = s
            return s
        }
    }

    private init(host: String) throws {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            throw SandboxError(code: .exec, message: "the relay address \(host) is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SandboxError(code: .exec, message: "relay socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 128) == 0 else {
            let e = errno
            close(fd)
            throw SandboxError(code: .exec, message: "cannot listen on \(host) for the swarm relay: errno \(e) (set ACP_DRILL_RELAY_ADDRESS to this host's address as the swarm's nodes reach it)")
        }
        var bound_ = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound_) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.host = host
        self.port = Int(UInt16(bigEndian: bound_.sin_port))
        self.listener = fd
        let server = self
        Thread.detachNewThread { server.acceptLoop() }
    }

    /// A new agent's token (the workspace is created with it in its environment).
    func registerAgent() -> String {
        let token = Self.token()
        state.withLock { $0.agents[token] = Agent() }
        return token
    }

    /// Runs `command` through the agent: its stdin streamed from `stdin` (none: empty), its output handed
    /// to `output` as it arrives; returns its exit code. Fails when the agent does not take the command
    /// within `pickup` (its workspace gone, or this host not reachable from its node).
    func execute(agent token: String, script: (String) -> String, stdin: (any ExecInput)?, pickup: Duration,
                 output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        guard let agent = state.withLock({ $0.agents[token] }) else {
            throw SandboxError(code: .exec, message: "no relay agent \(token.prefix(6))… in this process")
        }
        let command = RelayCommand(token: Self.token(), stdin: stdin, output: output)
        state.withLock { $0.commands[command.token] = command }
        defer {
            state.withLock { _ = $0.commands.removeValue(forKey: command.token) }
            command.closeAll()
        }
        agent.scripts.withLock { $0.append(script(command.token)) }
        agent.ready.signal()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                command.onFinish(continuation)
                // Not picked up in time: the workspace is gone or cannot call back.
                command.watch(pickup, until: \.isStarted) {
                    SandboxError(code: .exec, message: agent.lastSeen.withLock { $0 } == nil
                        ? "the workspace never called back to \(self.host):\(self.port): is this address reachable from the swarm's nodes? (ACP_DRILL_RELAY_ADDRESS sets it)"
                        : "the workspace's agent did not take the command within \(pickup) (its task gone?)")
                }
            }
        } onCancel: {
            command.fail(CancellationError())
        }
    }

    // MARK: connections

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            Thread.detachNewThread { self.serve(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        guard let line = Self.readLine(fd), line.count < 200 else { close(fd); return }
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count >= 2 else { close(fd); return }
        switch parts[0] {
        case "next":
            guard let agent = state.withLock({ $0.agents[parts[1]] }) else { close(fd); return }
            agent.lastSeen.withLock { $0 = .now }
            // Held open until there is work (long poll); an empty answer after 20 s lets the agent call again.
            var script = ""
            if agent.ready.wait(timeout: .now() + 20) == .success {
                script = agent.scripts.withLock { $0.isEmpty ? "" : $0.removeFirst() }
            }
            // An agent that went away while this call waited: the script goes back for its next call.
            if !Self.writeAll(fd, Array(script.utf8)), !script.isEmpty {
                agent.scripts.withLock { $0.insert(script, at: 0) }
                agent.ready.signal()
            }
            close(fd)
        case "in", "out", "err", "exit":
            guard let command = state.withLock({ $0.commands[parts[1]] }) else { close(fd); return }
            command.serve(parts[0], fd: fd, rest: Array(parts.dropFirst(2)))
        default:
            close(fd)
        }
    }

    static func readLine(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while bytes.count < 256 {
            let n = read(fd, &c, 1)
            if n == 1 {
                if c == 10 { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(c)
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return nil
            }
        }
        return nil
    }

    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { writeAll(fd, $0) } }

    static func token() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0 ..< 16).map { _ in String(format: "%02x", UInt8.random(in: 0 ... 255, using: &rng)) }.joined()
    }
}

/// One command in flight through the relay: done once its exit code is in and its stdout and stderr
/// have reached their end.
final class RelayCommand: Sendable {
    let token: String
    let stdin: (any ExecInput)?
    let output: @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void
    private let state = Mutex<State>(State())

    private struct State {
        var started = false
        var outDone = false
        var errDone = false
        var exit: Int?
        var failure: (any Error)?
        var finished = false
        var continuation: CheckedContinuation<Int, any Error>?
        var fds: [Int32] = []
    }

    init(token: String, stdin: (any ExecInput)?, output: @escaping @Sendable (OutputChannel, UnsafeRawBufferPointer) throws -> Void) {
        self.token = token
        self.stdin = stdin
        self.output = output
    }

    var isStarted: Bool { state.withLock { $0.started } }
    var isFinished: Bool { state.withLock { $0.finished } }

    func onFinish(_ continuation: CheckedContinuation<Int, any Error>) {
        state.withLock { $0.continuation = continuation }
        settle()
    }

    /// Ends the command with `error`, unless it has already ended (an exit code alone does not end it: its
    /// output may still be missing).
    func fail(_ error: any Error) {
        state.withLock { if $0.failure == nil && !$0.finished { $0.failure = error } }
        closeAll()
        settle()
    }

    /// Whether its exit code has come.
    var hasExit: Bool { state.withLock { $0.exit != nil } }

    /// Fails the command with `error()` unless it has ended, or `done` holds, within `limit` (watched on a
    /// thread of its own: every connection's reads block).
    func watch(_ limit: Duration, until done: @escaping @Sendable (RelayCommand) -> Bool, else error: @escaping @Sendable () -> any Error) {
        Thread.detachNewThread {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline, !self.isFinished, !done(self) { usleep(20_000) }
            if !self.isFinished, !done(self) { self.fail(error()) }
        }
    }

    /// Closes every connection of the command (its end, or its cancellation).
    func closeAll() {
        for fd in state.withLock({ s -> [Int32] in defer { s.fds = [] }; return s.fds }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func settle() {
        let (continuation, result): (CheckedContinuation<Int, any Error>?, Result<Int, any Error>?) = state.withLock { s in
            guard !s.finished, let c = s.continuation else { return (nil, nil) }
            if let f = s.failure {
                s.finished = true
                return (c, .failure(f))
            }
            if let code = s.exit, s.outDone, s.errDone {
                s.finished = true
                return (c, .success(code))
            }
            return (nil, nil)
        }
        if let continuation, let result { continuation.resume(with: result) }
    }

    func serve(_ kind: String, fd: Int32, rest: [String]) {
        state.withLock { $0.started = true; $0.fds.append(fd) }
        defer {
            state.withLock { s in s.fds.removeAll { $0 == fd } }
            close(fd)
            settle()
        }
        switch kind {
        case "in":
            guard let stdin else { return }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            do {
                while true {
                    let n = try buffer.withUnsafeMutableBytes { try stdin.read(into: $0) }
                    if n == 0 { break }
                    // A command that stopped reading early closed its stdin: not an error.
                    if !buffer.withUnsafeBytes({ RelayServer.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<n])) }) { break }
                }
            } catch {
                state.withLock { if $0.failure == nil { $0.failure = error } }
            }
            shutdown(fd, Int32(SHUT_WR))
        case "out", "err":
            let channel: OutputChannel = kind == "out" ? .stdout : .stderr
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                do { try buffer.withUnsafeBytes { try output(channel, UnsafeRawBufferPointer(rebasing: $0[..<n])) } } catch {
                    state.withLock { if $0.failure == nil { $0.failure = error } }
                    break
                }
            }
            let waitForExit = state.withLock { s -> Bool in
                if channel == .stdout { s.outDone = true } else { s.errDone = true }
                return s.outDone && s.errDone && s.exit == nil
            }
            // The exit code follows its output at once; output that ended without one means the workspace
            // lost the command (its task killed, its node gone).
            if waitForExit {
                watch(.seconds(10), until: \.hasExit) {
                    SandboxError(code: .exec, message: "the workspace lost the command: its output ended without an exit code (its task ended?)")
                }
            }
        case "exit":
            let code = rest.first.flatMap { Int($0) } ?? -1
            state.withLock { $0.exit = code }
            // Its output ends at once (the command has exited); a stream still open after 10 s was never
            // connected (the script could not reach this host for it).
            watch(.seconds(10), until: \.isFinished) {
                SandboxError(code: .exec, message: "the relay lost the command's output (exit \(code)): a connection from the workspace did not arrive")
            }
        default:
            break
        }
    }
}
