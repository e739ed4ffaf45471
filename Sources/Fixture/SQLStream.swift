import Common
public import Sandbox
import Synchronization

/// A SQL script produced on demand as a request body (streamed into `psql` over exec stdin): parts are
/// generated only when libcurl pulls, so a scale-50 fixture never sits in memory.
public final class SQLStream: ExecInput {
    /// One piece of the script.
    public enum Part: Sendable {
        case text(String)
        /// `count` lines, each made by `line(i)` (called in order, once each).
        case rows(count: Int, line: @Sendable (Int) -> String)
        /// Parts decided only when reached (e.g. roots computed after the rows were generated).
        case deferred(@Sendable () -> [Part])
    }

    private struct State {
        var parts: [Part]
        var rowIndex = 0
        var staged = StagedBytes()
    }

    private let state: Mutex<State>

    public init(_ parts: [Part]) { state = Mutex(State(parts: parts.reversed())) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        state.withLock { s in
            var written = 0
            while written < buffer.count {
                if !s.staged.isDrained {
                    written += s.staged.copy(into: buffer, at: written)
                    continue
                }
                guard let part = s.parts.popLast() else { break }
                switch part {
                case .text(let text):
                    s.staged.stage(Array(text.utf8))
                case .rows(let count, let line):
                    // Up to 64 KiB of lines at a time; the rest goes back on the stack.
                    var chunk: [UInt8] = []
                    chunk.reserveCapacity(70_000)
                    while s.rowIndex < count, chunk.count < 65536 {
                        chunk.append(contentsOf: line(s.rowIndex).utf8)
                        chunk.append(10)
                        s.rowIndex += 1
                    }
                    s.staged.stage(chunk)
                    if s.rowIndex < count { s.parts.append(part) } else { s.rowIndex = 0 }
                case .deferred(let make):
                    s.parts.append(contentsOf: make().reversed())
                }
            }
            return written
        }
    }
}

/// COPY text-format escaping of one value.
func copyText(_ value: String) -> String { CopyText.escape(value) }
