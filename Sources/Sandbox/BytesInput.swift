public import Foundation
import Synchronization

/// Bytes in memory as a command's stdin (a script for psql: passwords and SQL stay off the argument list).
public final class BytesInput: ExecInput {
    private let bytes: [UInt8]
    private let offset = Mutex(0)

    public init(_ data: Data) { bytes = Array(data) }
    public convenience init(_ text: String) { self.init(Data(text.utf8)) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        offset.withLock { at in
            let n = min(buffer.count, bytes.count - at)
            guard n > 0 else { return 0 }
            bytes.withUnsafeBytes { src in buffer.baseAddress!.copyMemory(from: src.baseAddress! + at, byteCount: n) }
            at += n
            return n
        }
    }
}
