import ArgumentParser
import Common
import Foundation
import Sandbox

/// `-f FILE` and the stack options shared by `up` (and later `run`).
struct StackOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("The stack file (Compose subset). Default: the embedded compose/drill.yml.", valueName: "file"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("A production host name that must not resolve inside the sandbox (besides acp_postgres, acp_redis). Repeatable.", valueName: "host"))
    var prodHost: [String] = []

    @Flag(name: .long, help: "Keep PostgreSQL durable (no fsync=off, no minimal WAL): slower, for when the sandbox must survive a crash.")
    var durable = false

    /// The stack: `-f FILE` (with `${VAR}` from `environment`), else the embedded default.
    func stack(environment: [String: String]) throws -> StackSpec {
        do {
            if let file { return try StackSpec.load(path: file, variables: environment) }
            return try StackSpec.defaultStack()
        } catch let error as SpecError {
            printError("error: \(error)")
            throw DrillExit.configuration
        }
    }

    var sandboxOptions: SandboxOptions { SandboxOptions(productionHosts: prodHost, durable: durable) }
}

/// A flag's duration, in the one grammar of every duration (`DurationText`: `90s`, `1.5h`, `1h30m`, `7d`);
/// it must be longer than zero. Called from `validate()`, so a bad value is a usage error (exit 2).
func parseDuration(_ text: String, flag: String) throws -> Duration {
    guard let seconds = DurationText.positiveSeconds(text) else {
        throw ValidationError("\(flag) \(text): not a duration (\(DurationText.examples))")
    }
    return .nanoseconds(Int64((seconds * 1e9).rounded()))
}
