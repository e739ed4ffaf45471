import ArgumentParser
import Common
import Drill
import Foundation

/// `acp-drill gate`: the deploy gate for CI/CD pipelines.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Exit 0 only when the newest drill (or exercise) in a reports folder passed within a maximum age.",
        discussion: prose("""
            The runbook: "a failed exercise blocks production deploys until resolved". Put this in the deploy
            pipeline: it exits 1 when the newest report that counts failed, was aborted, is older than
            --max-age, or there is none, and prints why, with the report's first failure. An unreadable
            report newer than the one that counts closes the gate too: it may be the failure nobody can read.
            --kind exercise counts only quarterly DR exercises (drills with job checks); --kind drill
            counts every drill, exercises included. A pass over a time budget opens the gate (the budget
            breach has its own alert, exit 3 of acp-drill run).

            Exit codes: 0 open, 1 closed, 2 usage (a bad flag).

            Examples:
              acp-drill gate --reports reports/restore_drill --kind exercise --max-age 92d
              acp-drill gate --reports reports/restore_drill --max-age 35d --metrics /var/lib/node_exporter/acp_gate.prom
            """)
    )

    @Option(help: ArgumentHelp("The reports folder acp-drill run writes (its --reports).", valueName: "dir")) var reports = "reports/restore_drill"
    @Option(help: ArgumentHelp("How old the newest pass may be.", valueName: "duration")) var maxAge = "92d"
    @Option(help: ArgumentHelp("Which runs count: drill (every drill, exercises included) or exercise.", valueName: "kind")) var kind = "drill"
    @Option(help: ArgumentHelp("Also write the answer as a Prometheus textfile (acp_drill_gate_open).", valueName: "file")) var metrics: String?

    func validate() throws {
        _ = try parseDuration(maxAge, flag: "--max-age")
        guard DeployGate.Kind(rawValue: kind) != nil else { throw ValidationError("--kind \(kind): one of drill, exercise") }
    }

    func run() throws {
        let gate = DeployGate(kind: DeployGate.Kind(rawValue: kind) ?? .drill, maxAgeSeconds: DurationText.positiveSeconds(maxAge) ?? 0)
        let decision: DeployGate.Decision
        do { decision = gate.decide(try DeployGate.entries(in: reports)) } catch {
            decision = DeployGate.Decision(open: false, reason: "\(error)", reportID: nil, ageSeconds: nil)
        }
        if let metrics {
            do { try gate.writePrometheus(decision, to: metrics) } catch { printError("error: writing \(metrics): \(error)") }
        }
        print("deploy gate \(decision.open ? "OPEN" : "CLOSED") — \(decision.reason)")
        if !decision.open { throw DrillExit.failure }
    }
}
