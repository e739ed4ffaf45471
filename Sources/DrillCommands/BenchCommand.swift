import ArgumentParser

/// `acp-drill bench …`: benchmarks that print figures measured against a baseline in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print benchmark figures, each as a ratio against a baseline measured in the same run.",
        discussion: "Benchmarks are measurements, not tests: they never fail on a slow machine.",
        subcommands: [BenchEngineCommand.self, BenchSandboxCommand.self, BenchBackupCommand.self, BenchDrillCommand.self, BenchReportCommand.self, BenchReclaimCommand.self, BenchReceiptsCommand.self]
    )
}
