import Common
import DockerEngine
import Foundation
import Testing

/// Drains a TarStream the way libcurl does: reads of a given size until 0.
func drain(_ tar: TarStream, chunk: Int = 16 * 1024) throws -> [UInt8] {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: chunk)
    while true {
        let n = try buffer.withUnsafeMutableBytes { try tar.read(into: $0) }
        if n == 0 { return out }
        out += buffer[..<n]
    }
}

/// Runs a program with input on stdin, returning stdout (and failing the test on a non-zero exit).
func run(_ args: [String], stdin: [UInt8] = [], cwd: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = args
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    process.standardInput = inPipe
    process.standardOutput = outPipe
    process.standardError = errPipe
    try process.run()
    let writer = Thread {
        try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        Issue.record("\(args.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
    }
    return String(decoding: out, as: UTF8.self)
}

func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct TarWriterTests {
    @Test("GNU tar reads what we write: long names, unicode, modes, owners, links, a multi-block file")
    func gnuTarReadsIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bigPath = "\(dir)/big.bin"
        var big = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 17)
        var rng = SplitMix64(seed: 7)
        for i in big.indices { big[i] = UInt8.random(in: 0 ... 255, using: &rng) }
        _ = FileManager.default.createFile(atPath: bigPath, contents: Data(big))

        let longName = "deep/" + String(repeating: "segment-", count: 20) + "file.txt"  // > 100 bytes
        let entries = [
            TarEntry(name: "deep", content: .directory, mode: 0o750, uid: 999, gid: 999),
            TarEntry(name: longName, content: .bytes(Array("long\n".utf8)), mode: 0o600, uid: 1000, gid: 1001),
            TarEntry(name: "ünïcödé-名前.txt", content: .bytes(Array("u\n".utf8))),
            TarEntry(name: "run.sh", content: .bytes(Array("#!/bin/sh\n".utf8)), mode: 0o755, uid: 70, gid: 70),
            TarEntry(name: "big.bin", content: .file(path: bigPath), uid: 2_500_000, gid: 5),
            TarEntry(name: "link", content: .symlink(target: String(repeating: "t/", count: 60) + "target")),
            TarEntry(name: "empty", content: .bytes([])),
        ]
        let tar = try TarStream(entries: entries)
        let bytes = try drain(tar, chunk: 777)
        #expect(Int64(bytes.count) == tar.length, "the announced Content-Length is the real size")
        #expect(bytes.count % 512 == 0)

        let listing = try run(["tar", "--numeric-owner", "-tvf", "-"], stdin: bytes)
        #expect(listing.contains("drwxr-x--- 999/999"))
        #expect(listing.contains("-rw------- 1000/1001"))
        #expect(listing.contains(longName))
        #expect(listing.contains("ünïcödé-名前.txt"))
        #expect(listing.contains("-rwxr-xr-x 70/70"))
        #expect(listing.contains("2500000/5"))
        #expect(listing.contains("-> " + String(repeating: "t/", count: 60) + "target"))

        let out = "\(dir)/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = try run(["tar", "-xf", "-", "-C", out], stdin: bytes)
        #expect(FileManager.default.contents(atPath: "\(out)/big.bin") == Data(big))
        #expect(FileManager.default.contents(atPath: "\(out)/\(longName)") == Data("long\n".utf8))
        #expect(FileManager.default.contents(atPath: "\(out)/ünïcödé-名前.txt") == Data("u\n".utf8))
    }

    @Test("a size of 8 GiB or more goes into a PAX header GNU tar understands")
    func hugeSizeHeader() throws {
        let size: Int64 = 9_000_000_123
        let header = TarFormat.headerBlocks(for: TarEntry(name: "huge.dump", content: .bytes([])), size: size)
        // GNU tar lists the member, then reports the (intentionally) missing content.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar", "-tvf", "-"]
        let inPipe = Pipe(), outPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        try inPipe.fileHandleForWriting.write(contentsOf: header + [UInt8](repeating: 0, count: 4096))
        try inPipe.fileHandleForWriting.close()
        let listing = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(listing.contains("9000000123"))
        #expect(listing.contains("huge.dump"))

        var reader = TarReader()
        var member: TarMember?
        try header.withUnsafeBytes { raw in
            try reader.feed(raw) { if case .member(let m) = $0 { member = m } }
        }
        #expect(member?.size == size)
    }

    @Test("our reader reads what GNU tar writes (long names, PAX), fed in random chunks", arguments: [1, 3, 511, 512, 513, 4096])
    func readerReadsGNUTar(chunk: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let longName = String(repeating: "x", count: 150) + ".txt"
        _ = FileManager.default.createFile(atPath: "\(dir)/\(longName)", contents: Data("hello".utf8))
        _ = FileManager.default.createFile(atPath: "\(dir)/b.bin", contents: Data(repeating: 7, count: 1500))
        for format in ["gnu", "posix"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["tar", "--format=\(format)", "-cf", "-", "-C", dir, longName, "b.bin"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let bytes = Array(out.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()

            var reader = TarReader()
            var members: [String: [UInt8]] = [:]
            var current = ""
            var ended = false
            var i = 0
            while i < bytes.count {
                let part = Array(bytes[i ..< min(bytes.count, i + chunk)])
                try part.withUnsafeBytes { raw in
                    try reader.feed(raw) { event in
                        switch event {
                        case .member(let m): current = m.name; members[current] = []
                        case .data(let d): members[current, default: []] += d
                        case .end: ended = true
                        }
                    }
                }
                i += chunk
            }
            #expect(members[longName] == Array("hello".utf8), "\(format)")
            #expect(members["b.bin"] == [UInt8](repeating: 7, count: 1500), "\(format)")
            #expect(ended, "\(format)")
        }
    }

    @Test("a missing file fails when the archive is planned, not halfway through an upload")
    func missingFile() {
        #expect(throws: (any Error).self) {
            try TarStream(entries: [TarEntry(name: "x", content: .file(path: "/nonexistent/acp-drill"))])
        }
    }

    @Test("a corrupted header is refused")
    func badChecksum() throws {
        var bytes = try drain(TarStream(entries: [TarEntry(name: "a", content: .bytes([1, 2, 3]))]))
        bytes[0] ^= 0x01
        var reader = TarReader()
        #expect(throws: TarError.self) {
            try bytes.withUnsafeBytes { raw in try reader.feed(raw) { _ in } }
        }
    }
}
