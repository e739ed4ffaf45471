import Drill
import Foundation

/// What `bench drill` measured at one scale, and how it prints.
struct Figures: Sendable {
    var scale: Int
    var jobs: Int
    var loadSeconds = 0.0
    var encryptedBytes: Int64 = 0
    var plainBytes: Int64 = 0
    var ours: DrillReport?
    /// Every run of acp-drill's own drill on the set (`--runs`); `ours` is the one with the median checks share.
    var runs: [DrillReport] = []
    var sequential: Baselines.Timings?
    var floor: Baselines.Timings?
    /// The same drill on a swarm, by the number of nodes its Postgres instances were spread over.
    var swarm: [(nodes: Int, report: DrillReport)] = []

    func oursStage(_ name: String) -> DrillReport.Stage? { ours?.stage(name) }

    /// From the drill's start until its last database was restored (the restore stage's end).
    var oursRestoredAt: Double? { oursStage("restore").map { $0.offsetSeconds + $0.seconds } }

    /// verify-chain alone (measured in the sequential baseline's sandbox), else as it ran inside the drill,
    /// beside reconcile.
    var chainRate: (rows: Int64, seconds: Double, alone: Bool)? {
        if let c = sequential?.chain, c.seconds > 0 { return (c.rows, c.seconds, true) }
        guard let rows = ours?.chainRowsVerified, let s = ours?.checks.first(where: { $0.name == "verify_chain" })?.seconds, s > 0 else { return nil }
        return (rows, s, false)
    }

    var sequentialRatio: Double? {
        guard let seq = sequential?.restoredAt, let ours = oursRestoredAt, ours > 0 else { return nil }
        return seq / ours
    }

    var floorRatio: Double? {
        guard let floor = floor?.seconds("restore"), floor > 0, let ours = oursStage("restore")?.seconds else { return nil }
        return ours / floor
    }

    func print() {
        defer { fflush(nil) }
        let audit = 12_450 * scale
        Swift.print("")
        Swift.print("scale \(scale): \(audit.formatted()) audit rows, 11 databases; \(mb(encryptedBytes)) encrypted, \(mb(plainBytes)) of dumps; job budget \(jobs); fixture loaded in \(fmt(loadSeconds))")
        Swift.print(row("stage", "acp-drill", "runbook (sequential)", "floor (host, no containers)"))
        let names = ["download", "decrypt", "provision", "initdb+start", "roles", "restore", "privileges", "checks", "teardown"]
        for name in names {
            let o = oursStage(name).map { fmt($0.seconds) + (name == "provision" ? " ‖" : "") }
            let s = sequential?.seconds(name).map(fmt) ?? (name == "teardown" ? sequential?.teardown.map(fmt) : nil)
            let f = floor?.seconds(name).map(fmt)
            guard o != nil || s != nil || f != nil else { continue }
            Swift.print(row(name, o ?? "—", s ?? "—", f ?? "—"))
        }
        Swift.print(row("restored at", oursRestoredAt.map(fmt) ?? "—", sequential.map { fmt($0.restoredAt) } ?? "—",
                        floor.map { fmt($0.restoredAt) + " (dumps given)" } ?? "—"))
        if let total = oursStage("total") { Swift.print(row("drill total", fmt(total.seconds) + " (checks passed)", "—", "—")) }
        Swift.print("‖ provision runs concurrently with download and decrypt")
        if let r = sequentialRatio {
            Swift.print(String(format: "runbook / acp-drill, restored at: %.2f× faster (goal ≥ 2× at scale 50)", r))
        }
        if let seq = sequential?.restoredAt, let fl = floor?.restoredAt, fl > 0 {
            Swift.print(String(format: "runbook / floor, restored at: %.2f× (the most any restore in containers could gain here)", seq / fl))
        }
        if let r = floorRatio {
            Swift.print(String(format: "acp-drill restore / floor restore: %.2f× (goal ≤ 1.3×)", r))
        }
        for (nodes, r) in swarm {
            let stage = { (name: String) in r.stage(name)?.seconds }
            guard let total = stage("total"), let engine = oursStage("total")?.seconds, engine > 0 else { continue }
            let restored = r.stage("restore").map { $0.offsetSeconds + $0.seconds }
            var line = String(format: "on the swarm, Postgres on %d node(s): drill %.1f s = %.2f× the drill on one engine", nodes, total, total / engine)
            if let restored, let ours = oursRestoredAt, ours > 0 { line += String(format: "; restored at %.1f s = %.2f×", restored, restored / ours) }
            for name in ["provision", "decrypt", "restore", "checks", "teardown"] {
                if let s = stage(name), let o = oursStage(name)?.seconds { line += String(format: "; %@ %.1f s (%.1f)", name, s, o) }
            }
            Swift.print(line + " — overhead of the swarm path on this machine's shared cores, not a speedup")
        }
        if let c = chainRate {
            Swift.print(String(format: "verify-chain%@: %@ rows in %.2f s = %.0fk rows/s, end to end (goal ≥ 300k/s)", c.alone ? " alone" : " inside the drill",
                               c.rows.formatted(), c.seconds, Double(c.rows) / c.seconds / 1000))
        }
        if let total = oursStage("total")?.seconds, total > 0 {
            if let checks = oursStage("checks")?.seconds {
                Swift.print(String(format: "checks stage: %.1f s of the drill's %.1f s = %.0f %% (goal ≤ 15 %% at scale 200)", checks, total, 100 * checks / total)
                            + (runs.count > 1 ? " (the run with the median share of \(runs.count))" : ""))
            }
            if runs.count > 1 {
                let each = runs.compactMap(Self.checksShare).map { String(format: "%.1f s of %.1f s (%.0f %%)", $0.checks, $0.total, 100 * $0.checks / $0.total) }
                Swift.print("  every run: " + each.joined(separator: ", "))
            }
            let fidelity = evidenceSeconds
            Swift.print(String(format: "source evidence and fidelity: roles %.2f s + privileges %.2f s + the comparisons' own %.2f s = %.0f %% of the drill (goal ≤ 10 %% at scale 50)",
                               fidelity.roles, fidelity.privileges, fidelity.checks, 100 * (fidelity.roles + fidelity.privileges + fidelity.checks) / total))
        }
    }

