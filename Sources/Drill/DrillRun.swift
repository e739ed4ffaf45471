public import AuditChain
import Common
public import Foundation
public import Logging
public import Repository
public import Sandbox

/// The restore drill (docs/DESIGN.md §5), the pipeline and nothing else:
/// `gc → pick set → download+sha256 → decrypt ‖ provision → restore (parallel) ‖ isolation → app services
/// → checks → verdict → teardown`. Each stage is its own type (`SetTransfer`, `DatabaseRestore`,
/// `CheckRegistry`); they all record into one `DrillLedger`.
///
/// `run()` never throws for a failed drill: every failure is a check in the report. It throws only
/// `DrillError(.configuration)` (exit 2). Cancellation (SIGINT) gives an `ABORTED` report after teardown.
public final class DrillRun: Sendable {
    public let options: DrillOptions
    let backend: any SandboxBackend
    let logger: Logger
    let id: String
    let ledger: DrillLedger

    /// How long teardown waits for an engine that stopped answering to come back.
    let engineReturnWait: Double

    public init(options: DrillOptions, backend: any SandboxBackend, logger: Logger, now: Date = Date(), engineReturnWait: Double = 60,
                events: @escaping @Sendable (DrillEvent) -> Void = { _ in }) {
        self.options = options
        self.backend = backend
        self.logger = logger
        self.id = SandboxProject.timestamp(now)
        self.ledger = DrillLedger(emit: events)
        self.engineReturnWait = engineReturnWait
    }

    /// Runs `body` as a timed stage. A stage that runs beside another (`concurrent`: provision, isolation)
    /// does not claim the current stage when it starts, only when it fails, so that an error or an
    /// interruption is reported against the stage it happened in.
    func stage<T>(_ name: String, budget: Double? = nil, detail: String? = nil, concurrent: Bool = false, _ body: () async throws -> T) async rethrows -> T {
        if !concurrent { ledger.setCurrentStage(name) }
        ledger.emit(.stageStarted(name))
        let offset = ledger.elapsed
        let t0 = ContinuousClock.now
        do {
            let value = try await body()
            ledger.record(name, offset: offset, seconds: (ContinuousClock.now - t0).inSeconds, budget: budget, status: .done, detail: detail)
            return value
        } catch {
            let cancelled = Task.isCancelled || error is CancellationError
            if !cancelled { ledger.setCurrentStage(name) }
            ledger.record(name, offset: offset, seconds: (ContinuousClock.now - t0).inSeconds, budget: budget, status: cancelled ? .aborted : .failed, detail: "\(error)")
            throw error
        }
    }

