import ArgumentParser
import DockerEngine
import Foundation
import Logging
import Sandbox

/// Exit codes of docs/DESIGN.md §5.
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

    /// The sandbox backend on the engine (`connect()`): what Drill, Backup and Fixture are given.
    /// `onSwarm`: the command runs on a swarm (`up`, `down`, `ls`, `gc`, `exec`, `run-in`). With `auto`,
    /// such a command uses the swarm when the engine is a swarm manager; the others use the engine itself.
    func sandboxBackend(onSwarm: Bool = false) async throws -> any SandboxBackend {
        let client = try await connect()
        switch backend {
        case .engine: return DockerSandboxBackend(client: client)
        case .auto:
            guard onSwarm, (try? await SwarmSandboxBackend.isManager(client)) == true else { return DockerSandboxBackend(client: client) }
            return SwarmSandboxBackend(client: client)
        case .swarm:
            guard onSwarm else {
                printError("error: this command runs on one engine, not on a swarm (on a swarm: run, up, exec, run-in, ls, down, gc)")
                printError("hint: --backend engine runs it on the engine at \(client.host) alone.")
                throw DrillExit.configuration
            }
            let manager: Bool
            do { manager = try await SwarmSandboxBackend.isManager(client) } catch {
                printError("error: cannot ask the engine at \(client.host) whether it is a swarm manager: \(error)")
                throw DrillExit.configuration
            }
            guard manager else {
                printError("error: --backend swarm: the engine at \(client.host) is not a manager of an active swarm")
                printError("hint: point --host (or DOCKER_HOST) at a manager; scripts/swarm.sh up makes a test swarm on this machine.")
                throw DrillExit.configuration
            }
            return SwarmSandboxBackend(client: client)
        }
    }

    /// Connects to the engine; "no engine" and "engine too old" are configuration errors (exit 2).
    func connect() async throws -> DockerClient {
        do {
            return try await DockerClient.connect(hostFlag: host, environment: .system(variables: CommandEnvironment.read()), logger: logger)
        } catch let error as DockerError where error.code == .noEngine || error.code == .unsupportedEngine {
            printError("error: \(error.message)")
            printError("hint: start the engine (scripts/start-docker.sh), or point DOCKER_HOST at one.")
            throw DrillExit.configuration
        }
    }
}

/// Writes a line to standard error. A closed stderr (a reader that went away) is ignored: the run goes
/// on to its cleanup instead of dying.
func printError(_ text: String) {
    writeError(text + "\n")
}

/// Writes text to standard error, unbuffered, ignoring a closed stream.
func writeError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}

/// JSON for `--json` outputs: sorted keys, so that outputs diff cleanly.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
