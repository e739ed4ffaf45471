/// Bytes waiting to be handed out through a read callback, and how far they have been read: the common
/// part of every body source that produces its data in pieces (tar headers, SQL text, an in-memory body).
public struct StagedBytes: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var offset = 0

    public init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    /// Nothing left to hand out.
    public var isDrained: Bool { offset >= bytes.count }

    /// Replaces the staged bytes (the previous ones must be drained).
    public mutating func stage(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// Copies as much as fits into `buffer[at...]`; returns how many bytes were copied.
    public mutating func copy(into buffer: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        let n = min(buffer.count - start, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            UnsafeMutableRawBufferPointer(rebasing: buffer[start ..< start + n])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset ..< offset + n]))
        }
        offset += n
        return n
    }
}
