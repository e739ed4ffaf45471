import Common
import CurlHTTP
import DockerEngine
import Foundation
import Logging
import Synchronization
import Testing

/// Integration tests need a Docker engine. With ACP_DRILL_REQUIRE_DOCKER=1 (scripts/test.sh, CI) they always
/// run, so a missing engine fails instead of silently skipping.
let engineRequired = ProcessInfo.processInfo.environment["ACP_DRILL_REQUIRE_DOCKER"] == "1"
let engineLikely = engineRequired || ProcessInfo.processInfo.environment["DOCKER_HOST"] != nil
    || FileManager.default.fileExists(atPath: "/var/run/docker.sock")

let testImage = "acp-drill/redis:7"

/// One test's own labelled project on the daemon; everything it creates carries `labels` and is removed by
/// label afterwards, in reverse order of kind (containers, then networks, then volumes).
struct EngineFixture: Sendable {
    let client: DockerClient
    let project: String
    var labels: [String: String] {
        ["dev.acp-drill.project": project, "dev.acp-drill.kind": "test", "dev.acp-drill.expires-at": testExpiry]
    }

    /// The suite runs against Podman's Docker-compatible API (scripts/test.sh sets it for that pass).
    static let podman = ProcessInfo.processInfo.environment["ACP_TEST_ENGINE"] == "podman"

    static func connect() async throws -> DockerClient {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try await DockerClient.connect(environment: .system(variables: ProcessInfo.processInfo.environment), logger: logger)
    }

    /// A stopped-by-default container on `network` (or no network) running `cmd`.
    func container(_ suffix: String, cmd: [String], network: String? = nil, volume: String? = "/data",
                   start: Bool = true) async throws -> String {
        var spec = ContainerCreate(image: testImage, cmd: cmd, labels: labels)
        spec.hostConfig.networkMode = network ?? "none"
        if let volume { spec.hostConfig.mounts = [.anonymousVolume(at: volume, labels: labels)] }
        spec.hostConfig.capDrop = ["ALL"]
        spec.hostConfig.securityOpt = ["no-new-privileges"]
        let id = try await client.createContainer(name: "\(project)-\(suffix)", spec)
        if start { try await client.startContainer(id) }
        return id
    }

    func cleanup() async {
        let filter = DockerFilters.label("dev.acp-drill.project", project)
        for c in (try? await client.listContainers(filters: filter)) ?? [] {
            try? await client.removeContainer(c.id, force: true, volumes: true)
        }
        for n in (try? await client.listNetworks(filters: filter)) ?? [] { try? await client.removeNetwork(n.id) }
        for v in (try? await client.listVolumes(filters: filter)) ?? [] { try? await client.removeVolume(v.name, force: true) }
    }
}

func withFixture(_ body: (EngineFixture) async throws -> Void) async throws {
    let client = try await EngineFixture.connect()
    let suffix = String(UUID().uuidString.lowercased().prefix(8))
    let fixture = EngineFixture(client: client, project: "acp_test_\(suffix)")
    do {
        try await body(fixture)
    } catch {
        await fixture.cleanup()
        throw error
    }
    await fixture.cleanup()
    // The fixture's own promise: nothing with its label is left.
    let filter = DockerFilters.label("dev.acp-drill.project", fixture.project)
    #expect(try await client.listContainers(filters: filter).isEmpty)
    #expect(try await client.listNetworks(filters: filter).isEmpty)
    #expect(try await client.listVolumes(filters: filter).isEmpty)
}

/// Collects bytes written from the transfer thread.
final class Collector: Sendable {
    private let data = Mutex<[StdioStream: [UInt8]]>([:])
    func append(_ stream: StdioStream, _ bytes: UnsafeRawBufferPointer) { data.withLock { $0[stream, default: []] += bytes } }
    func text(_ stream: StdioStream) -> String { String(decoding: data.withLock { $0[stream] ?? [] }, as: UTF8.self) }
}

/// A request body from memory (stands in for a dump streamed into psql).
typealias MemorySource = BytesBodySource

/// A host process fed incrementally (e.g. `sha256sum` of a stream read back from the daemon).
final class HostPipe: Sendable {
    private let process: Process
    private let input: FileHandle
    private let output: FileHandle

    init(_ args: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        let inPipe = Pipe(), outPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        try process.run()
        self.process = process
        self.input = inPipe.fileHandleForWriting
        self.output = outPipe.fileHandleForReading
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try input.write(contentsOf: Data(bytes)) }

    func finish() async throws -> String {
        try await BlockingExecutor.run("test") { try self.finishBlocking() }
    }

    private func finishBlocking() throws -> String {
        try input.close()
        let out = output.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

func sha256(ofFile path: String) async throws -> String {
    let pipe = try HostPipe(["sha256sum", path])
    return String(try await pipe.finish().prefix(64))
}


/// `count` random bytes, eight at a time (byte-wise generation is slow in debug builds).
func randomBytes(_ count: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { raw in
        var i = 0
        while i + 8 <= count {
            raw.storeBytes(of: rng.next() as UInt64, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count { raw[i] = UInt8.random(in: 0 ... 255, using: &rng); i += 1 }
    }
    return out
}

/// An expiry an hour ahead, so that a `gc` run by a parallel test never collects a live fixture.
let testExpiry: String = {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date().addingTimeInterval(3600))
}()