    /// Runs the drill. See the type's documentation for what throws.
    public func run() async throws -> DrillReport {
        let startedAt = Date()
        // A kept sandbox is handed over and lives to its expiry; any other is this process's, and an orphan
        // (reclaimed by the next gc at once) if the process dies without its teardown.
        var project = SandboxProject.new(kind: .drill, ttl: .seconds(options.keep ? options.keepTTL : 7200), ownedByThisProcess: !options.keep)
        let scratch = try ScratchFolder.create(in: options.scratchParent)
        defer { scratch.remove() }
        var set: DrillReport.BackupSet?
        var recovery: Double?
        var aborted = false
        var sandboxInfo: DrillReport.SandboxInfo?
        var engine = EngineDescription(version: nil, api: nil)
        let watch = EngineWatch(backend: backend, ledger: ledger)
        do {
            await stage("gc") {
                let now = Date()
                for p in await backend.collectBeforeRun(logger: logger) {
                    ledger.addReclaimed(.init(project: p.name, kind: p.kind, reason: p.collectReason(now: now) ?? "expired", holds: p.holds,
                                              containers: p.containers.count, volumes: p.volumes))
                    ledger.line("reclaimed \(p.name) (\(p.collectReason(now: now) ?? "expired"))" + (p.holds.map { ": it held \($0)" } ?? ""))
                }
                ScratchFolder.sweep(parent: options.scratchParent)
            }
            let (timestamp, manifest) = try await stage("pick") { try await pick() }
            project.holds = "set \(timestamp): " + manifest.objects.compactMap(\.database).joined(separator: ", ")
            set = DrillReport.BackupSet(manifest, location: options.source.description, selection: options.selection.description)
            ledger.line("backup set \(timestamp): \(manifest.objects.count) object(s), \(manifest.objects.reduce(0) { $0 + $1.size }) bytes, \(manifest.encryption)")
            try checkEncryption(manifest)
            engine = await backend.describeEngine()
            sandboxInfo = DrillReport.SandboxInfo(project: project.name, kept: options.keep,
                                                  keptUntil: options.keep ? SandboxProject.rfc3339(project.expiresAt) : nil, tornDown: false)
            let transfer = SetTransfer(source: options.source, decryption: options.decryption, jobs: options.jobs, scratch: scratch, ledger: ledger)
            // The sandbox is provisioned while the set downloads and decrypts.
            let sandboxProject = project
            let instances = await instanceCount(databases: Set(manifest.objects.compactMap(\.database)).count)
            async let provisioned = stage("provision", concurrent: true) { try await provision(sandboxProject, instances: instances) }
            let objects = try await stage("download", budget: options.budgets.download) { try await transfer.download(manifest) }
            let sandbox = try await provisioned
            let placement = Self.placement(manifest, sandbox: sandbox)
            if !placement.isEmpty {
                for pg in sandbox.services where pg.role == .postgres {
                    let dbs = placement.filter { $0.value.name == pg.name }.map(\.key).sorted()
                    ledger.line("instance \(pg.name)\(pg.node.map { " on node \($0)" } ?? ""): \(dbs.joined(separator: ", "))")
                }
            }
            // The isolation probes (a second, most of it the DNS probe's resolver timeout) run alongside the
            // decrypt and the restore: restoring into the sandbox cannot reach production; what could — the
            // stack's app services, and the verdict — waits for them.
            async let isolated: Void = stage("isolation", concurrent: true) { await assertIsolation(sandbox) }
            // Decrypted straight into the sandbox: no plaintext dump on the host's disk.
            let plain = try await stage("decrypt", budget: options.budgets.decrypt) { try await transfer.decrypt(manifest, objects: objects, into: sandbox, placement: placement) }
            if !plain.dumps.isEmpty {
                // The set's roles first (a policy or a default privilege names them); owners and grants
                // after the replay, once the dumps' own code has run contained (docs/EVIDENCE.md).
                let roles = try await restoreRoles(plain.globals, manifest: manifest, sandbox: sandbox)
                let restore = DatabaseRestore(sandbox: sandbox, jobs: options.jobs, budgetPerDatabase: options.budgets.restorePerDatabase, ledger: ledger,
                                              placement: placement)
                let restored = try await stage("restore") { try await restore.run(plain.dumps, manifest: manifest, fidelity: roles != nil) }
                if options.receipts != nil { try await stage("replay") { try await replayReceipts(restored) } }
                let privileges = try await restorePrivileges(restored)
                await isolated
                try await startHeldServices(sandbox)
                try await stage("checks", budget: options.budgets.verify) {
                    try await CheckRegistry.run(CheckContext(restored: restored, manifest: manifest, snapshot: plain.snapshot, options: options, ledger: ledger,
                                                             roles: roles, privileges: privileges))
                }
            } else {
                await isolated
                ledger.check("restore", .core, .failed, "nothing to restore: no database dump of the set could be decrypted",
                             fix: "see the checksum and decrypt checks above")
            }
            if !ledger.failed { recovery = ledger.elapsed }
        } catch let error as DrillError where error.kind == .configuration {
            if !options.keep { _ = try? await backend.teardown(project: project.name, logger: logger) }
            throw error
        } catch is SetRefused {
            // Recorded as its check (manifest.signature): nothing of the set was fetched.
        } catch {
            let at = ledger.currentStage
            if Task.isCancelled || error is CancellationError {
                aborted = true
                ledger.check("interrupted", .core, .failed, "interrupted during \(at): the drill was cancelled (SIGINT/SIGTERM)")
            } else if backend.isEngineLoss(error) {
                ledger.check("engine", .core, .failed, "the engine at \(backend.engineAddress) stopped answering during \(at): \(error)", fix: Self.engineFix)
            } else {
                ledger.check(at, .core, .failed, "\(error)", fix: Self.fix(for: error))
            }
        }
        // Checks catch their own errors, and a restarted engine answers again by the time the drill looks: a
        // failed drill whose engine went away at any moment (the watch) names it as the cause. An outage the
        // drill came through whole is recorded, as a passed check.
        let outage = watch.stop()
        if !aborted, !ledger.snapshot.checks.contains(where: { $0.name == "engine" }) {
            if let outage {
                let what = "the engine at \(backend.engineAddress) \(EngineWatch.describe(outage))"
                if ledger.failed { ledger.check("engine", .core, .failed, what, fix: Self.engineFix) }
                else { ledger.check("engine", .core, .passed, what + "; every check after it passed") }
            } else if ledger.failed, await backend.describeEngine().version == nil {
                ledger.check("engine", .core, .failed, "the engine at \(backend.engineAddress) stopped answering during \(ledger.currentStage)", fix: Self.engineFix)
            }
        }
        if let info = sandboxInfo { sandboxInfo = await tearDown(project, info) }
        // A signal after the last check (while the verdict was drawn, or during teardown) still interrupted
        // the run: the report says ABORTED, as the exit code does (130/143), never PASSED beside it.
        if !aborted, Task.isCancelled {
            aborted = true
            ledger.check("interrupted", .core, .failed, "interrupted after the checks had run: the drill was cancelled (SIGINT/SIGTERM) before its report was written")
        }
        return DrillReport(id: id, ledger: ledger.snapshot, options: options, startedAt: startedAt, durationSeconds: ledger.elapsed,
                           set: set, recovery: recovery, aborted: aborted, sandbox: sandboxInfo, engine: engine)
    }

