public import AuditChain
public import Common
public import Evidence
import Foundation
public import Repository
public import Sandbox
import Synchronization

/// What every check after the restore sees: the restored databases and where they are, the set, the
/// drill's options, and what earlier checks found (the tables row_counts saw; the audit chain, read once).
public final class CheckContext: Sendable {
    public let databases: [String]
    let target: PostgresTarget
    /// Each database's instance, when the set was spread over several.
    let instances: [String: PostgresTarget]
    public let sandbox: Sandbox
    public let manifest: Manifest
    /// The separately stored roots snapshot, decrypted (nil when the set has none).
    public let snapshot: [UInt8]?
    public let options: DrillOptions
    let ledger: DrillLedger
    /// What became of the set's roles (nil: the set has no globals object).
    let roles: RoleRestore.Outcome?
    /// What became of each database's owner and privilege statements.
    let privileges: [String: PrivilegeRestore.Outcome]
    private let found = Mutex<[String: Set<String>]>([:])
    private let chains = Mutex<[String: Task<ChainRead, any Error>]>([:])
    private let evidence = Mutex<[String: Task<DatabaseEvidence, any Error>]>([:])
    private let catalogs = Mutex<[String: Task<DatabaseEvidence, any Error>]>([:])

    init(restored: Restored, manifest: Manifest, snapshot: [UInt8]?, options: DrillOptions, ledger: DrillLedger,
         roles: RoleRestore.Outcome? = nil, privileges: [String: PrivilegeRestore.Outcome] = [:]) {
        databases = restored.databases
        target = restored.target
        instances = restored.instances
        sandbox = restored.sandbox
        self.manifest = manifest
        self.snapshot = snapshot
        self.options = options
        self.ledger = ledger
        self.roles = roles
        self.privileges = privileges
    }

    /// When the set's dump of `db` was taken (its evidence's `snapshotAt`), in microseconds since 1970.
    func usageSnapshotAt(_ db: String) -> Int64? {
        manifest.evidence?[db]?.snapshotAt.flatMap { UTCTime.parse($0) }
    }

    /// The restored database's evidence, read once with the query the backup ran on the source
    /// (`EvidenceQuery.database`): its row counts serve row_counts and rows, its fingerprint schema and grants.
    /// audit_logs is counted by the chain's own pass (one read of the large table), so this waits for it.
    public func restoredEvidence(_ db: String) async throws -> DatabaseEvidence {
        try await Self.once(evidence, db) {
            var evidence = try await self.catalogEvidence(db)
            // audit_logs is counted by the chain's own pass; a chain that cannot be read is counted here.
            if Self.holdsAuditChain(evidence) {
                if let read = try? await self.auditChain(in: db), let rows = read.rowsRead {
                    evidence.rows[ChainCheck.auditTable] = rows
                } else {
                    var target = self.target(db)
                    target.sessionOptions = "-c statement_timeout=0"
                    let n = try await target.query("SELECT count(*) FROM \(ChainCheck.auditTable)").first?.first.flatMap { Int64($0) }
                    evidence.rows[ChainCheck.auditTable] = n ?? -1
                }
            }
            return evidence
        }
    }

    /// The evidence query's answer alone: the fingerprint and every count but audit_logs'.
    private func catalogEvidence(_ db: String) async throws -> DatabaseEvidence {
        var target = self.target(db)
        target.sessionOptions = "-c statement_timeout=0"
        return try await Self.once(catalogs, db) { [target] in
            let lines = try await target.evidence(countedElsewhere: [ChainCheck.auditTable])
            return try DatabaseEvidence.parse(lines.catalog, counts: lines.counts)
        }
    }

