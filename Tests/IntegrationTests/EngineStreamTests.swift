import CurlHTTP
import DockerEngine
import Foundation
import Synchronization
import Testing

@Suite(.enabled(if: engineLikely, "needs a Docker engine (set ACP_DRILL_REQUIRE_DOCKER=1 to make it mandatory)"))
struct EngineStreamTests {
    @Test("exec: stdout and stderr apart, the exit code, and a missing binary")
    func exec() async throws {
        try await withFixture { f in
            let id = try await f.container("x", cmd: ["sleep", "300"], volume: nil)
            let r = try await f.client.execCollect(id, ["sh", "-c", "echo out; echo err >&2; echo more; exit 3"])
            #expect(r.exitCode == 3)
            #expect(r.stdoutText == "out\nmore\n")
            #expect(r.stderrText == "err\n")
            let env = try await f.client.execCollect(id, ["sh", "-c", "echo $ACP_X"], env: ["ACP_X=42"])
            #expect(env.stdoutText == "42\n" && env.exitCode == 0)
            let missing = try await f.client.execCollect(id, ["/no/such/binary"])
            #expect([126, 127].contains(missing.exitCode))
            #expect((missing.stdoutText + missing.stderrText).contains("no such file"))
        }
    }

    @Test("exec with stdin over a hijacked connection: small input, then 20 MB checksummed")
    func execStdin() async throws {
        try await withFixture { f in
            let id = try await f.container("s", cmd: ["sleep", "300"], volume: nil)
            let upper = try await f.client.execCollect(id, ["tr", "a-z", "A-Z"], stdin: MemorySource(Array("hello, stdin\n".utf8)))
            #expect(upper.stdoutText == "HELLO, STDIN\n")
            #expect(upper.exitCode == 0)

            let big = randomBytes(20 << 20)
            let host = try HostPipe(["sha256sum"])
            try big.withUnsafeBytes { try host.write($0) }
            let expected = String(try await host.finish().prefix(64))
            let inside = try await f.client.execCollect(id, ["sh", "-c", "sha256sum | cut -c1-64; wc -c >&2 </dev/null"],
                                                        stdin: MemorySource(big))
            #expect(inside.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
            #expect(inside.exitCode == 0)

            // A process that writes while it reads (cat echoes everything back) must not deadlock.
            let echo = try await f.client.execCollect(id, ["cat"], stdin: MemorySource(Array(big.prefix(8 << 20))), limit: 16 << 20)
            #expect(echo.stdout.count == 8 << 20)
            #expect(echo.stdout == Array(big.prefix(8 << 20)))

            let code = try await f.client.execCollect(id, ["sh", "-c", "cat >/dev/null; exit 5"], stdin: MemorySource([1, 2, 3]))
            #expect(code.exitCode == 5)
        }
    }

    @Test("archive: a 200 MB file streamed in with owner and mode, read back with the same checksum")
    func archiveRoundTrip() async throws {
        try await withFixture { f in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-it-\(f.project)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let file = "\(dir)/blob.bin"
            let out = try HostPipe(["sh", "-c", "head -c 209715200 /dev/urandom > '\(file)'"])
            _ = try await out.finish()
            let expected = try await sha256(ofFile: file)

            let id = try await f.container("a", cmd: ["sleep", "300"])
            try await f.client.putArchive(id, path: "/data", tar: try TarStream(entries: [
                TarEntry(name: "sub", content: .directory, mode: 0o700, uid: 999, gid: 999),
                TarEntry(name: "sub/blob.bin", content: .file(path: file), mode: 0o640, uid: 999, gid: 998),
                TarEntry(name: "note.txt", content: .bytes(Array("hi\n".utf8))),
            ]))
            // Read as the owner: the container runs without capabilities, so root cannot enter a 0700 folder of
            // uid 999 — which also shows the owner and mode arrived as written.
            let stat = try await f.client.execCollect(
                id, ["sh", "-c", "stat -c '%u %g %a %s' /data/sub/blob.bin; sha256sum /data/sub/blob.bin | cut -c1-64"],
                user: "999")
            #expect(try await f.client.execCollect(id, ["cat", "/data/sub/blob.bin"]).exitCode != 0)
            #expect(stat.stdoutText == "999 998 640 209715200\n\(expected)\n")
            #expect(try await f.client.statPath(id, path: "/data/sub").isDirectory)
            #expect(try await f.client.statPath(id, path: "/data/note.txt").size == 3)

            let hasher = try HostPipe(["sha256sum"])
            let reader = Mutex(TarReader())
            let names = Mutex<[String]>([])
            try await f.client.getArchive(id, path: "/data/sub") { chunk in
                try reader.withLock { r in
                    try r.feed(chunk) { event in
                        switch event {
                        case .member(let m): names.withLock { $0.append(m.name) }
                        case .data(let d): if names.withLock({ $0.last }) == "sub/blob.bin" { try hasher.write(d) }
                        case .end: break
                        }
                    }
                }
            }
            #expect(names.withLock { $0 }.contains("sub/blob.bin"))
            #expect(String(try await hasher.finish().prefix(64)) == expected)
            await #expect { try await f.client.statPath(id, path: "/data/missing") } throws: { ($0 as? DockerError)?.isNotFound == true }
        }
    }

