/// Cuts a byte stream into newline-terminated lines (pull progress, events), keeping a partial line
/// between chunks. Empty lines are dropped.
public struct JSONLineSplitter: Sendable {
    private var partial: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, line: ([UInt8]) throws -> Void) rethrows {
        var start = 0
        for i in 0 ..< bytes.count where bytes[i] == 10 {
            partial.append(contentsOf: bytes[start ..< i])
            if !partial.isEmpty { try line(partial) }
            partial.removeAll(keepingCapacity: true)
            start = i + 1
        }
        partial.append(contentsOf: bytes[start...])
    }

    /// The last line when the stream ended without a newline.
    public mutating func finish(line: ([UInt8]) throws -> Void) rethrows {
        if !partial.isEmpty { try line(partial) }
        partial.removeAll()
    }
}