    /// `work` for `key`, run once whoever asks first and shared by every caller after; a caller cancelled
    /// while waiting cancels it.
    private static func once<T: Sendable>(_ tasks: borrowing Mutex<[String: Task<T, any Error>]>, _ key: String,
                                          _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = tasks.withLock { tasks -> Task<T, any Error> in
            if let t = tasks[key] { return t }
            let new = Task(operation: work)
            tasks[key] = new
            return new
        }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// Whether the evidence shows an ordinary `public.audit_logs` (a partitioned one is counted by the query).
    private static func holdsAuditChain(_ evidence: DatabaseEvidence) -> Bool {
        guard let table = evidence.schema["table \(ChainCheck.auditTable)"] else { return false }
        return !table.contains("partitioned")
    }

    /// Finds every restored database's tables, from its catalog evidence, for `locate`: what the checks
    /// need before they start. The audit chain's pass, the stage's longest read, starts at once in its
    /// platform database, beside the evidence queries (it checks the tables' kinds itself; where the
    /// database has no chain, the read fails and no check asks for it). A database whose query fails has
    /// no tables here; row_counts reports its error.
    func locateTables() async throws {
        if databases.contains("acp_audit") {
            Task { _ = try? await self.auditChain(in: "acp_audit") }
        }
        let tables = Mutex<[String: Set<String>]>([:])
        try await Concurrently.forEach(databases, limit: 4) { db in
            guard let evidence = try? await self.catalogEvidence(db) else { return }
            let found = Set(evidence.rows.keys).union(evidence.schema.keys.filter { $0.hasPrefix("table ") }.map { String($0.dropFirst(6)) })
            tables.withLock { $0[db] = found }
        }
        if Task.isCancelled { throw CancellationError() }
        found.withLock { $0 = tables.withLock { $0 } }
    }

    /// The restored server, in database `db`.
    public func target(_ db: String) -> PostgresTarget { (instances[db] ?? target).database(db) }

    /// The databases the set holds (those with an object).
    public var inSet: Set<String> { Set(manifest.objects.compactMap { $0.database }) }

    /// What the restore recorded of each database of the set (sizes, archive header, restore time).
    public var databaseRecords: [DrillReport.Database] { ledger.snapshot.databases.sorted { $0.name < $1.name } }

    /// Each database's tables (`schema.table`), as `locateTables` found them.
    public var tables: [String: Set<String>] { found.withLock { $0 } }

    /// Where `table` was restored: its platform database first, else any restored database that has it.
    public func locate(_ table: String, platformDatabase: String) -> Located {
        Located(table: table, platformDB: platformDatabase, tables: tables, inSet: inSet, restored: databases)
    }

    /// The audit chain in `db`, read once for every check that needs it: rows, roots and keys in one pass,
    /// which also counts the rows (for `rows.<db>`) and, when the usage events are restored, feeds
    /// reconcile's merge (`AuditPass`): the large table is read once.
    public func auditChain(in db: String) async throws -> ChainRead {
        try await Self.once(chains, db) { try await self.readChain(db) }
    }

    private func readChain(_ db: String) async throws -> ChainRead {
        let t0 = ContinuousClock.now
        let replay = ledger.snapshot.replay
        let boundary = replay?.database == db ? replay?.outcome.boundaryID : nil
        // Reconcile rides along when the usage events are where the platform keeps them; they load beside
        // the chain's pass.
        var riding: (usage: String, boundary: Int64, lastID: Int64)?
        if databases.contains("acp_usage"), db == "acp_audit" || !databases.contains("acp_audit"),
           (try? await target("acp_usage").query("SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = 'usage_events' AND c.relkind = 'r'").isEmpty) == false,
           let last = try? await Reconcile.lastID(ChainCheck.pinned(target(db))) {
            riding = ("acp_usage", boundary ?? last, last)
        }
        let pass = AuditPass(reconcileUpTo: riding?.boundary)
        let loader: Task<Bool, Never>? = riding.map { r in
            let (usage, snapshotAt) = (target(r.usage), usageSnapshotAt(r.usage))
            return Task {
                guard let events = try? await Reconcile.usageEvents(usage) else { return false }
                pass.attach(Reconcile.merge(events, boundary: r.boundary, usageSnapshotAt: snapshotAt))
                return true
            }
        }
        let read: (report: ChainReport, roots: [TransparencyRoot], keys: [HistoricalKey])
        do { read = try await ChainCheck.read(target(db), pinnedKeys: options.transparencyKeys, pass: pass) } catch {
            loader?.cancel()
            throw error
        }
        let (report, roots) = (read.report, read.roots)
        let loaded = await loader?.value ?? false
        let reconcile = riding.flatMap { r in
            loaded ? pass.reconcile(replayed: Int(max(0, r.lastID - r.boundary))).map { (usageDatabase: r.usage, result: $0) } : nil
        }
        return ChainRead(database: db, report: report, roots: roots, seconds: (ContinuousClock.now - t0).inSeconds, rowsRead: pass.rows, reconcile: reconcile)
    }
}

/// The audit chain as one read found it.
public struct ChainRead: Sendable {
    public var database: String
    public var report: ChainReport
    public var roots: [TransparencyRoot]
    public var seconds: Double
    /// Every row the pass read (the table's exact count), whatever the chain made of them; nil when the
    /// read stopped before the table's end (a key the operator does not pin).
    var rowsRead: Int64?
    /// Reconcile, when it rode along: the usage database and the result.
    var reconcile: (usageDatabase: String, result: Reconcile.Result)?
}

/// Where a platform table was restored.
public struct Located: Sendable {
    public var table: String
    public var platformDB: String
    /// The database holding the table, if any.
    public var db: String?
    /// Whether the set holds the platform's database (then a missing table is a failure, not a skip).
    public var expected: Bool
    public var platformRestored: Bool

    init(table: String, platformDB: String, tables: [String: Set<String>], inSet: Set<String>, restored: [String]) {
        self.table = table
        self.platformDB = platformDB
        db = tables[platformDB]?.contains("public.\(table)") == true ? platformDB
            : tables.keys.sorted().first { tables[$0]!.contains("public.\(table)") }
        expected = inSet.contains(platformDB)
        platformRestored = restored.contains(platformDB)
    }

    /// The check `name` when the table is nowhere: failed if the set holds its database, else skipped.
    public func missing(_ name: String) -> CheckResult {
        guard expected else {
            return .skipped(name, "no restored database has a table \(table) (platform check)", kind: .platform)
        }
        return .failed(name, platformRestored ? "\(platformDB) was restored but has no table \(table)" : "\(platformDB) is in the set but was not restored (see above)",
                       kind: .platform,
                       fix: platformRestored ? "confirm the backup dumps \(platformDB) whole (DATABASES, pg_dump --table filters)" : "fix the restore of \(platformDB) first")
    }
}

extension CheckResult {
    /// A result timed from `start`.
    static func timed(_ name: String, _ kind: Kind, _ status: Status, _ evidence: String, fix: String? = nil, since start: ContinuousClock.Instant) -> CheckResult {
        CheckResult(name: name, kind: kind, status: status, evidence: evidence, fix: fix, seconds: (ContinuousClock.now - start).inSeconds)
    }
}
