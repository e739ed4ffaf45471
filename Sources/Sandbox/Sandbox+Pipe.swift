public import Common
public import Foundation
import Synchronization

/// What a host producer piped into a command in the sandbox did.
public struct PipeResult: Sendable {
    /// The command's own result in the service.
    public var command: CommandResult
    /// The producer's exit status (0: it finished; a decryptor that failed authentication does not).
    public var producerStatus: Int32
    /// The producer's stderr (bounded), trimmed.
    public var producerError: String
    /// Bytes the producer wrote (all of them: what the command did not read was drained).
    public var bytes: Int64
}

extension Sandbox {
    /// Runs `producer` on the host and streams its stdout into `command` in `service` over the backend's
    /// exec stdin: plaintext from a decryptor goes straight into the sandbox and never touches the host's
    /// disk. The producer's output is drained to its end even when the command stops reading early
    /// (`pg_restore --list` reads only the table of contents), so that a decryptor reaches the end and
    /// authenticates every chunk. Secrets reach the producer through `environment` only.
    public func pipe(_ producer: [String], environment: [String: String] = [:], into command: [String], in service: Service,
                     env: [String] = []) async throws -> PipeResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = producer
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let fd = out.fileHandleForReading.fileDescriptor
        let input = CountingInput(FileDescriptorInput(fd: fd))
        // stderr is read beside the stream (a chatty producer must not block on a full pipe), on a thread of
        // its own: a blocking read on the cooperative pool would starve the exec streams that let the
        // producer finish (two decryptions at once deadlocked a two-core machine).
        let errorHandle = err.fileHandleForReading
        async let errors = BlockingExecutor.run("pipe stderr") { errorHandle.readDataToEndOfFile() }
        let result: CommandResult
        do {
            result = try await run(command, in: service, env: env, stdin: input)
        } catch {
            process.terminate()
            _ = try? await errors
            process.waitUntilExit()
            throw error
        }
        // Whatever the command left unread, drained (counted) to the producer's end.
        let drained = try await BlockingExecutor.run("pipe drain") { () -> Int64 in
            var sink = [UInt8](repeating: 0, count: 1 << 16)
            var n: Int64 = 0
            while true {
                let r = sink.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
                if r > 0 { n += Int64(r) } else if r == 0 || errno != EINTR { break }
            }
            return n
        }
        let errText = String(decoding: (try await errors).prefix(4096), as: UTF8.self)
        try await BlockingExecutor.run("pipe wait") { process.waitUntilExit() }
        return PipeResult(command: result, producerStatus: process.terminationStatus,
                          producerError: errText.trimmingCharacters(in: .whitespacesAndNewlines), bytes: input.count + drained)
    }
}

/// An input that counts what was read through it.
final class CountingInput: ExecInput {
    let inner: any ExecInput
    private let total = Mutex<Int64>(0)

    init(_ inner: any ExecInput) { self.inner = inner }

    var count: Int64 { total.withLock { $0 } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        total.withLock { $0 += Int64(n) }
        return n
    }
}
