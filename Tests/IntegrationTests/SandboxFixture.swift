import Common
import DockerEngine
import CurlHTTP
import Foundation
import Logging
import Sandbox
import Fixture
import Synchronization
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let acpDrillBinary = repoRoot.appendingPathComponent(".build/debug/acp-drill").path

var quietLogger: Logger {
    var l = Logger(label: "test")
    l.logLevel = .error
    return l
}

/// A project for tests: kind `test`, so scripts/test.sh's leak check sees it, and a short expiry.
func testProject(ttl: Duration = .seconds(600)) -> SandboxProject {
    SandboxProject.new(prefix: "acp_drill_test", kind: .test, ttl: ttl)
}

/// Everything on the daemon carrying this project's label.
func resources(of project: String, _ client: DockerClient) async throws -> (containers: Int, networks: Int, volumes: Int) {
    let f = DockerFilters.label(SandboxProject.Label.project, project)
    async let c = client.listContainers(filters: f)
    async let n = client.listNetworks(filters: f)
    async let v = client.listVolumes(filters: f)
    return try await (c.count, n.count, v.count)
}

/// Containers, networks and volumes whose *name* starts with the project name (labels aside).
func resourcesByName(_ project: String, _ client: DockerClient) async throws -> Int {
    let containers = try await client.listContainers().filter { $0.name.hasPrefix(project) }
    let networks = try await client.listNetworks().filter { $0.name.hasPrefix(project) }
    return containers.count + networks.count
}

/// Runs the acp-drill binary with `environment` added to ours (the backup variables of the caller's own
/// environment removed, so that they cannot change a test); returns (exit code, stdout, stderr). With
/// `until` and `signal`, the process gets `signal` once its stderr so far satisfies `until`.
@discardableResult
/// Runs acp-drill. With `until`, stderr is read until it holds the trigger; then `signal` is sent, or with
/// `hangUp` the reader goes away (both pipes closed, as `acp-drill run | head` does) and the run goes on.
/// `launcher` runs it through another program (`setpriv …`), found on PATH.
func runCLI(_ args: [String], environment: [String: String] = [:], until: (@Sendable (String) -> Bool)? = nil,
            signal: Int32? = nil, hangUp: Bool = false, launcher: [String] = []) async throws -> (Int32, String, String) {
    try await BlockingExecutor.run("test") {
        try runCLIBlocking(args, environment: environment, until: until, signal: signal, hangUp: hangUp, launcher: launcher)
    }
}

func runCLIBlocking(_ args: [String], environment: [String: String], until: (@Sendable (String) -> Bool)?, signal: Int32?,
                    hangUp: Bool = false, launcher: [String] = []) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: launcher.isEmpty ? acpDrillBinary : "/usr/bin/env")
    process.arguments = launcher.isEmpty ? args : launcher + [acpDrillBinary] + args
    var env = ProcessInfo.processInfo.environment
    for key in ["ACP_BACKUP_AGE_RECIPIENT", "ACP_BACKUP_GPG_RECIPIENT", "ACP_BACKUP_AGE_IDENTITY", "ACP_BACKUP_S3_BUCKET", "DATABASES"] { env[key] = nil }
    process.environment = env.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    var errText = ""
    if let until, signal != nil || hangUp {
        // Read stderr line by line until the trigger, then signal the process.
        let handle = err.fileHandleForReading
        var buffer = Data()
        while !until(String(decoding: buffer, as: UTF8.self)) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer += chunk
        }
        errText = String(decoding: buffer, as: UTF8.self)
        if hangUp {
            try? out.fileHandleForReading.close()
            try? handle.close()
            process.waitUntilExit()
            return (process.terminationStatus, "", errText)
        }
        if let signal { kill(process.processIdentifier, signal) }
    }
    // Both pipes drained at once: read one after the other, a process that fills the other (more than a
    // pipe's 64 KiB of stderr before stdout ends) would block in write(2) and never exit.
    let rest = Mutex(Data())
    let drained = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        rest.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }
        drained.signal()
    }
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    drained.wait()
    errText += String(decoding: rest.withLock { $0 }, as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, stdout, errText)
}

/// Runs a host program and returns its standard output (throws on a non-zero exit).
func run(_ args: [String]) async throws -> String {
    try await BlockingExecutor.run("test") { try runBlocking(args) }
}

func runBlocking(_ args: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = args
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw FixtureError(message: "\(args.joined(separator: " ")) exited \(process.terminationStatus)") }
    return text
}
