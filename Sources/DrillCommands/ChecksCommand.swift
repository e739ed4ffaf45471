import ArgumentParser
import Common
import Drill

/// `acp-drill checks`: every check a drill can report, from the registry, with what a pass means.
struct ChecksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checks",
        abstract: "List every check a drill can report: its name, kind, what it needs and what a pass means.",
        discussion: prose("""
            A name with <…> is a family: one check per database, object, service or user check. Kinds: core (the set, \
            the restore, counts, health), platform (the audit chain, roots, reconcile: skipped where their tables are \
            absent, failed when the set holds the platform database but not the table), isolation (the sandbox's \
            assertions), user (your --checks FILE).
            """))

    @Flag(help: "Print the table as Markdown (as docs/report-schema.md holds it).") var markdown = false

    func run() throws {
        if markdown {
            print(CheckRegistry.markdownTable)
            return
        }
        for d in CheckRegistry.all {
            print("\(d.name)  [\(d.kind.rawValue)]")
            print("    \(d.summary)")
            if !d.needs.isEmpty { print("    needs: \(d.needs.map(\.description).joined(separator: "; "))") }
        }
    }
}
