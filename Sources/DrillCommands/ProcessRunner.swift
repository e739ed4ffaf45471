import CurlHTTP
import Common
import Foundation
import Repository

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
