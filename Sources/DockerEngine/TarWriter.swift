public import CurlHTTP
import Common
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One member of a tar archive to write.
public struct TarEntry: Sendable {
    public enum Content: Sendable {
        /// A file on disk, read in chunks while the archive streams (never loaded whole).
        case file(path: String)
        case bytes([UInt8])
        case directory
        case symlink(target: String)
    }

    /// The member's path inside the archive (relative, `/`-separated).
    public var name: String
    public var content: Content
    /// Permission bits, e.g. 0o644.
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    /// Seconds since 1970.
    public var mtime: Int64

    public init(name: String, content: Content, mode: UInt32? = nil, uid: Int = 0, gid: Int = 0, mtime: Int64? = nil) {
        self.name = name
        self.content = content
        switch content {
        case .directory: self.mode = mode ?? 0o755
        case .symlink: self.mode = mode ?? 0o777
        default: self.mode = mode ?? 0o644
        }
        self.uid = uid
        self.gid = gid
        self.mtime = mtime ?? Int64(Date().timeIntervalSince1970)
    }
}

/// Encodes POSIX (ustar + PAX) tar headers. Names over 100 bytes, non-ASCII names, link targets over 100
/// bytes, sizes of 8 GiB and over, and ids over 2,097,151 go into a PAX extended header, which GNU tar and
/// Go's archive/tar (the daemon) both read.
public enum TarFormat {
    public static let blockSize = 512

    /// The header blocks (PAX + ustar) for an entry of `size` content bytes.
    public static func headerBlocks(for entry: TarEntry, size: Int64) -> [UInt8] {
        let typeflag: UInt8
        var linkname = ""
        var size = size
        switch entry.content {
        case .file, .bytes: typeflag = UInt8(ascii: "0")
        case .directory: typeflag = UInt8(ascii: "5"); size = 0
        case .symlink(let target): typeflag = UInt8(ascii: "2"); linkname = target; size = 0
        }
        var name = entry.name
        if case .directory = entry.content, !name.hasSuffix("/") { name += "/" }

        var pax: [(String, String)] = []
        let nameFits = name.utf8.count <= 100 && name.utf8.allSatisfy { $0 < 0x80 }
        if !nameFits { pax.append(("path", name)) }
        if linkname.utf8.count > 100 || !linkname.utf8.allSatisfy({ $0 < 0x80 }) { pax.append(("linkpath", linkname)) }
        if size > 0o77777777777 { pax.append(("size", String(size))) }
        if entry.uid > 0o7777777 { pax.append(("uid", String(entry.uid))) }
        if entry.gid > 0o7777777 { pax.append(("gid", String(entry.gid))) }

        var out: [UInt8] = []
        if !pax.isEmpty {
            let records = pax.map(paxRecord).joined()
            let data = Array(records.utf8)
            let base = name.split(separator: "/").last.map(String.init) ?? "entry"
            out += ustarHeader(
                name: "PaxHeaders.0/" + truncated(base, 80), mode: 0o644, uid: 0, gid: 0,
                size: Int64(data.count), mtime: entry.mtime, typeflag: UInt8(ascii: "x"), linkname: "")
            out += data
            out += [UInt8](repeating: 0, count: padding(Int64(data.count)))
        }
        out += ustarHeader(
            name: truncated(name, 100), mode: entry.mode, uid: min(entry.uid, 0o7777777), gid: min(entry.gid, 0o7777777),
            size: min(size, 0o77777777777), mtime: entry.mtime, typeflag: typeflag, linkname: truncated(linkname, 100))
        return out
    }

    /// Zero bytes that pad `size` content bytes to a whole block.
    public static func padding(_ size: Int64) -> Int {
        let rem = Int(size % Int64(blockSize))
        return rem == 0 ? 0 : blockSize - rem
    }

    /// `"<len> key=value\n"` where len counts the whole record, itself included.
    static func paxRecord(_ pair: (String, String)) -> String {
        let body = " \(pair.0)=\(pair.1)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length = String(length).count + body.utf8.count }
        return "\(length)\(body)"
    }

