/// Which stream a piece of exec/attach/logs output belongs to.
public enum StdioStream: UInt8, Sendable {
    case stdin = 0, stdout = 1, stderr = 2
}

/// Splits Docker's multiplexed stream (non-TTY logs, attach and exec output) into stdout and stderr.
///
/// Every frame is an 8-byte header — stream type, three zero bytes, a big-endian UInt32 payload length —
/// followed by the payload. Frames do not line up with reads: a header or payload may be split at any byte,
/// so the demuxer keeps only the partial header between calls and hands payload bytes on as they arrive
/// (a large frame is never buffered whole).
public struct StreamDemuxer: Sendable {
    private var header: [UInt8] = []
    private var stream: StdioStream = .stdout
    private var remaining = 0

    public init() {}

    /// Whether a frame is partly read: at the end of the stream this means the output was cut short.
    public var hasPartialFrame: Bool { !header.isEmpty || remaining > 0 }

    /// Feeds the next bytes; `emit` receives each run of payload with the stream it belongs to.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, emit: (StdioStream, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var offset = 0
        while offset < bytes.count {
            if remaining > 0 {
                let n = min(remaining, bytes.count - offset)
                try emit(stream, UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n]))
                remaining -= n
                offset += n
                continue
            }
            let need = 8 - header.count
            let n = min(need, bytes.count - offset)
            header.append(contentsOf: bytes[offset ..< offset + n])
            offset += n
            guard header.count == 8 else { break }
            guard let kind = StdioStream(rawValue: header[0]), header[1] == 0, header[2] == 0, header[3] == 0 else {
                throw DemuxError(header: header)
            }
            stream = kind
            remaining = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
            header.removeAll(keepingCapacity: true)
        }
    }

    /// Convenience for tests and small outputs.
    public mutating func feed(_ bytes: [UInt8], emit: (StdioStream, [UInt8]) throws -> Void) throws {
        try bytes.withUnsafeBytes { raw in try feed(raw) { try emit($0, Array($1)) } }
    }

    /// The stream did not start with a valid frame header: it is not multiplexed (a TTY stream?).
    public struct DemuxError: Error, Sendable, CustomStringConvertible {
        public var header: [UInt8]
        public var description: String {
            "not a multiplexed stream: frame header \(header.map { String($0, radix: 16) }.joined(separator: " "))"
        }
    }
}
