public import AuditChain
public import DockerEngine
public import Foundation
public import Logging
public import Repository
public import Sandbox
import Synchronization
import CurlHTTP

/// What a drill is asked to do (DrillCommands builds it from flags and the runbook's environment).
public struct DrillOptions: Sendable {
    public var source: BackupSource
    public var selection: SetSelection = .newest
    /// Opens the set; must match the manifest's encryption kind.
    public var decryption: Decryption
    public var budgets = DrillBudgets()
    public var keep = false
    /// How long a kept sandbox lives before `gc` may remove it.
    public var keepTTL: Double = 86400
    /// The job budget shared by every concurrent `pg_restore -j` (default: the machine's cores).
    public var jobs: Int = DrillOptions.defaultJobs
    /// The machine's cores, at least 2.
    public static let defaultJobs = max(2, ProcessInfo.processInfo.activeProcessorCount)
    public var customerRoots: [TransparencyRoot]?
    public var customerRootsSource: String?
    public var userChecks: [UserCheck] = []
    public var spec: StackSpec
    public var sandboxOptions = SandboxOptions()
    /// `RESTORE_DB_PASSWORD`: the sandbox Postgres password (generated per drill when nil). Never printed.
    public var restorePassword: String?
    public var operatorName: String
    public var hostName: String = ProcessInfo.processInfo.hostName
    /// Where the private scratch folder (ciphertext downloads, plaintext dumps) is created.
    public var scratchParent: String = NSTemporaryDirectory()

    public init(source: BackupSource, decryption: Decryption, spec: StackSpec, operatorName: String) {
        self.source = source
        self.decryption = decryption
        self.spec = spec
        self.operatorName = operatorName
    }
}

/// Progress of a drill, for a terminal or a log (nothing below DrillCommands prints).
public enum DrillEvent: Sendable {
    case stageStarted(String)
    case stageFinished(DrillReport.Stage)
    /// Bytes of one item (an object being hashed, downloaded or decrypted).
    case bytes(stage: String, item: String, done: Int64, total: Int64?)
    case line(String)
    case check(DrillReport.Check)
}

/// The restore drill (DESIGN.md §3):
/// `gc → pick set → download+sha256 → decrypt ‖ provision → restore (parallel) → checks → verdict → teardown`.
/// `run()` never throws for a failed drill: every failure is a check in the report. It throws only
/// `DrillError(.configuration)` (exit 2). Cancellation (SIGINT) gives an `ABORTED` report after teardown.
public final class DrillRun: Sendable {
    public let options: DrillOptions
    let client: DockerClient
    let logger: Logger
    let emit: @Sendable (DrillEvent) -> Void
    let id: String
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    let state = Mutex(State())

    struct State: Sendable {
        var stages: [DrillReport.Stage] = []
        var checks: [DrillReport.Check] = []
        var databases: [DrillReport.Database] = []
        var currentStage = "plan"
        var chainRows: Int64?
        var serverVersion: String?
    }

    public init(options: DrillOptions, client: DockerClient, logger: Logger, now: Date = Date(), events: @escaping @Sendable (DrillEvent) -> Void = { _ in }) {
        self.options = options
        self.client = client
        self.logger = logger
        self.emit = events
        self.id = SandboxProject.timestamp(now)
        self.start = clock.now
    }

    var elapsed: Double { (clock.now - start).inSeconds }

    /// Runs `body` as a timed stage. A stage that runs beside another (`concurrent`: provision, isolation)
    /// does not claim the current stage when it starts, only when it fails, so that an error or an
    /// interruption is reported against the stage it happened in.
    func stage<T>(_ name: String, budget: Double? = nil, detail: String? = nil, concurrent: Bool = false, _ body: () async throws -> T) async rethrows -> T {
        if !concurrent { state.withLock { $0.currentStage = name } }
        emit(.stageStarted(name))
        let offset = elapsed
        let t0 = clock.now
        do {
            let value = try await body()
            record(name, offset: offset, seconds: (clock.now - t0).inSeconds, budget: budget, status: "done", detail: detail)
            return value
        } catch {
            let cancelled = Task.isCancelled || error is CancellationError
            if !cancelled { state.withLock { $0.currentStage = name } }
            record(name, offset: offset, seconds: (clock.now - t0).inSeconds, budget: budget, status: cancelled ? "aborted" : "failed", detail: "\(error)")
            throw error
        }
    }

