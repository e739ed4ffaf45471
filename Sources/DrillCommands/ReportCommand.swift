import ArgumentParser
import Common
import Drill
import Foundation
import ReportPages

/// `acp-drill report`: a past drill, or a reports folder's history, as a self-contained HTML page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a drill's report, or a reports folder's history, as one self-contained HTML page.",
        discussion: prose("""
            The drill page shows the verdict and the set, the recovery time against its budget, the stages as
            a timeline (decrypt ‖ provision, each database's restore on its own row), every check with its
            evidence and the runbook's fix (filter by status), the databases, an exercise's jobs and the
            backup's age. The history page shows the recovery time and the total over time against the
            15-minute objective with its trend, pass/fail per drill, each database's last verified date
            and restore-time trend, the backup's age at each drill and the budget breaches. Both are one
            file: inline CSS and SVG, no script, readable offline and printable to PDF.

            Examples:
              acp-drill report reports/restore_drill/20261127T020000Z.json --html drill.html
              acp-drill report --history reports/restore_drill --html history.html
            """)
    )

    @Argument(help: ArgumentHelp("A drill's JSON report.", valueName: "report.json")) var report: String?
    @Option(help: ArgumentHelp("A reports folder: write its history page instead.", valueName: "dir")) var history: String?
    @Option(help: ArgumentHelp("Where the page goes.", valueName: "file")) var html: String
    @Option(help: ArgumentHelp("The recovery time objective the history is drawn against.", valueName: "duration")) var objective = "15m"

    func validate() throws {
        if (report == nil) == (history == nil) { throw ValidationError("give a report file or --history DIR (one of them)") }
        _ = try parseDuration(objective, flag: "--objective")
    }

    func run() throws {
        let page: String
        if let history {
            let entries: [DeployGate.Entry]
            do { entries = try DeployGate.entries(in: history) } catch {
                printError("error: \(error)")
                throw DrillExit.configuration
            }
            for e in entries where e.report == nil { printError("warning: \(e.file) left out: \(e.problem ?? "unreadable")") }
            let seconds = DurationText.positiveSeconds(objective) ?? 900
            page = try HistoryPage.render(entries.compactMap(\.report), folder: history, objectiveSeconds: seconds)
        } else {
            let path = report!
            guard let data = FileManager.default.contents(atPath: path) else {
                printError("error: \(path): cannot read the report")
                throw DrillExit.configuration
            }
            let decoded: DrillReport
            do { decoded = try JSONDecoder().decode(DrillReport.self, from: data) } catch {
                printError("error: \(path): not a drill report: \(error)")
                throw DrillExit.configuration
            }
            page = try DrillPage.render(decoded)
        }
        do { try DrillReport.writeFile(Data(page.utf8), to: html) } catch {
            printError("error: writing \(html): \(error)")
            throw DrillExit.failure
        }
        print("page: \(html)")
    }
}
