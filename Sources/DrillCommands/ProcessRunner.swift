import CurlHTTP
import Common
import Foundation
import Repository
import Synchronization

/// Runs a program found on PATH, waits for it, and returns its standard output. A non-zero exit throws
/// with the program's own standard error (`ProcessPipeline.Failure`). `environment` is added to ours:
/// secrets go there, never into `args`. (The benchmarks' baselines: the docker CLI, docker-compose, the
/// runbook's shell pipelines, the floor's PostgreSQL tools.)
@discardableResult
func runProgram(_ args: [String], environment: [String: String] = [:]) throws -> String {
    var output = Data()
    try ProcessPipeline.run([.init(executable: args[0], arguments: Array(args.dropFirst()), environment: environment)]) { output.append($0) }
    return String(decoding: output, as: UTF8.self)
}

/// `runProgram` off Swift's cooperative threads (there may be only two of them).
@discardableResult
func runProgramAsync(_ args: [String], environment: [String: String] = [:]) async throws -> String {
    try await BlockingExecutor.run("bench") { try runProgram(args, environment: environment) }
}

/// Runs this executable (`acp-drill <args>`) as its own process, as a user would, and measures it: the wall
/// time, its peak resident set (`VmHWM`, polled every 20 ms) and its output. A non-zero exit throws.
func runSelfMeasured(_ args: [String], environment: [String: String]) async throws -> (seconds: Double, peakMiB: Double, output: String) {
    try await BlockingExecutor.run("bench") {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let start = ContinuousClock.now
        try p.run()
        let collected = Mutex(Data())
        let reader = Thread { collected.withLock { $0 = out.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        var peakKiB = 0.0
        while p.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
                peakKiB = max(peakKiB, kib)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        p.waitUntilExit()
        let seconds = (ContinuousClock.now - start).inSeconds
        while reader.isExecuting { Thread.sleep(forTimeInterval: 0.005) }
        let output = String(decoding: collected.withLock { $0 }, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw ProcessPipeline.Failure(tool: "acp-drill \(args.first ?? "")", status: p.terminationStatus, stderr: String(output.suffix(2000)))
        }
        return (seconds, peakKiB / 1024, output)
    }
}
