import DockerEngine
import Synchronization

/// A job's output, delivered once: as a followed log hands it over, then from a read-back of the whole log
/// after the job ended, of which only what the followed log had not delivered is passed on. A followed log
/// can end before its last lines arrive (Podman under load gave a job's first line only), and a swarm
/// service's followed log never ends by itself.
final class LogDelivery: Sendable {
    private let onOutput: @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void
    /// Bytes per stream: delivered while following, and seen again in the read-back.
    private let offsets = Mutex<(delivered: [StdioStream: Int], reread: [StdioStream: Int])>(([:], [:]))

    init(_ onOutput: @escaping @Sendable (StdioStream, UnsafeRawBufferPointer) throws -> Void) { self.onOutput = onOutput }

    /// A chunk of the followed log.
    func followed(_ stream: StdioStream, _ bytes: UnsafeRawBufferPointer) throws {
        offsets.withLock { $0.delivered[stream, default: 0] += bytes.count }
        try onOutput(stream, bytes)
    }

    /// A chunk of the read-back: what the followed log already delivered is skipped.
    func reread(_ stream: StdioStream, _ bytes: UnsafeRawBufferPointer) throws {
        let skip = offsets.withLock { o -> Int in
            let start = o.reread[stream, default: 0]
            o.reread[stream] = start + bytes.count
            return max(0, min(bytes.count, o.delivered[stream, default: 0] - start))
        }
        if skip < bytes.count { try onOutput(stream, UnsafeRawBufferPointer(rebasing: bytes[skip...])) }
    }
}
