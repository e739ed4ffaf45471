import Foundation

/// The process environment, read once per command at its start and handed down as a dictionary: no library
/// below DrillCommands reads the process environment itself (docs/DESIGN.md §2). Children (pg_dump, age,
/// psql) inherit it as the OS hands it to them.
enum CommandEnvironment {
    static func read() -> [String: String] { ProcessInfo.processInfo.environment }

    /// A variable's value; empty counts as unset, as the runbook's scripts treat it.
    static func value(_ name: String, in env: [String: String]) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
}
