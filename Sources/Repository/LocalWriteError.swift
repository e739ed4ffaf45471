public import Foundation

/// A local file could not be written (ENOSPC, EIO, …): a download's (final, never retried by the S3
/// client), a report's, a key's. Names the file and the system's reason.
public struct LocalWriteError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var errno: Int32

    public var description: String {
        "\(file): cannot write: \(String(cString: strerror(errno)))" + (errno == ENOSPC ? " (its file system is full)" : "")
    }

    public init(file: String, errno: Int32) {
        self.file = file
        self.errno = errno
    }

    /// write(2) until every byte of `chunk` is written to `fd` (the file `file`, for the error).
    public static func writeAll(_ chunk: UnsafeRawBufferPointer, to fd: Int32, file: String) throws {
        var offset = 0
        while offset < chunk.count {
            let n = Foundation.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if Foundation.errno == EINTR { continue }
                throw LocalWriteError(file: file, errno: Foundation.errno)
            }
            offset += n
        }
    }
}
