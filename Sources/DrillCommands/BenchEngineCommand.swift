import ArgumentParser
import CurlHTTP
import DockerEngine
import Foundation
import Sandbox
import Synchronization

/// `acp-drill bench engine`: API latency and archive upload throughput of our client against the docker CLI.
struct BenchEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Measure Engine API latency and archive upload throughput against the docker CLI.",
        discussion: prose("""
            Prints: the median latency of /_ping and GET /containers/json through acp-drill's client vs one
            docker CLI process per call (`docker version`, `docker ps -q`); the upload throughput of a file
            into a container (PUT /archive, streamed) vs `docker cp`; and this process's peak RSS during the
            upload. Creates one labelled container (acp_bench_*) and removes it.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "In-process calls per latency figure.") var calls = 300
    @Option(help: "docker CLI processes per latency figure.") var cliCalls = 20
    @Option(name: .customLong("size-mib"), help: "Upload size in MiB.") var sizeMiB = 1024
    @Option(help: "The engine's own CLI to compare with (default: docker for dockerd, podman for Podman).") var docker: String?

    func run() async throws {
        let client = try await engine.connect()
        // Each engine against its own CLI: Podman's is podman (it works on the same store directly).
        let cli = docker ?? (client.libpodVersion == nil ? "docker" : "podman")
        print("engine: \(client.libpodVersion.map { "Podman (libpod API \($0))" } ?? "Docker Engine") at \(client.host.endpoint), API \(client.apiVersion); baseline: the \(cli) CLI")
        let runCLI: ([String]) throws -> Void = { args in try runProgram([cli] + args) }

        let ping = try await median(calls) { _ = try await client.ping() }
        let list = try await median(calls) { _ = try await client.listContainers() }
        let cliPing = try median(cliCalls) { try runCLI(["version", "--format", "{{.Server.APIVersion}}"]) }
        let cliList = try median(cliCalls) { try runCLI(["ps", "-aq"]) }
        print(String(format: "latency /_ping:            %7.3f ms median (%@ CLI %7.1f ms) — %.0f× faster", ping * 1e3, cli, cliPing * 1e3, cliPing / ping))
        print(String(format: "latency GET /containers:   %7.3f ms median (%@ CLI %7.1f ms) — %.0f× faster", list * 1e3, cli, cliList * 1e3, cliList / list))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("blob.bin").path
        try writePattern(to: file, bytes: Int64(sizeMiB) << 20)

        let name = "acp_bench_\(getpid())_\(Int(Date().timeIntervalSince1970))"
        let labels = ["dev.acp-drill.project": name, "dev.acp-drill.kind": "bench"]
        var spec = ContainerCreate(image: "acp-drill/redis:7", cmd: ["redis-server"], labels: labels)
        spec.hostConfig.networkMode = "none"
        // A labelled volume made first (Podman drops an anonymous volume's labels), removed at the end.
        let volume = try await client.createVolume(VolumeCreate(name: "\(name)-data", labels: labels)).name
        spec.hostConfig.mounts = [Mount(type: "volume", source: volume, target: "/data")]
        let id: String
        do { id = try await client.createContainer(name: name, spec) } catch {
            try? await client.removeVolume(volume, force: true)
            throw error
        }
        do {
            let rssBefore = peakRSSMiB()
            let ours = try await timed {
                try await client.putArchive(id, path: "/data", tar: try TarStream(entries: [
                    TarEntry(name: "ours.bin", content: .file(path: file)),
                ]))
            }
            let rssAfter = peakRSSMiB()
            let theirs = try timedSync { try runCLI(["cp", file, "\(id):/data/cli.bin"]) }
            let mib = Double(sizeMiB)
            print(String(format: "upload %d MiB PUT /archive: %7.1f MiB/s (%@ cp %7.1f MiB/s) — %.2f× %@ cp", sizeMiB, mib / ours, cli, mib / theirs, theirs / ours, cli))
            print(String(format: "peak RSS: %.1f MiB for the whole process (%.1f MiB before the upload)", rssAfter, rssBefore))
        } catch {
            try? await client.removeContainer(id, force: true)
            try? await client.removeVolume(volume, force: true)
            throw error
        }
        try await client.removeContainer(id, force: true)
        try await client.removeVolume(volume, force: true)
    }
}

/// Writes `bytes` of a non-repeating pattern (so no layer can shortcut zeros).
func writePattern(to path: String, bytes: Int64) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    defer { try? handle.close() }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    var written: Int64 = 0
    while written < bytes {
        for i in stride(from: 0, to: chunk.count, by: 8) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            withUnsafeBytes(of: x.littleEndian) { raw in
                for j in 0 ..< 8 { chunk[i + j] = raw[j] }
            }
        }
        let n = Int(min(Int64(chunk.count), bytes - written))
        try handle.write(contentsOf: chunk[..<n])
        written += Int64(n)
    }
}

func timed(_ body: () async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await body()
    return (ContinuousClock.now - start).inSeconds
}

func timedSync(_ body: () throws -> Void) throws -> Double {
    let start = ContinuousClock.now
    try body()
    return (ContinuousClock.now - start).inSeconds
}

func median(_ n: Int, _ body: () async throws -> Void) async throws -> Double {
    var samples: [Double] = []
    for _ in 0 ..< max(1, n) { samples.append(try await timed(body)) }
    return samples.sorted()[samples.count / 2]
}

func median(_ n: Int, _ body: () throws -> Void) throws -> Double {
    var samples: [Double] = []
    for _ in 0 ..< max(1, n) { samples.append(try timedSync(body)) }
    return samples.sorted()[samples.count / 2]
}

/// This process's peak resident set size (getrusage: KiB on Linux).
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