    /// A drill's checks stage and its total, in seconds.
    static func checksShare(_ r: DrillReport) -> (checks: Double, total: Double)? {
        guard let c = r.stage("checks")?.seconds, let t = r.stage("total")?.seconds, t > 0 else { return nil }
        return (c, t)
    }

    /// The run whose checks share is the median of `runs` (the last, with one run).
    static func medianRun(_ runs: [DrillReport]) -> DrillReport? {
        let ranked = runs.sorted { (checksShare($0).map { $0.checks / $0.total } ?? 0) < (checksShare($1).map { $0.checks / $0.total } ?? 0) }
        return ranked.isEmpty ? nil : ranked[ranked.count / 2]
    }

    /// What the evidence added to the drill: the roles and privileges stages, and the time of the checks that
    /// compare with the evidence (rows, schema, grants, roles, coverage), beyond the one read they share
    /// with row_counts.
    var evidenceSeconds: (roles: Double, privileges: Double, checks: Double) {
        let names = ["rows.", "schema.", "grants."]
        let checks = (ours?.checks ?? []).filter { c in names.contains { c.name.hasPrefix($0) } || c.name == "roles" || c.name == "coverage" }
        return (oursStage("roles")?.seconds ?? 0, oursStage("privileges")?.seconds ?? 0, checks.reduce(0) { $0 + $1.seconds })
    }

    static func printSummary(_ all: [Figures]) {
        Swift.print("")
        Swift.print("summary")
        for f in all {
            var parts = ["scale \(f.scale)"]
            if let r = f.sequentialRatio { parts.append(String(format: "%.2f× faster than the runbook", r)) }
            if let r = f.floorRatio { parts.append(String(format: "%.2f× the floor's restore", r)) }
            if let c = f.chainRate { parts.append(String(format: "verify-chain %.0fk rows/s", Double(c.rows) / c.seconds / 1000)) }
            if let t = f.oursStage("total") { parts.append(String(format: "drill %.1f s", t.seconds)) }
            for (nodes, r) in f.swarm {
                if let t = r.stage("total")?.seconds, let e = f.oursStage("total")?.seconds, e > 0 {
                    parts.append(String(format: "swarm on %d node(s) %.2f×", nodes, t / e))
                }
            }
            Swift.print("  " + parts.joined(separator: ", "))
        }
    }

    func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
        a.padding(toLength: 14, withPad: " ", startingAt: 0) + b.padding(toLength: 24, withPad: " ", startingAt: 0)
            + c.padding(toLength: 24, withPad: " ", startingAt: 0) + d
    }

    func fmt(_ s: Double) -> String { String(format: "%.2f s", s) }
    func mb(_ b: Int64) -> String { String(format: "%.1f MB", Double(b) / 1e6) }
}

extension DrillReport {
    /// The stage (or per-database step) named `name`, as the report recorded it.
    func stage(_ name: String) -> Stage? { stages.first { $0.name == name } }
}
