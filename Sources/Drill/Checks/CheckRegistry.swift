public import Common

/// Every check of the drill, in the order the report lists them. `--help`, the report schema doc
/// (docs/report-schema.md, tested against this list) and JUnit's class names come from here.
public enum CheckRegistry {
    /// Checks the pipeline's stages record as they go (the set, its transfer, the restore).
    public static let stageChecks: [CheckDescriptor] = [
        CheckDescriptor("manifest.signature", kind: .core, "the manifest's Ed25519 signature verifies by a trusted key (--trusted-keys) within its window, before anything it says is acted on; skipped, and said in the verdict line, without trusted keys"),
        CheckDescriptor("freshness", kind: .core, "the newest complete set is younger than --max-age (24h: the recovery point objective), whichever set is drilled; newer set folders without a manifest are named"),
        CheckDescriptor("backup.complete", kind: .core, "the manifest agrees with itself: no failed database recorded, every database it lists has its dump, no dump of a database it does not list"),
        CheckDescriptor("checksum.<object>", kind: .core, "the object's size and SHA-256 match the manifest, before anything is decrypted"),
        CheckDescriptor("decrypt.<object>", kind: .core, "the object decrypts with the configured identity (age authenticates every chunk)"),
        CheckDescriptor("list.<db>", kind: .core, "pg_restore --list reads the dump's table of contents"),
        CheckDescriptor("restore.<db>", kind: .core, "the database is created as the dump describes it and pg_restore --exit-on-error completes"),
        CheckDescriptor("restore", kind: .core, "at least one database dump of the set could be decrypted"),
        CheckDescriptor("replay", kind: .platform, "with --receipts: every receipt beyond the dump was replayed onto the restored audit chain in id order, each the next id, linked to the previous row_hash and its own row_hash recomputing, up to --until; a gap (data loss), a forged, duplicate or unreadable receipt stops it, named, with nothing past it inserted"),
        CheckDescriptor("services.start", kind: .core, needs: [.services], "the stack's app services start after the restore, in a sandbox whose isolation held"),
        CheckDescriptor("interrupted", kind: .core, "the drill was not cancelled (SIGINT/SIGTERM); after teardown the verdict is ABORTED"),
        CheckDescriptor("engine", kind: .core, "the container engine kept answering (watched once a second); when it went away (a restart, a crash) and anything failed, this names it as the first failure; an outage the drill came through whole is recorded as passed"),
        CheckDescriptor("<stage>", kind: .core, "a stage that failed outright (pick, provision, …), with the error and its fix"),
    ]

    /// The sandbox's isolation assertions.
    public static let isolation = IsolationCheck()

    /// The checks run once the databases are restored, in report order, all at once (their tables located
    /// first, `CheckContext.locateTables`).
    public static let afterRestore: [any DrillCheck] = [
        RowCountsCheck(), RowsCheck(), SchemaCheck(), GrantsCheck(), RolesCheck(), CoverageCheck(), ArchiveIdentityCheck(), SmokeCheck(),
        VerifyChainCheck(), RootsSnapshotCheck(), RootsCustomerCheck(), ReconcileCheck(), HealthCheck(), UserSQLCheck(),
    ]

    /// Checks run after all the others, one at a time (a job may write to the restored data).
    public static let last: [any DrillCheck] = [JobsCheck()]

    /// Every check, as `--help` and the schema doc list them.
    public static var all: [CheckDescriptor] { stageChecks + isolation.descriptors + (afterRestore + last).map(\.descriptor) }

    /// The registered check a reported name belongs to (`row_counts.acp_audit` → `row_counts.<db>`); the
    /// `<stage>` catch-all matches only what nothing else does.
    public static func descriptor(for checkName: String) -> CheckDescriptor? {
        all.first { $0.name != "<stage>" && $0.matches(checkName) } ?? all.first { $0.name == "<stage>" }
    }

    /// Runs `afterRestore`, then `last`, and commits the results in registry order (so that the report and its first
    /// failure do not depend on which check finished first). A check whose table is nowhere is not run:
    /// it is reported skipped, or failed when the set holds the platform database that should have it.
    static func run(_ context: CheckContext) async throws {
        try await context.locateTables()
        let results = try await withThrowingTaskGroup(of: (Int, [CheckResult]).self) { group in
            for (i, check) in afterRestore.enumerated() {
                group.addTask { (i, try await Self.runMeetingNeeds(check, context)) }
            }
            var byIndex: [Int: [CheckResult]] = [:]
            for try await (i, r) in group { byIndex[i] = r }
            return byIndex
        }
        for i in afterRestore.indices { for r in results[i] ?? [] { context.ledger.commit(r) } }
        for check in last {
            for r in try await runMeetingNeeds(check, context) { context.ledger.commit(r) }
        }
    }

    static func runMeetingNeeds(_ check: any DrillCheck, _ context: CheckContext) async throws -> [CheckResult] {
        for need in check.descriptor.needs {
            guard case .table(let table, let platformDatabase) = need else { continue }
            let located = context.locate(table, platformDatabase: platformDatabase)
            if located.db == nil { return [located.missing(check.descriptor.name)] }
        }
        return try await check.run(context)
    }
}