    static func truncated(_ text: String, _ max: Int) -> String {
        var bytes = Array(text.utf8.prefix(max))
        while !bytes.isEmpty, String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }
        return String(decoding: bytes.map { $0 < 0x80 ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }

    static func ustarHeader(
        name: String, mode: UInt32, uid: Int, gid: Int, size: Int64, mtime: Int64, typeflag: UInt8, linkname: String
    ) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: blockSize)
        func put(_ text: String, _ offset: Int, _ width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int64, _ offset: Int, _ width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, offset, width - 1)
        }
        put(name, 0, 100)
        octal(Int64(mode & 0o7777), 100, 8)
        octal(Int64(uid), 108, 8)
        octal(Int64(gid), 116, 8)
        octal(size, 124, 12)
        octal(max(0, mtime), 136, 12)
        h[156] = typeflag
        put(linkname, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        for i in 148 ..< 156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(Int64(sum), 148, 7)
        h[155] = 0x20
        return h
    }
}

/// A tar archive produced on demand as a request body: headers are generated and files are read in chunks
/// as libcurl pulls, so a 1 GB file streams in constant memory. The total `length` is known up front (the
/// files are stat-ed at creation), so uploads carry a `Content-Length`.
public final class TarStream: HTTPBodySource {
    private struct Planned: Sendable {
        var header: [UInt8]
        var entry: TarEntry
        var size: Int64
    }

    private struct State {
        var index = 0
        /// Bytes ready to hand out (a header, padding, in-memory content, the trailer).
        var staged = StagedBytes()
        var fd: Int32 = -1
        var fileRemaining: Int64 = 0
        var pendingPadding = 0
        var finished = false
    }

    private let planned: [Planned]
    /// The exact archive size in bytes.
    public let length: Int64
    private let state = Mutex(State())

    /// Stats every `.file` entry now; a missing file throws here, not halfway through an upload.
    public init(entries: [TarEntry]) throws {
        var planned: [Planned] = []
        var total: Int64 = 0
        for entry in entries {
            var size: Int64 = 0
            switch entry.content {
            case .file(let path):
                var st = stat()
                guard stat(path, &st) == 0 else {
                    throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
                }
                size = Int64(st.st_size)
            case .bytes(let bytes): size = Int64(bytes.count)
            case .directory, .symlink: size = 0
            }
            let header = TarFormat.headerBlocks(for: entry, size: size)
            planned.append(Planned(header: header, entry: entry, size: size))
            total += Int64(header.count) + size + Int64(TarFormat.padding(size))
        }
        self.planned = planned
        self.length = total + 2 * Int64(TarFormat.blockSize)
    }

    deinit {
        state.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try state.withLock { s in
            var written = 0
            while written < buffer.count {
                if !s.staged.isDrained {
                    written += s.staged.copy(into: buffer, at: written)
                    continue
                }
                if s.fileRemaining > 0 {
                    let want = Int(min(Int64(buffer.count - written), s.fileRemaining))
                    let got = Glibc.read(s.fd, buffer.baseAddress! + written, want)
                    if got < 0 { throw CocoaError(.fileReadUnknown) }
                    if got == 0 { throw CocoaError(.fileReadCorruptFile) }  // the file shrank while streaming
                    s.fileRemaining -= Int64(got)
                    written += got
                    if s.fileRemaining == 0 {
                        close(s.fd)
                        s.fd = -1
                        s.staged.stage([UInt8](repeating: 0, count: s.pendingPadding))
                    }
                    continue
                }
                if s.finished { break }
                guard s.index < planned.count else {
                    s.staged.stage([UInt8](repeating: 0, count: 2 * TarFormat.blockSize))
                    s.finished = true
                    continue
                }
                let next = planned[s.index]
                s.index += 1
                let padding = TarFormat.padding(next.size)
                switch next.entry.content {
                case .file(let path):
                    s.staged.stage(next.header)
                    if next.size > 0 {
                        let fd = open(path, O_RDONLY | O_CLOEXEC)
                        if fd < 0 { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
                        s.fd = fd
                        s.fileRemaining = next.size
                        s.pendingPadding = padding
                    }
                case .bytes(let bytes):
                    s.staged.stage(next.header + bytes + [UInt8](repeating: 0, count: padding))
                case .directory, .symlink:
                    s.staged.stage(next.header)
                }
            }
            return written
        }
    }
}
