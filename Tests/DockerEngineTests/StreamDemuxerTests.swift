import Common
import DockerEngine
import Testing

func frame(_ stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
    let n = UInt32(payload.count)
    return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
}

func demux(_ chunks: [[UInt8]]) throws -> (out: [UInt8], err: [UInt8], partial: Bool) {
    var demuxer = StreamDemuxer()
    var out: [UInt8] = []
    var err: [UInt8] = []
    for chunk in chunks {
        try demuxer.feed(chunk) { stream, bytes in
            if stream == .stderr { err += bytes } else { out += bytes }
        }
    }
    return (out, err, demuxer.hasPartialFrame)
}

@Suite struct StreamDemuxerTests {
    static let frames: [(UInt8, [UInt8])] = [
        (1, Array("hello\n".utf8)), (2, Array("warning: x\n".utf8)), (1, []), (1, Array(repeating: 0x41, count: 300)),
        (2, [0, 1, 2, 255]), (1, Array("tail".utf8)),
    ]
    static var stream: [UInt8] { frames.flatMap { frame($0.0, $0.1) } }
    static var expectedOut: [UInt8] { frames.filter { $0.0 == 1 }.flatMap(\.1) }
    static var expectedErr: [UInt8] { frames.filter { $0.0 == 2 }.flatMap(\.1) }

    @Test("one split at every byte boundary gives the same streams")
    func everySingleSplit() throws {
        let bytes = Self.stream
        for cut in 0 ... bytes.count {
            let result = try demux([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(result.out == Self.expectedOut, "cut at \(cut)")
            #expect(result.err == Self.expectedErr, "cut at \(cut)")
            #expect(!result.partial)
        }
    }

    @Test("every pair of split points, i.e. headers split across three reads")
    func everyDoubleSplit() throws {
        let bytes = Self.stream
        for a in stride(from: 0, through: bytes.count, by: 1) {
            for b in stride(from: a, through: bytes.count, by: 7) {
                let result = try demux([Array(bytes[..<a]), Array(bytes[a ..< b]), Array(bytes[b...])])
                #expect(result.out == Self.expectedOut && result.err == Self.expectedErr, "cuts \(a), \(b)")
            }
        }
    }

    @Test("random frames fed one byte at a time and in random chunks", arguments: 1 ... 40)
    func randomFrames(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        var out: [UInt8] = []
        var err: [UInt8] = []
        for _ in 0 ..< Int.random(in: 1 ... 20, using: &rng) {
            let payload = (0 ..< Int.random(in: 0 ... 2000, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let stream: UInt8 = Bool.random(using: &rng) ? 1 : 2
            bytes += frame(stream, payload)
            if stream == 1 { out += payload } else { err += payload }
        }
        var chunks: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let n = Int.random(in: 1 ... 700, using: &rng)
            chunks.append(Array(bytes[i ..< min(bytes.count, i + n)]))
            i += n
        }
        let result = try demux(chunks)
        #expect(result.out == out)
        #expect(result.err == err)
        let bytewise = try demux(bytes.map { [$0] })
        #expect(bytewise.out == out && bytewise.err == err)
    }

    @Test("a cut inside a frame is reported as partial")
    func partialFrame() throws {
        let bytes = frame(1, Array("abcdef".utf8))
        for cut in 1 ..< bytes.count {
            #expect(try demux([Array(bytes[..<cut])]).partial, "cut at \(cut)")
        }
    }

    @Test("a raw (TTY) stream is refused, not misread", arguments: [
        Array("hello world\n".utf8), [3, 0, 0, 0, 0, 0, 0, 1, 65], [1, 1, 0, 0, 0, 0, 0, 0],
    ])
    func invalidHeader(bytes: [UInt8]) {
        #expect(throws: StreamDemuxer.DemuxError.self) { try demux([bytes]) }
    }
}

@Suite struct JSONLineSplitterTests {
    @Test("lines survive every split point", arguments: [
        "{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}\n\n{\"b\":2}", "single", "\n\n\n", "x\ny\nz\n",
    ])
    func splits(text: String) {
        let bytes = Array(text.utf8)
        let expected = text.split(separator: "\n").map(String.init)
        for cut in 0 ... bytes.count {
            var splitter = JSONLineSplitter()
            var lines: [String] = []
            for part in [Array(bytes[..<cut]), Array(bytes[cut...])] {
                part.withUnsafeBytes { splitter.feed($0) { lines.append(String(decoding: $0, as: UTF8.self)) } }
            }
            splitter.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
            #expect(lines == expected, "cut at \(cut)")
        }
    }
}