    /// Teardown: always, unless kept (also after cancellation: teardown runs detached).
    func tearDown(_ project: SandboxProject, _ info: DrillReport.SandboxInfo) async -> DrillReport.SandboxInfo {
        var info = info
        guard !options.keep else {
            ledger.line("kept: sandbox \(project.name) until \(info.keptUntil ?? "?"); acp-drill down \(project.name) removes it")
            return info
        }
        let offset = ledger.elapsed, t0 = ContinuousClock.now
        let (name, backend, logger, ledger) = (project.name, self.backend, self.logger, self.ledger)
        let wait = engineReturnWait
        do {
            // Detached: teardown completes even when the drill was cancelled. An engine that went away gets
            // a bounded wait to come back (a restart), with progress, before the project is left to gc.
            _ = try await Task.detached { () throws -> TeardownReport in
                let deadline = ContinuousClock.now + .seconds(wait)
                var said = ContinuousClock.now - .seconds(60)
                var retries = 2
                while true {
                    do { return try await backend.teardown(project: name, logger: logger) } catch where ContinuousClock.now < deadline {
                        if !backend.isEngineLoss(error) {
                            // A daemon on its way down answers 500s (its stores closed) for a moment before
                            // it stops answering: a failure while the engine is going away is waited out too.
                            try await Task.sleep(for: .seconds(1))
                            if await backend.describeEngine().version != nil {
                                guard retries > 0 else { throw error }
                                retries -= 1
                                continue
                            }
                        }
                        if ContinuousClock.now - said >= .seconds(10) {
                            said = ContinuousClock.now
                            let left = Int((deadline - ContinuousClock.now).inSeconds.rounded())
                            ledger.line("teardown: the engine at \(backend.engineAddress) is not answering; waiting up to \(left) s more for it to come back")
                        }
                        try await Task.sleep(for: .seconds(1))
                    }
                }
            }.value
            info.tornDown = true
            ledger.record("teardown", offset: offset, seconds: (ContinuousClock.now - t0).inSeconds, budget: nil, status: .done, detail: nil)
        } catch {
            let why = backend.isEngineLoss(error)
                ? "the engine at \(backend.engineAddress) did not come back within \(Int(wait)) s; the next gc removes \(name) (its owner, this drill, will be gone): \(error)"
                : "\(error)"
            info.teardownError = why
            ledger.record("teardown", offset: offset, seconds: (ContinuousClock.now - t0).inSeconds, budget: nil, status: .failed, detail: why)
        }
        return info
    }

    // MARK: pick