    @Test("logs follow: streams until the container exits, stdout and stderr apart")
    func logsFollow() async throws {
        try await withFixture { f in
            let id = try await f.container("l", cmd: ["sh", "-c", "echo one; echo two >&2; sleep 0.5; echo three"], volume: nil)
            let collected = Collector()
            try await f.client.logs(id, follow: true) { stream, bytes in collected.append(stream, bytes) }
            #expect(collected.text(.stdout) == "one\nthree\n")
            #expect(collected.text(.stderr) == "two\n")
            #expect(try await f.client.inspectContainer(id).state.running == false)
            #expect(await f.client.logTail(id, lines: 1).contains("three"))
        }
    }

    @Test("events: filtered by our label, start and die arrive, the stream stops when we stop reading",
          .enabled(if: !EngineFixture.podman, "Podman's compatible events do not filter by label; acp-drill itself reads no events"))
    func events() async throws {
        try await withFixture { f in
            var filters = DockerFilters.label("dev.acp-drill.project", f.project)
            filters.add("type", "container")
            filters.add("event", "start")
            filters.add("event", "die")
            let stream = f.client.events(filters: filters)
            let reader = Task {
                var seen: [String] = []
                for try await event in stream {
                    seen.append(event.action)
                    if seen.contains("die") { break }
                }
                return seen
            }
            try await Task.sleep(for: .milliseconds(300))  // the subscription is live before the container starts
            _ = try await f.container("e", cmd: ["sh", "-c", "exit 0"], volume: nil)
            let seen = try await reader.value
            #expect(seen == ["start", "die"])

            // Replay with a bounded window ends by itself.
            let until = DockerClient.eventTime(Date())
            var replayed = 0
            for try await _ in f.client.events(filters: filters, since: "0", until: until) { replayed += 1 }
            #expect(replayed >= 2)
        }
    }

    @Test("images: import a root filesystem with changes, inspect, and remove; a pull that fails is an error",
          .enabled(if: !EngineFixture.podman, "Podman names an imported image docker.io/…; the images are built on dockerd and loaded into Podman"))
    func images() async throws {
        let client = try await EngineFixture.connect()
        let tag = "t\(UUID().uuidString.prefix(8).lowercased())"
        let tar = try TarStream(entries: [TarEntry(name: "hello.txt", content: .bytes(Array("hi".utf8)))])
        let id = try await client.importImage(
            tar, length: tar.length, repository: "acp-drill-test/imported", tag: tag,
            changes: ["LABEL dev.acp-drill.kind=test", "ENV A=1", #"CMD ["/hello"]"#, "VOLUME /data"])
        #expect(id.hasPrefix("sha256:"))
        let inspect = try await client.inspectImage("acp-drill-test/imported:\(tag)")
        #expect(inspect.config?.labels?["dev.acp-drill.kind"] == "test")
        #expect(inspect.config?.volumes?["/data"] != nil)
        #expect(inspect.config?.env?.contains("A=1") == true)
        #expect(try await client.listImages(filters: ["reference": ["acp-drill-test/imported:\(tag)"]]).count == 1)
        try await client.removeImage("acp-drill-test/imported:\(tag)", force: true)
        await #expect { try await client.inspectImage("acp-drill-test/imported:\(tag)") } throws: { ($0 as? DockerError)?.isNotFound == true }

        // A registry on loopback that is not there: no traffic leaves the machine.
        await #expect { try await client.pullImage("127.0.0.1:9/acp-drill-test/missing", tag: "1") } throws: { error in
            guard let e = error as? DockerError else { return false }
            return !e.message.isEmpty && (e.code == .serverError || e.code == .streamError || e.code == .notFound)
        }
    }
}