    func record(_ name: String, offset: Double, seconds: Double, budget: Double?, status: String, detail: String?) {
        let s = DrillReport.Stage(name: name, offsetSeconds: offset, seconds: seconds, budgetSeconds: budget,
                                  overBudget: budget.map { seconds > $0 } ?? false, status: status, detail: detail)
        state.withLock { $0.stages.append(s) }
        emit(.stageFinished(s))
    }

    func check(_ name: String, kind: String, _ status: CheckResult.Status, _ evidence: String, fix: String? = nil, seconds: Double = 0) {
        commit(Self.result(name, kind: kind, status, evidence, fix: fix, seconds: seconds))
    }

    /// A check's result, not yet in the report (checks that run concurrently are committed in a fixed order,
    /// so that the report and its first failure do not depend on which finished first).
    static func result(_ name: String, kind: String, _ status: CheckResult.Status, _ evidence: String, fix: String? = nil, seconds: Double = 0) -> DrillReport.Check {
        DrillReport.Check(name: name, kind: kind, status: status.rawValue, evidence: evidence, fix: status == .passed || status == .skipped ? nil : fix, seconds: seconds)
    }

    func commit(_ c: DrillReport.Check) {
        state.withLock { $0.checks.append(c) }
        emit(.check(c))
    }

    /// Runs the drill. See the type's documentation for what throws.
    public func run() async throws -> DrillReport {
        let startedAt = Date()
        let project = SandboxProject.new(kind: .drill, ttl: .seconds(options.keep ? options.keepTTL : 7200))
        let scratch = try makeScratch()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var set: DrillReport.BackupSet?
        var recovery: Double?
        var aborted = false
        var sandboxInfo: DrillReport.SandboxInfo?
        var engineVersion: (String?, String?) = (nil, nil)
        do {
            await stage("gc") {
                await Reaper.collectBeforeRun(client: client, logger: logger)
                Self.sweepScratch(parent: options.scratchParent)
            }
            let (timestamp, manifest) = try await stage("pick") { try await pick() }
            set = Self.describe(manifest, location: options.source.description, selection: options.selection.description)
            emit(.line("backup set \(timestamp): \(manifest.objects.count) object(s), \(manifest.objects.reduce(0) { $0 + $1.size }) bytes, \(manifest.encryption)"))
            try checkEncryption(manifest)
            if let v = try? await client.version() { engineVersion = ("\(v.version) (\(v.os ?? "?")/\(v.arch ?? "?"))", "\(client.apiVersion)") }
            sandboxInfo = DrillReport.SandboxInfo(project: project.name, kept: options.keep,
                                                  keptUntil: options.keep ? SandboxProject.rfc3339(project.expiresAt) : nil, tornDown: false)
            // The sandbox is provisioned while the set downloads and decrypts.
            async let provisioned = stage("provision", concurrent: true) { try await provision(project) }
            let objects = try await stage("download", budget: options.budgets.download) { try await download(manifest, scratch: scratch) }
            let plain = try await stage("decrypt", budget: options.budgets.decrypt) { try await decrypt(manifest, objects: objects, scratch: scratch) }
            let sandbox = try await provisioned
            // The isolation probes (a second, most of it the DNS probe's resolver timeout) run alongside the
            // restore: restoring into the sandbox cannot reach production; what could — the stack's app
            // services, and the verdict — waits for them.
            async let isolated: Void = stage("isolation", concurrent: true) { await assertIsolation(sandbox) }
            if !plain.dumps.isEmpty {
                let restored = try await stage("restore") { try await restore(plain, manifest: manifest, into: sandbox) }
                await isolated
                try await startHeldServices(sandbox)
                try await stage("checks", budget: options.budgets.verify) {
                    try await runChecks(restored, manifest: manifest, snapshot: plain.snapshot, sandbox: sandbox)
                }
            } else {
                await isolated
                check("restore", kind: "core", .failed, "nothing to restore: no database dump of the set could be decrypted",
                      fix: "see the checksum and decrypt checks above")
            }
            if !failed { recovery = elapsed }
        } catch let error as DrillError where error.kind == .configuration {
            if !options.keep { _ = try? await Sandbox.teardown(project: project.name, client: client, logger: logger) }
            throw error
        } catch {
            if Task.isCancelled || error is CancellationError {
                aborted = true
                let at = state.withLock { $0.currentStage }
                check("interrupted", kind: "core", .failed, "interrupted during \(at): the drill was cancelled (SIGINT/SIGTERM)")
            } else {
                let at = state.withLock { $0.currentStage }
                check(at, kind: "core", .failed, "\(error)", fix: Self.fix(for: error, stage: at))
            }
        }
        // Teardown: always, unless kept (also after cancellation: teardown runs detached).
        if var info = sandboxInfo {
            if options.keep {
                emit(.line("kept: sandbox \(project.name) until \(info.keptUntil ?? "?"); acp-drill down \(project.name) removes it"))
            } else {
                let offset = elapsed, t0 = clock.now
                do {
                    let name = project.name, client = self.client, logger = self.logger
                    _ = try await Task.detached { try await Sandbox.teardown(project: name, client: client, logger: logger) }.value
                    info.tornDown = true
                    record("teardown", offset: offset, seconds: (clock.now - t0).inSeconds, budget: nil, status: "done", detail: nil)
                } catch {
                    info.teardownError = "\(error)"
                    record("teardown", offset: offset, seconds: (clock.now - t0).inSeconds, budget: nil, status: "failed", detail: "\(error)")
                }
            }
            sandboxInfo = info
        }
        return finish(startedAt: startedAt, set: set, recovery: recovery, aborted: aborted, sandbox: sandboxInfo, engine: engineVersion)
    }