    func pick() async throws -> (String, Manifest) {
        let source = options.source
        let sets: [String]
        do {
            let listed = try await BlockingExecutor.run("drill") { try source.sets() }
            sets = listed.complete
            if !sets.isEmpty { ledger.commit(Freshness.judge(complete: listed.complete, all: listed.all, maxAge: options.maxAge)) }
        } catch {
            throw DrillError(.source, "cannot list backup sets in \(source): \(error)")
        }
        var rng = SystemRandomNumberGenerator()
        let ts = try options.selection.pick(from: sets, using: &rng)
        let bytes: Data
        do { bytes = try await BlockingExecutor.run("drill") { try source.read(SetLayout.manifestKey(ts)) } } catch {
            throw DrillError(.source, "set \(ts): cannot read its manifest: \(error)")
        }
        let signature = await readSignature(ts)
        let manifest: Manifest
        do { manifest = try Manifest.decode(bytes) } catch {
            if options.trustedKeys != nil { try refuseUnauthentic(ts, "\(SetLayout.manifestKey(ts)) is not a manifest: \(error)") }
            throw DrillError(.damagedManifest, "set \(ts): \(SetLayout.manifestKey(ts)) is refused, nothing of the set is fetched: \(error)")
        }
        try checkSignature(ts, bytes: bytes, manifest: manifest, signature: signature)
        let problems = manifest.safetyProblems()
        guard problems.isEmpty else {
            throw DrillError(.unsafeManifest, "set \(ts): the manifest is refused, nothing of it is fetched: " + problems.joined(separator: "; "))
        }
        guard manifest.format <= Manifest.currentFormat else {
            throw DrillError(.configuration, "set \(ts): manifest format \(manifest.format) is newer than this acp-drill reads (\(Manifest.currentFormat)); upgrade acp-drill")
        }
        checkComplete(manifest)
        return (ts, manifest)
    }

    /// `backup.complete`: the manifest agrees with itself. Every database it lists has its dump, unless the
    /// backup recorded that database's failure; no dump is of a database it does not list. An object dropped
    /// from the manifest (which would otherwise let its checks be skipped) fails here.
    func checkComplete(_ manifest: Manifest) {
        var problems: [String] = []
        var fix = "those databases are not in this set; fix the backup (acp-drill backup names the error) or drill an older set with --backup TS"
        if !manifest.failures.isEmpty {
            problems.append("the backup recorded \(manifest.failures.count) failed database(s): " + manifest.failures.map { "\($0.database) (\($0.step))" }.joined(separator: ", "))
        }
        let dumped = Set(manifest.objects.compactMap(\.database)), failed = Set(manifest.failures.map(\.database)), listed = Set(manifest.databases)
        let missing = manifest.databases.filter { !dumped.contains($0) && !failed.contains($0) }
        let unlisted = manifest.objects.compactMap(\.database).filter { !listed.contains($0) }
        if !missing.isEmpty {
            problems.append("the manifest lists \(missing.joined(separator: ", ")) but carries no object for \(missing.count == 1 ? "it" : "them")")
        }
        if !unlisted.isEmpty { problems.append("the manifest carries dumps of \(unlisted.joined(separator: ", ")), which it does not list") }
        if !missing.isEmpty || !unlisted.isEmpty {
            fix = "acp-drill backup never writes such a manifest: treat the repository as tampered with (sign sets and drill with trusted keys), and drill an older set with --backup TS"
        }
        guard !problems.isEmpty else { return }
        ledger.check("backup.complete", .core, .failed, problems.joined(separator: "; "), fix: fix)
    }

    func checkEncryption(_ manifest: Manifest) throws {
        guard manifest.encryption == options.decryption.kind else {
            let hint = manifest.encryption == "age" ? "set ACP_BACKUP_AGE_IDENTITY to the age identity file" : "set ACP_BACKUP_GPG_HOMEDIR to the gpg home holding the secret key"
            throw DrillError(.configuration, "set \(manifest.timestamp) is encrypted with \(manifest.encryption), but \(options.decryption.kind) was configured: \(hint)")
        }
    }

    static let engineFix = "the container engine went away mid-drill (a restart, a crash, its socket removed): bring it back and drill again; this drill's sandbox is removed once the engine answers, or by the next gc"

    /// The runbook's fix for a stage that failed outright.
    static func fix(for error: any Error) -> String? {
        if let e = error as? DrillError {
            switch e.kind {
            case .noBackupSet: return "check the backup job (acp-drill backup) and the repository's retention; a retention gap or a failed nightly leaves no set"
            case .source: return "verify the repository location, endpoint, region and credentials"
            case .unsafeManifest:
                return "acp-drill backup never writes such a manifest: treat the repository as tampered with, investigate who can write to it, and drill an older set with --backup TS"
            case .damagedManifest:
                return "acp-drill writes a manifest last and atomically, so a damaged one is storage corruption or tampering: investigate the repository (who can write it, its integrity) and drill an older set with --backup TS"
            case .configuration: return nil
            }
        }
        if error is SandboxError { return "see acp-drill up --help; images come from scripts/build-images.sh" }
        return nil
    }
}
