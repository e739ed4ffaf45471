import ArgumentParser
import AuditChain
import Backup

import Drill
import Common
import Foundation
import ReportPages
import Repository
import Sandbox

/// `acp-drill run`: the restore drill.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The restore drill: restore the newest complete backup set in an isolated sandbox, check it, report, tear down.",
        discussion: prose("""
            Pipeline (each stage timed, compared with its budget):
              gc → pick set → download + sha256 ‖ provision sandbox
                 → decrypt into the sandbox ‖ isolation assertions
                 → restore every database (pg_restore --exit-on-error, concurrently)
                 → app services → checks → verdict + reports → teardown
            Checks, each passed / failed / timed_out / skipped, with evidence: the newest complete set younger
            than --max-age (24h, the recovery point objective; newer folders without a manifest named), the
            manifest's signature (--trusted-keys) and its consistency, the checksum and decryption of
            every object, pg_restore --list, the restore, exact row counts of every table, the smoke count
            (SELECT count(*) FROM audit_logs), verify-chain (hash chain + signed daily roots), the restored
            roots against the set's separate snapshot and --customer-roots, audit ↔ usage reconcile, the
            health of every service, the sandbox's isolation, and your own SQL checks (--checks FILE).
            The registered checks (acp-drill checks describes each): \(CheckRegistry.all.map(\.name).joined(separator: ", ")).
            Platform checks run where their tables exist and are skipped otherwise: any set of PostgreSQL
            databases can be drilled. The verdict fails closed: a check that could not run is a failure.

            Environment (the runbook's):
              ACP_BACKUP_AGE_IDENTITY  age identity file that opens the set   -OR-
              ACP_BACKUP_GPG_HOMEDIR   gpg home holding the decryption key
              ACP_BACKUP_S3_BUCKET     s3://bucket/prefix (or --repo PATH: a local folder)
              ACP_BACKUP_S3_ENDPOINT   S3-compatible endpoint (optional); credentials
                                       from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
              RESTORE_DB_PASSWORD      the sandbox's Postgres password, and every login
                                       role's of the set (optional; generated per
                                       drill, shown only for a kept sandbox)
              ACP_DRILL_OPERATOR       who runs the drill, for the log (default:
                                       $USER, else "system")
              ACP_DRILL_TRUSTED_KEYS   the trusted-keys file (as --trusted-keys)
              ACP_RECEIPTS_S3_BUCKET   the receipts mirror (as --receipts), with
                                       ACP_RECEIPTS_S3_ENDPOINT (else ACP_BACKUP_S3_ENDPOINT)
            Recovery point: with --receipts, the audit rows written after the dump are recovered from their
            receipts (point-in-time recovery of the audit chain), each verified before it is inserted, up to
            --until; the report's rpo says how far the restored data reaches and the data loss in seconds
            (to --until, else to the drill's start), also as acp_drill_rpo_seconds.
            With trusted keys, the manifest's Ed25519 signature (<ts>/manifest.json.sig, made by the backup
            with ACP_BACKUP_SIGNING_KEY) must verify, by a trusted key within its window, before anything the
            manifest says is acted on: an unsigned, altered or foreign-signed set fails manifest.signature
            and nothing of it is fetched. Without them the report and the last line say that the set's
            authenticity was not verified.
            Plaintext exists only inside the sandbox: each dump is decrypted straight into it over exec stdin.
            The host's private 0700 scratch folder holds ciphertext downloaded from S3 at most, and is removed
            on every exit path (a killed run's folder is swept by the next run, and its sandbox, an orphan, is
            removed by the next run's gc).

            Outputs: reports/restore_drill/<ts>.json (schema: docs/report-schema.md), a row appended to
            docs/runbooks/restore_drill.md, optional --junit and --metrics (Prometheus textfile). The last line
            is "Restore drill PASSED — N rows verified" or "Restore drill FAILED — <the first failure>".

            Exit codes: 0 passed, 1 failed (download, checksum, decrypt, restore, a check, no set),
            2 configuration or usage, 3 passed over a time budget, 130 interrupted (after teardown; verdict ABORTED).

            The quarterly DR exercise is one command: a stack file with the app services (-f), and a checks
            file whose entries are SQL checks (query) or jobs (image + command: a scenario, a smoke suite)
            run after every other check as one-off containers on the sandbox network, with the stack's
            connection settings (PGHOST, PGPASSWORD, DATABASE_URL, REDIS_URL, …) in their environment. A
            job passes when it exits as expected (expect_exit, default 0) and its output matches
            (expect_output, a regular expression); over its timeout it is timed_out and removed. A drill
            with jobs is an exercise: the report and the drill log say so and list every job with the image
            it ran, and acp-drill gate --kind exercise turns the newest one into a deploy gate.
              export RESTORE_DB_PASSWORD=$(openssl rand -hex 16)
              acp-drill run --repo /srv/backups -f examples/exercise/stack.yml \\
                --checks examples/exercise/checks.yml

            Examples:
              acp-drill run --repo /srv/backups       the newest set in a folder
              acp-drill run --random-within 30d --junit drill.xml
                                                      a random set of the last 30 days (CI)
              acp-drill run --backup 20261126 --keep  that day's set, kept for inspection
              acp-drill run --dry-run                 the plan: set, sizes, stages, budgets
            """)
    )

    @Flag(help: "Print the plan (set, sizes, stages, budgets); create, download and decrypt nothing.") var dryRun = false
    @Option(help: ArgumentHelp("A local folder as the repository (instead of ACP_BACKUP_S3_BUCKET).", valueName: "path")) var repo: String?
    @Option(help: ArgumentHelp("Restore this set (a timestamp, or a prefix such as 20261126) instead of the newest.", valueName: "ts")) var backup: String?
    @Option(help: ArgumentHelp("Restore a random complete set from this window (e.g. 30d): catches retention gaps and lost keys.", valueName: "age")) var randomWithin: String?
    @Option(help: ArgumentHelp("The newest complete set must be younger than this (the recovery point objective), or freshness fails.", valueName: "duration")) var maxAge = "24h"
    @Flag(help: "Keep the sandbox for inspection (acp-drill down PROJECT removes it).") var keep = false
    @Option(help: ArgumentHelp("How long a kept sandbox lives before gc may remove it.", valueName: "duration")) var keepTtl = "24h"
    @Option(help: ArgumentHelp("Time budgets, e.g. restore=10m,total=15m (download, decrypt, restore per database, verify, total).", valueName: "list")) var budget: [String] = []
    @Option(help: ArgumentHelp("The job budget shared by the concurrent restores (default: the machine's cores); on a swarm, each instance's.", valueName: "n")) var jobs: Int?
    @Option(help: ArgumentHelp("Postgres instances to spread the set's databases over, largest first onto the least loaded (default: on a swarm one per ready node, at most one per database; else 1; always 1 for a stack with app services or job checks, which reach the databases at the service postgres). The report names each database's instance and node.", valueName: "n")) var instances: Int?
    @Option(help: ArgumentHelp("The public keys trusted to sign sets (acp-drill keys generate; or ACP_DRILL_TRUSTED_KEYS): an unsigned, altered or foreign-signed set is refused.", valueName: "file")) var trustedKeys: String?
    @Option(help: ArgumentHelp("The transparency keys you pin (JSON lines: key_id, public_key hex, valid_from, valid_to; or ACP_DRILL_TRANSPARENCY_KEYS): roots verify with these only, and a key the restored database carries but this file does not fails verify_chain.", valueName: "file")) var transparencyKeys: String?
    @Option(help: ArgumentHelp("Customer-archived transparency roots (JSON lines or array) the restored roots must match.", valueName: "file")) var customerRoots: String?
    @Option(help: ArgumentHelp("The receipts mirror (a folder or s3://bucket/prefix; or ACP_RECEIPTS_S3_BUCKET): receipts beyond the dump are verified and replayed onto the restored audit chain (docs/RECEIPTS.md).", valueName: "location")) var receipts: String?
    @Option(help: ArgumentHelp("With --receipts: recover to this point in time (2026-05-16T10:00:00Z): later receipts are not replayed, and the data loss is measured to it.", valueName: "time")) var until: String?
    @Option(help: ArgumentHelp("Your checks (YAML, checks: [...]): SQL {name, database, query, expect | expect_min/expect_max, timeout} or jobs {name, image, command, environment, timeout, expect_exit, expect_output}.", valueName: "file")) var checks: String?
    @Option(help: ArgumentHelp("Where the JSON reports go.", valueName: "dir")) var reports = "reports/restore_drill"
    @Option(help: ArgumentHelp("The drill log the row is appended to.", valueName: "file")) var log = "docs/runbooks/restore_drill.md"
    @Flag(help: "Do not append to the drill log.") var noLog = false
    @Option(help: ArgumentHelp("Also write JUnit XML here.", valueName: "file")) var junit: String?
    @Option(help: ArgumentHelp("Also write a Prometheus textfile here (node_exporter's textfile collector).", valueName: "file")) var metrics: String?
    @Option(help: ArgumentHelp("Also write the drill as a self-contained HTML page here (acp-drill report --help).", valueName: "file")) var html: String?
    @Option(help: ArgumentHelp("Who runs the drill, for the log.", valueName: "name")) var operatorName: String?
    @Flag(help: "Print the report as JSON on stdout (the last line still follows).") var json = false
    @OptionGroup var stack: StackOptions
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if backup != nil && randomWithin != nil { throw ValidationError("give --backup or --random-within, not both") }
        if let randomWithin { _ = try parseDuration(randomWithin, flag: "--random-within") }
        _ = try parseDuration(keepTtl, flag: "--keep-ttl")
        _ = try parseDuration(maxAge, flag: "--max-age")
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let instances, instances < 1 { throw ValidationError("--instances must be at least 1") }
        if let until, UTCTime.parse(until) == nil { throw ValidationError("--until \(until): not a time (e.g. 2026-05-16T10:00:00Z or 2026-05-16 10:00:00.5+02)") }
    }

    func run() async throws {
        let logger = engine.logger
        let environment = CommandEnvironment.read()
        let options: DrillOptions
        switch DrillConfiguration.read(self, environment: environment, logger: logger) {
        case .success(let o): options = o
        case .failure(let problems):
            for p in problems.messages { printError("error: \(p)") }
            throw DrillExit.configuration
        }
        let outputs = Outputs(reports: reports, log: noLog ? nil : log, junit: junit, metrics: metrics, html: html, json: json)
        if dryRun {
            try await printPlan(options)
            for problem in outputs.unwritable(dryRun: true) { print("outputs: cannot be written: \(problem)") }
            return
        }
        // The evidence is the point of a drill: a folder it cannot write is found before anything starts.
        let unwritable = outputs.unwritable()
        guard unwritable.isEmpty else {
            for problem in unwritable { printError("error: \(problem); nothing was started") }
            throw DrillExit.configuration
        }
        let backend = try await engine.sandboxBackend(onSwarm: true)
        let progress = DrillProgress(terminal: isatty(2) == 1)
        let drill = DrillRun(options: options, backend: backend, logger: logger) { progress.handle($0) }
        let report: DrillReport
        let unwritten: [String]
        do {
            (report, unwritten) = try await interruptible {
                let report = try await drill.run()
                return (report, Self.writeOutputs(report, outputs, loginPassword: options.keep ? options.loginPassword : nil))
            }
        } catch let error as DrillError where error.kind == .configuration {
            printError("error: \(error.message)")
            throw DrillExit.configuration
        }
        switch report.verdict {
        case .aborted: throw DrillExit.interrupted
        case _ where !unwritten.isEmpty: throw DrillExit.failure
        case .passed: if report.budgetExceeded { throw DrillExit.budgetExceeded }
        case .failed: throw DrillExit.failure
        }
    }

    func printPlan(_ options: DrillOptions) async throws {
        print("dry run: nothing is created, downloaded or decrypted")
        print("repository: \(options.source)")
        print("selection: \(options.selection)")
        let source = options.source
        do {
            let listed = try source.sets()
            let sets = listed.complete
            if !sets.isEmpty {
                let fresh = Freshness.judge(complete: listed.complete, all: listed.all, maxAge: options.maxAge)
                print("freshness: \(fresh.status == .passed ? "ok" : "FAILS (the drill would fail)"): \(fresh.evidence)")
            }
            var rng = SystemRandomNumberGenerator()
            let ts = try options.selection.pick(from: sets, using: &rng)
            let m = try source.manifest(ts)
            print("set \(ts) (\(sets.count) complete set(s); written \(m.createdAt) by acp-drill \(m.toolVersion), \(m.pgDumpVersion), server \(m.serverVersion))")
            print("encryption: \(m.encryption) to recipient \(m.recipientFingerprint); opened with \(options.decryption.kind)")
            for o in m.objects { print("  \(o.key)  \(o.size) bytes  sha256 \(o.sha256.prefix(16))…") }
            for f in m.failures { print("  (the backup recorded a failure: \(f.database), \(f.step))") }
        } catch {
            print("set: cannot be chosen now: \(error)")
        }
        print("sandbox: " + options.spec.services.map { "\($0.name) (\($0.image))" }.joined(separator: ", ") + ", on its own internal network; torn down\(options.keep ? " — no: kept (--keep)" : "")")
        print("restore: pg_restore --exit-on-error --no-owner --no-privileges --no-tablespaces, concurrently under a job budget of \(options.jobs)")
        let b = options.budgets
        print("stages and budgets: gc, pick, download (\(Int(b.download)) s), decrypt (\(Int(b.decrypt)) s) ‖ provision, restore (\(Int(b.restorePerDatabase)) s per database), checks (\(Int(b.verify)) s), report, teardown; total \(Int(b.total)) s until the checks pass")
        let checks = CheckRegistry.all.filter { d in
            !(d.needs.contains(.customerRoots) && options.customerRoots == nil) && !(d.needs.contains(.userChecks) && options.userChecks.isEmpty) && d.name != "<stage>"
        }
        if let receipts = options.receipts {
            let days = (try? receipts.folders().filter { ReceiptKey.isDay(Substring($0)) }.sorted()) ?? []
            print("replay: receipts from \(receipts) (\(days.count) day(s)\(days.last.map { ", the newest \($0)" } ?? "")) onto the restored audit chain beyond the dump" +
                  (options.until.map { ", up to \(UTCTime.canonical(micros: $0))" } ?? ""))
        }
        print("checks: " + checks.map(\.name).joined(separator: ", ") + (options.userChecks.isEmpty ? "" : " (\(options.userChecks.count) user check(s))"))
        print("outputs: \(reports)/<ts>.json\(noLog ? "" : ", \(log)")\(junit.map { ", \($0)" } ?? "")\(metrics.map { ", \($0)" } ?? "")")
    }
}