    var failed: Bool { state.withLock { s in s.checks.contains { $0.status == "failed" || $0.status == "timed_out" } } }

    func finish(startedAt: Date, set: DrillReport.BackupSet?, recovery: Double?, aborted: Bool, sandbox: DrillReport.SandboxInfo?, engine: (String?, String?)) -> DrillReport {
        let s = state.withLock { $0 }
        var stages = s.stages
        if let recovery {
            stages.append(DrillReport.Stage(name: "total", offsetSeconds: 0, seconds: recovery, budgetSeconds: options.budgets.total,
                                            overBudget: recovery > options.budgets.total, status: "done", detail: "from start until the checks passed"))
        }
        let firstFailure = s.checks.first { $0.status == "failed" || $0.status == "timed_out" }.map { "\($0.name): \($0.evidence)" }
        let verdict: DrillReport.Verdict = aborted ? .aborted : (firstFailure == nil && recovery != nil ? .passed : .failed)
        let iso = ISO8601DateFormatter()
        return DrillReport(
            id: id, verdict: verdict, budgetExceeded: verdict == .passed && stages.contains(where: \.overBudget),
            firstFailure: firstFailure, rowsVerified: s.databases.reduce(0) { $0 + $1.rowCounts.values.reduce(0, +) },
            chainRowsVerified: s.chainRows, recoveryTimeSeconds: verdict == .passed ? recovery : nil, durationSeconds: elapsed,
            startedAt: iso.string(from: startedAt), finishedAt: iso.string(from: Date()), operator: options.operatorName, host: options.hostName,
            set: set, budgets: options.budgets, stages: stages, checks: s.checks, databases: s.databases.sorted { $0.name < $1.name },
            versions: DrillReport.Versions(tool: SandboxProject.toolVersion, pgRestore: ProcessPipeline.version("pg_restore"), server: s.serverVersion,
                                           engine: engine.0, engineAPI: engine.1, decryptor: ProcessPipeline.version(options.decryption.kind)),
            sandbox: sandbox)
    }

