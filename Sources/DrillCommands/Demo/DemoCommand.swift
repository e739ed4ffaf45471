import ArgumentParser

/// `acp-drill demo …`: the prod-like stack the demo backs up and drills.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Demo helpers: a production stand-in loaded with the platform's generated data.",
        subcommands: [DemoProdCommand.self]
    )
}

struct DemoProdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prod",
        abstract: "Start or remove the production stand-in (acp_postgres, acp_redis on acp_prod_net).",
        subcommands: [DemoProdUpCommand.self, DemoProdDownCommand.self, DemoProdWriterCommand.self]
    )
}
