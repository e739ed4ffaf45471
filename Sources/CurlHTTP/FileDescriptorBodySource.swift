import Foundation

/// A request body read from a file descriptor until end of file: standard input, or a pipe from another
/// process (a decryptor's output streamed into a container, never landing on disk).
public final class FileDescriptorBodySource: HTTPBodySource {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw CocoaError(.fileReadUnknown) }
        }
    }
}