    static func describe(_ m: Manifest, location: String, selection: String) -> DrillReport.BackupSet {
        DrillReport.BackupSet(
            timestamp: m.timestamp, location: location, selection: selection, manifestFormat: m.format, createdAt: m.createdAt,
            encryption: m.encryption, recipientFingerprint: m.recipientFingerprint, pgDumpVersion: m.pgDumpVersion,
            serverVersion: m.serverVersion, backupToolVersion: m.toolVersion,
            objects: m.objects.map { .init(key: $0.key, database: $0.database, kind: $0.kind, size: $0.size, sha256: $0.sha256) },
            backupFailures: m.failures.map { "\($0.database) (\($0.step)): \($0.message)" })
    }

    // MARK: pick

    func pick() async throws -> (String, Manifest) {
        let source = options.source
        let sets: [String]
        do { sets = try await BlockingExecutor.run("drill") { try source.completeSets() } } catch {
            throw DrillError(.source, "cannot list backup sets in \(source): \(error)")
        }
        var rng = SystemRandomNumberGenerator()
        let ts = try options.selection.pick(from: sets, using: &rng)
        let manifest: Manifest
        do { manifest = try await BlockingExecutor.run("drill") { try source.manifest(ts) } } catch {
            throw DrillError(.source, "set \(ts): cannot read its manifest: \(error)")
        }
        let problems = manifest.safetyProblems()
        guard problems.isEmpty else {
            throw DrillError(.unsafeManifest, "set \(ts): the manifest is refused, nothing of it is fetched: " + problems.joined(separator: "; "))
        }
        guard manifest.format <= Manifest.currentFormat else {
            throw DrillError(.configuration, "set \(ts): manifest format \(manifest.format) is newer than this acp-drill reads (\(Manifest.currentFormat)); upgrade acp-drill")
        }
        if !manifest.failures.isEmpty {
            check("backup.complete", kind: "core", .failed,
                  "the backup recorded \(manifest.failures.count) failed database(s): " + manifest.failures.map { "\($0.database) (\($0.step))" }.joined(separator: ", "),
                  fix: "those databases are not in this set; fix the backup (acp-drill backup names the error) or drill an older set with --backup TS")
        }
        return (ts, manifest)
    }

    func checkEncryption(_ manifest: Manifest) throws {
        guard manifest.encryption == options.decryption.kind else {
            let hint = manifest.encryption == "age" ? "set ACP_BACKUP_AGE_IDENTITY to the age identity file" : "set ACP_BACKUP_GPG_HOMEDIR to the gpg home holding the secret key"
            throw DrillError(.configuration, "set \(manifest.timestamp) is encrypted with \(manifest.encryption), but \(options.decryption.kind) was configured: \(hint)")
        }
    }

    // MARK: scratch

    /// A private (0700) scratch folder named after this process, for ciphertext downloads and plaintext dumps.
    func makeScratch() throws -> String {
        let path = "\(options.scratchParent)/acp-drill-scratch-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw DrillError(.configuration, "cannot create the scratch folder \(path): \(error)") }
        return path
    }

    /// Removes scratch folders left by drills that were killed (SIGKILL): their process is gone.
    static func sweepScratch(parent: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for e in entries where e.hasPrefix("acp-drill-scratch-") {
            let pid = e.dropFirst("acp-drill-scratch-".count).split(separator: "-").first.flatMap { Int32($0) }
            if let pid, pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { try? FileManager.default.removeItem(atPath: "\(parent)/\(e)") }
        }
    }
}
