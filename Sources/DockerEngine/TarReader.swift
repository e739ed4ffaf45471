/// A member header read from a tar stream.
public struct TarMember: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory, symlink, hardlink, other(UInt8) }
    public var name: String
    public var kind: Kind
    public var size: Int64
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var mtime: Int64
    public var linkTarget: String
}

/// Why a tar stream could not be read.
public struct TarError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads a tar stream incrementally (ustar, PAX `x`/`g` and GNU `L`/`K` long names), handing out each member's
/// header and then its content in pieces, as the bytes arrive: an archive is never held in memory.
public struct TarReader: Sendable {
    public enum Event {
        case member(TarMember)
        /// Content of the last member, in order.
        case data(UnsafeRawBufferPointer)
        /// The end-of-archive blocks were read.
        case end
    }

    private enum Phase: Sendable { case header, content(remaining: Int64, padding: Int), meta(kind: UInt8, remaining: Int, padding: Int), done }

    private var phase: Phase = .header
    private var block: [UInt8] = []
    private var meta: [UInt8] = []
    private var pendingPax: [String: String] = [:]
    private var longName: String?
    private var longLink: String?
    private var zeroBlocks = 0

    public init() {}

    public var isFinished: Bool { if case .done = phase { return true } else { return false } }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        var offset = 0
        while offset < bytes.count {
            switch phase {
            case .done:
                return
            case .content(let remaining, let padding):
                if remaining > 0 {
                    let n = Int(min(remaining, Int64(bytes.count - offset)))
                    try handle(.data(UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])))
                    offset += n
                    phase = .content(remaining: remaining - Int64(n), padding: padding)
                } else {
                    let n = min(padding, bytes.count - offset)
                    offset += n
                    phase = padding - n > 0 ? .content(remaining: 0, padding: padding - n) : .header
                }
            case .meta(let kind, let remaining, let padding):
                if remaining > 0 {
                    let n = min(remaining, bytes.count - offset)
                    meta.append(contentsOf: bytes[offset ..< offset + n])
                    offset += n
                    phase = .meta(kind: kind, remaining: remaining - n, padding: padding)
                } else {
                    let n = min(padding, bytes.count - offset)
                    offset += n
                    if padding - n > 0 {
                        phase = .meta(kind: kind, remaining: 0, padding: padding - n)
                    } else {
                        try finishMeta(kind)
                        phase = .header
                    }
                }
            case .header:
                let n = min(512 - block.count, bytes.count - offset)
                block.append(contentsOf: bytes[offset ..< offset + n])
                offset += n
                guard block.count == 512 else { continue }
                let header = block
                block.removeAll(keepingCapacity: true)
                try readHeader(header, handle)
            }
        }
    }

    private mutating func readHeader(_ h: [UInt8], _ handle: (Event) throws -> Void) throws {
        if h.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 {
                phase = .done
                try handle(.end)
            }
            return
        }
        zeroBlocks = 0
        let stored = Int(Self.octal(h[148 ..< 156]))
        var sum = 0
        for (i, b) in h.enumerated() { sum += (148 ..< 156).contains(i) ? 0x20 : Int(b) }
        guard stored == sum else { throw TarError(message: "tar header checksum mismatch (stored \(stored), computed \(sum))") }
        let type = h[156]
        var size = Self.octal(h[124 ..< 136])
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size < 1 << 20 else { throw TarError(message: "tar extended header of \(size) bytes") }
            meta = []
            phase = .meta(kind: type, remaining: Int(size), padding: TarFormat.padding(size))
            if size == 0 { try finishMeta(type); phase = .header }
            return
        default: break
        }
        var name = Self.text(h[0 ..< 100])
        let prefix = Self.text(h[345 ..< 500])
        if !prefix.isEmpty, h[257 ..< 262].elementsEqual("ustar".utf8) { name = prefix + "/" + name }
        var link = Self.text(h[157 ..< 257])
        if let longName { name = longName }
        if let longLink { link = longLink }
        if let path = pendingPax["path"] { name = path }
        if let path = pendingPax["linkpath"] { link = path }
        if let s = pendingPax["size"], let v = Int64(s) { size = v }
        let uid = pendingPax["uid"].flatMap { Int($0) } ?? Int(Self.octal(h[108 ..< 116]))
        let gid = pendingPax["gid"].flatMap { Int($0) } ?? Int(Self.octal(h[116 ..< 124]))
        longName = nil
        longLink = nil
        pendingPax = [:]
        let kind: TarMember.Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "1"): kind = .hardlink
        default: kind = .other(type)
        }
        if kind != .file { if case .other = kind {} else { size = 0 } }
        let member = TarMember(
            name: name, kind: kind, size: size, mode: UInt32(Self.octal(h[100 ..< 108])), uid: uid, gid: gid,
            mtime: Self.octal(h[136 ..< 148]), linkTarget: link)
        try handle(.member(member))
        phase = .content(remaining: size, padding: TarFormat.padding(size))
    }

    private mutating func finishMeta(_ kind: UInt8) throws {
        switch kind {
        case UInt8(ascii: "L"): longName = Self.text(meta[...])
        case UInt8(ascii: "K"): longLink = Self.text(meta[...])
        case UInt8(ascii: "x"): pendingPax.merge(try Self.paxRecords(meta)) { $1 }
        default: break  // global headers carry nothing we use
        }
        meta = []
    }

    static func paxRecords(_ data: [UInt8]) throws -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: 0x20), let length = Int(String(decoding: data[i ..< space], as: UTF8.self)),
                length > 0, i + length <= data.count
            else { throw TarError(message: "malformed PAX record") }
            let record = data[(space + 1) ..< (i + length - 1)]
            if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
                out[String(decoding: record[..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            }
            i += length
        }
        return out
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU base-256 when the high bit of the first byte is set.
    static func octal(_ bytes: ArraySlice<UInt8>) -> Int64 {
        if let first = bytes.first, first & 0x80 != 0 {
            return bytes.dropFirst().reduce(Int64(first & 0x7f)) { $0 << 8 | Int64($1) }
        }
        var value: Int64 = 0
        for b in bytes {
            if b == 0 || b == 0x20 { if value > 0 { break } else { continue } }
            guard (48 ... 55).contains(b) else { break }
            value = value * 8 + Int64(b - 48)
        }
        return value
    }
}
