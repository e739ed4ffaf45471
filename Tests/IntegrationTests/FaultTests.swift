import Common
import Drill
import Fixture
import Foundation
import Repository
import Sandbox
import Synchronization
import Testing

/// Bad input and faults around a drill, each a clear error with nothing left behind and nothing
/// half-written: a damaged manifest, a repository folder the drill may not read, an S3 server that fails
/// intermittently and then for good (a fault-injecting proxy in front of moto, on loopback), a full
/// scratch disk, and a reports folder that cannot be written, before the drill and during it.
@Suite(.serialized) struct FaultTests {
    /// The projects on the engine that hold `set` (a drill's project records the set it restores).
    /// Drill sandboxes holding `set` that no live process owns: what a finished drill of this test left. A
    /// drill of another suite running at the same moment may hold a set of the same second; it is alive.
    static func projects(holding set: String, _ source: DrillSource) async throws -> [String] {
        try await Reaper.projects(client: source.client).filter { $0.holds?.hasPrefix("set \(set):") == true && $0.ownerState != .alive }.map(\.name)
    }

    @Test("a damaged manifest is refused before anything is fetched, named, in one line; the verdict line stays one line")
    func damagedManifest() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("damaged")
            let set = try #require(try LocalRepository(root: repo).completeSets().first)
            let path = "\(repo)/\(SetLayout.manifestKey(set))"
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            for (name, bytes, says) in [("truncated", whole.prefix(whole.count / 2), "the JSON is damaged"),
                                        ("no-objects", Data(#"{"format": 1, "timestamp": "\#(set)"}"#.utf8), "the field \"createdAt\" is missing")] {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let d = try await source.drill(repo, name: "manifest-\(name)")
                #expect(d.code == 1, "\(d.stdout)\n\(d.stderr)")
                let failure = try #require(d.report?.firstFailure)
                #expect(failure.hasPrefix("pick: set \(set): \(set)/manifest.json is refused") && failure.contains("not a valid manifest") && failure.contains(says), "\(failure)")
                #expect(d.report?.sandbox == nil, "nothing was provisioned")
                #expect(d.check("pick")?.fix?.contains("tampering") == true)
                #expect(d.lastLine.hasPrefix("Restore drill FAILED — pick: set \(set)") && !d.stdout.hasSuffix("\n\n"))
            }
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("a stale newest set fails freshness (the set still restores, the dry run says so); a newer folder without a manifest is named")
    func staleSet() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("stale")
            // A later nightly that died before its manifest.
            let later = SandboxProject.timestamp(Date().addingTimeInterval(60))
            try FileManager.default.createDirectory(atPath: "\(repo)/\(later)", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(repo)/\(later)/acp_audit.dump.age", contents: Data("partial".utf8))
            sleep(2)
            let (dry, dryOut) = try await runCLI(["run", "--dry-run", "--repo", repo, "--max-age", "1s"], environment: ["ACP_BACKUP_AGE_IDENTITY": "\(source.dir)/id.txt"])
            #expect(dry == 0 && dryOut.contains("freshness: FAILS"), "\(dryOut)")
            let d = try await source.drill(repo, name: "stale", ["--max-age", "1s"])
            #expect(d.code == 1, "\(d.stdout)\n\(d.stderr)")
            let fresh = try #require(d.check("freshness"))
            #expect(fresh.status == .failed && fresh.evidence.contains("older than the recovery point objective") && fresh.evidence.contains("without a manifest") && fresh.evidence.contains(later), "\(fresh.evidence)")
            #expect(d.report?.firstFailure?.hasPrefix("freshness:") == true)
            #expect(d.check("restore.acp_audit")?.status == .passed, "the set itself is still drilled")
            let ok = try await source.drill(repo, name: "fresh")
            #expect(ok.check("freshness")?.status == .passed && ok.check("freshness")?.evidence.contains(later) == true)
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("a repository folder the drill may not read is named with the system's reason (root without DAC override)")
    func unreadableRepository() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("unreadable")
            let set = try #require(try LocalRepository(root: repo).completeSets().first)
            // Root reads anything through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: the drill runs without them,
            // as an operator's service account would meet a folder it is not allowed into.
            let dropped = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search", "--"]
            chmod("\(repo)/\(set)", 0)
            defer { chmod("\(repo)/\(set)", 0o755) }
            let d = try await source.drill(repo, name: "unreadable", launcher: dropped)
            #expect(d.code == 1, "\(d.stdout)\n\(d.stderr)")
            let failure = try #require(d.report?.firstFailure, "\(d.stderr)")
            #expect(failure.contains("\(repo)/\(set): cannot read the repository folder: Permission denied"), "\(failure)")
            #expect(d.report?.sandbox == nil && d.lastLine.hasPrefix("Restore drill FAILED — pick: cannot list backup sets"))

            // The object itself unreadable: the checksum check names it and why; the sandbox is removed.
            chmod("\(repo)/\(set)", 0o755)
            chmod("\(repo)/\(set)/acp_audit.dump.age", 0)
            let o = try await source.drill(repo, name: "unreadable-object", launcher: dropped)
            #expect(o.code == 1)
            #expect(o.check("checksum.acp_audit")?.evidence.contains("Permission denied") == true, "\(o.check("checksum.acp_audit")?.evidence ?? "none")")
            #expect(o.report?.sandbox?.tornDown == true)
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("S3 failing now and then (503 SlowDown) is retried with backoff and the drill passes; failing for good, it fails with S3's own message")
    func flakyS3() async throws {
        let endpoint = try #require(ProcessInfo.processInfo.environment["ACP_TEST_S3_ENDPOINT"], "scripts/test.sh starts moto")
        let source = try await DrillSource.make()
        let creds = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"]
        let bucket = "acp-faults-\(UUID().uuidString.prefix(6).lowercased())"
        var proxies: [FaultProxy] = []
        do {
            let repo = try await source.backup("s3-faults")
            let s3 = try S3Client(endpoint: endpoint, environment: creds, logger: quietLogger)
            try s3.createBucket(bucket)
            for o in try LocalRepository(root: repo).list(prefix: "") { try s3.putFile(bucket: bucket, key: "nightly/\(o.key)", path: "\(repo)/\(o.key)") }
            let set = try #require(try LocalRepository(root: repo).completeSets().first)

            // Every third request fails: each call succeeds on a retry.
            let flaky = try FaultProxy(upstream: endpoint, ["--every", "3", "--status", "503", "--code", "SlowDown"])
            proxies.append(flaky)
            let env = creds.merging(["ACP_BACKUP_S3_BUCKET": "s3://\(bucket)/nightly", "ACP_BACKUP_S3_ENDPOINT": flaky.url]) { $1 }
            let d = try await source.drill(nil, name: "s3-flaky", env: env)
            #expect(d.code == 0, "\(d.stdout)\n\(d.stderr)")
            let (requests, faults) = try flaky.counts()
            #expect(faults >= 3 && requests > faults, "requests \(requests), faults \(faults)")
            #expect(d.stderr.contains("S3 call failed, retrying"), "a retry is logged")

            // Every request fails (500 InternalError): retried, then the drill fails with S3's own words.
            let down = try FaultProxy(upstream: endpoint, ["--every", "1", "--status", "500", "--code", "InternalError"])
            proxies.append(down)
            let t0 = ContinuousClock.now
            let f = try await source.drill(nil, name: "s3-down", env: env.merging(["ACP_BACKUP_S3_ENDPOINT": down.url]) { $1 })
            #expect(f.code == 1, "\(f.stdout)\n\(f.stderr)")
            let failure = try #require(f.report?.firstFailure)
            #expect(failure.contains("500 InternalError: We encountered an internal error. Please try again."), "\(failure)")
            #expect(try down.counts().requests >= Backoff().attempts, "retried before giving up")
            #expect(ContinuousClock.now - t0 < .seconds(60), "the backoff is bounded")
            #expect(f.report?.sandbox == nil && f.check("pick")?.fix?.contains("endpoint") == true)
            #expect(try await Self.projects(holding: set, source).isEmpty)
        } catch { proxies.forEach { $0.stop() }; await source.close(); throw error }
        proxies.forEach { $0.stop() }
        await source.close()
    }

    @Test("a full scratch disk (ENOSPC while the S3 ciphertext downloads): named with the fix, not retried, scratch and sandbox gone")
    func fullScratchDisk() async throws {
        let endpoint = try #require(ProcessInfo.processInfo.environment["ACP_TEST_S3_ENDPOINT"], "scripts/test.sh starts moto")
        let source = try await DrillSource.make()
        let creds = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"]
        let bucket = "acp-enospc-\(UUID().uuidString.prefix(6).lowercased())"
        let tiny = "\(source.dir)/tiny-tmp"
        try FileManager.default.createDirectory(atPath: tiny, withIntermediateDirectories: true)
        _ = try await run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "acp-drill-test-tiny", tiny])
        do {
            let repo = try await source.backup("enospc")
            let s3 = try S3Client(endpoint: endpoint, environment: creds, logger: quietLogger)
            try s3.createBucket(bucket)
            for o in try LocalRepository(root: repo).list(prefix: "") { try s3.putFile(bucket: bucket, key: "nightly/\(o.key)", path: "\(repo)/\(o.key)") }
            let env = creds.merging(["ACP_BACKUP_S3_BUCKET": "s3://\(bucket)/nightly", "ACP_BACKUP_S3_ENDPOINT": endpoint, "TMPDIR": tiny]) { $1 }
            let d = try await source.drill(nil, name: "enospc", env: env)
            #expect(d.code == 1, "\(d.stdout)\n\(d.stderr)")
            let audit = try #require(d.check("checksum.acp_audit"))
            #expect(audit.status == .failed && audit.evidence.contains("No space left on device (its file system is full)"), "\(audit.evidence)")
            #expect(audit.fix?.contains("TMPDIR") == true)
            #expect(!d.stderr.contains("retrying"), "a full disk is not retried")
            #expect(d.report?.sandbox?.tornDown == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: tiny).isEmpty, "the scratch folder and its partial downloads are gone")
        } catch { _ = try? await run(["umount", tiny]); await source.close(); throw error }
        _ = try await run(["umount", tiny])
        await source.close()
    }

    @Test("reports that cannot be written: refused before the drill starts (exit 2); lost during it, the sandbox is still removed and the drill exits 1 naming them")
    func unwritableReports() async throws {
        let source = try await DrillSource.make()
        do {
            let repo = try await source.backup("reports")
            let set = try #require(try LocalRepository(root: repo).completeSets().first)
            // A folder under a regular file can never be made.
            let file = "\(source.dir)/a-file"
            _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
            let before = try await runCLI(["run", "--repo", repo, "--reports", "\(file)/reports"], environment: ["ACP_BACKUP_AGE_IDENTITY": "\(source.dir)/id.txt"])
            #expect(before.0 == 2 && before.1.contains("--reports \(file)/reports") && before.1.contains("Not a directory") && before.1.contains("nothing was started"), "\(before.1)")
            #expect(try await Self.projects(holding: set, source).isEmpty)

            // The folder goes away during the checks (a full or unmounted disk): the drill finishes, tears
            // down, says which output it lost, and exits 1; the others are still written.
            let reports = "\(source.dir)/out-lost/reports"
            let d = try await source.drill(repo, name: "lost", until: { text in
                guard text.contains("▸ checks") else { return false }
                try? FileManager.default.removeItem(atPath: reports)
                _ = FileManager.default.createFile(atPath: reports, contents: Data("not a folder".utf8))
                return true
            }, signal: 0)
            #expect(d.code == 1, "\(d.stdout)\n\(d.stderr)")
            #expect(d.lastLine.hasPrefix("Restore drill FAILED — evidence not recorded: cannot write the report (--reports \(reports))") && d.lastLine.contains("the restore passed"), "\(d.lastLine)")
            #expect(d.stderr.contains("error: the report (--reports \(reports)): \(reports)"), "\(d.stderr)")
            #expect(FileManager.default.fileExists(atPath: "\(source.dir)/out-lost/junit.xml"), "the other outputs are written")
            #expect(try await Self.projects(holding: set, source).isEmpty, "the sandbox is removed")
        } catch { await source.close(); throw error }
        await source.close()
    }
}

/// scripts/s3_fault_proxy.py on a free loopback port, in front of `upstream`.
final class FaultProxy: Sendable {
    let process: Process
    let url: String

    init(upstream: String, _ options: [String]) throws {
        let port = try freeLoopbackPort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", repoRoot.appendingPathComponent("scripts/s3_fault_proxy.py").path, String(port), upstream] + options
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        url = "http://127.0.0.1:\(port)"
        for _ in 0 ..< 100 {
            if (try? counts()) != nil { return }
            usleep(50_000)
        }
        stop()
        throw FixtureError(message: "the fault proxy did not start on \(url)")
    }

    /// (requests seen, faults injected).
    func counts() throws -> (requests: Int, faults: Int) {
        let text = try runBlocking(["curl", "-fsS", "--max-time", "5", "\(url)/__faults"])
        let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Int] ?? [:]
        return (o["requests"] ?? 0, o["faults"] ?? 0)
    }

    /// SIGKILL: the test process may ignore SIGTERM (its handlers), and a child inherits that.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on now.
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw FixtureError(message: "no free port on 127.0.0.1") }
    return UInt16(bigEndian: addr.sin_port)
}
