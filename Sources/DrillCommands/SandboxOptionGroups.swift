import ArgumentParser
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

    func stack() throws -> StackSpec {
        do {
            if let file { return try StackSpec.load(path: file) }
            return try StackSpec.defaultStack()
        } catch let error as SpecError {
            printError("error: \(error)")
            throw DrillExit.configuration
        }
    }

    var sandboxOptions: SandboxOptions { SandboxOptions(productionHosts: prodHost, durable: durable) }
}

/// Parses `30m`, `2h`, `24h`, `7d`, `90s`.
func parseDuration(_ text: String) throws -> Duration {
    let units: [(String, Int64)] = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    for (suffix, seconds) in units where text.hasSuffix(suffix) {
        if let n = Int64(text.dropLast()), n > 0 { return .seconds(n * seconds) }
    }
    throw ValidationError("\"\(text)\" is not a duration (use e.g. 90s, 30m, 2h, 7d)")
}
