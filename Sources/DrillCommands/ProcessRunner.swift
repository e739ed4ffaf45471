import ArgumentParser
import Foundation

/// Runs a program found on PATH, waits for it, and returns its standard output. A non-zero exit throws
/// with the program's own standard error. `environment` is added to ours: secrets go there, never into
/// `args`. (The benchmarks' baselines: the docker CLI, docker-compose, the runbook's shell pipelines.)
@discardableResult
func runProgram(_ args: [String], environment: [String: String] = [:]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = args
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Both pipes drain at once, so a chatty stderr cannot block the child while we read stdout.
    let errBox = ErrorText()
    let reader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    while reader.isExecuting { Thread.sleep(forTimeInterval: 0.001) }
    guard process.terminationStatus == 0 else {
        let stderr = String(decoding: errBox.data.suffix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw ValidationError("\(args.first ?? "?") exited with status \(process.terminationStatus): \(stderr)")
    }
    return output
}

private final class ErrorText: @unchecked Sendable { var data = Data() }
