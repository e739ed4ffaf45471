import ArgumentParser
import DockerEngine
import Foundation
import Logging

/// Exit codes of DESIGN.md §3.
enum DrillExit {
    static let failure = ExitCode(1)
    static let configuration = ExitCode(2)
    static let budgetExceeded = ExitCode(3)
    static let interrupted = ExitCode(130)
}

extension EngineOptions {
    var logger: Logger {
        var logger = Logger(label: "acp-drill")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        return logger
    }

    /// Connects to the engine; "no engine" and "engine too old" are configuration errors (exit 2).
    func connect() async throws -> DockerClient {
        do {
            return try await DockerClient.connect(hostFlag: host, logger: logger)
        } catch let error as DockerError where error.code == .noEngine || error.code == .unsupportedEngine {
            printError("error: \(error.message)")
            printError("hint: start the engine (scripts/start-docker.sh), or point DOCKER_HOST at one.")
            throw DrillExit.configuration
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// JSON for `--json` outputs: sorted keys, so that outputs diff cleanly.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
