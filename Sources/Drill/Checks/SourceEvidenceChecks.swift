import Common
import Evidence
import Foundation
import Repository

/// The comparisons of a restored database with the evidence its backup took in the dump's own snapshot
/// (docs/EVIDENCE.md). A set without evidence (manifest format 1) has them skipped, saying why; a format-2
/// set missing a database's evidence fails them: the verdict fails closed.
enum SourceEvidence {
    static let noEvidence = "the set carries no source evidence (manifest format 1, written before acp-drill recorded it): nothing to compare with"

    /// Runs `compare` for each restored database against its source evidence, as `name.<db>`.
    static func perDatabase(_ context: CheckContext, name: String, kind: CheckResult.Kind = .core, fix: String,
                            _ compare: @escaping @Sendable (String, DatabaseEvidence, DatabaseEvidence) -> (differences: [String], passed: String))
        async throws -> [CheckResult] {
        guard let all = context.manifest.evidence else {
            return context.databases.map { .skipped("\(name).\($0)", noEvidence, kind: kind) }
        }
        var out: [CheckResult] = []
        for db in context.databases {
            let t0 = ContinuousClock.now
            guard let source = all[db] else {
                out.append(.timed("\(name).\(db)", kind, .failed, "the set's manifest has no evidence for \(db), though it carries evidence for \(all.count) other database(s)",
                                  fix: "the manifest was edited or the backup failed to record it: drill another set and investigate the repository", since: t0))
                continue
            }
            do {
                let restored = try await context.restoredEvidence(db)
                // Timed from here: the read is row_counts' (shared), the comparison is this check's own.
                let compared = ContinuousClock.now
                let (differences, passed) = compare(db, source, restored)
                out.append(differences.isEmpty
                    ? .timed("\(name).\(db)", kind, .passed, passed, since: compared)
                    : .timed("\(name).\(db)", kind, .failed, "\(differences.count) difference(s) with the source: " + EvidenceComparison.summary(differences), fix: fix, since: compared))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                out.append(.timed("\(name).\(db)", kind, .failed, "reading the restored copy's evidence: \(error)", since: t0))
            }
        }
        return out
    }
}

/// `rows.<db>`: every table holds exactly the rows the source's snapshot held (plus replayed receipts).
struct RowsCheck: DrillCheck {
    let descriptor = CheckDescriptor("rows.<db>", kind: .core, needs: [.restoredDatabases],
                                     "every table (each partition, each populated materialized view) holds exactly the rows the source held in the dump's snapshot, as the backup counted them; a difference names schema.table and both counts")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        let beyond = context.ledger.replayedRows
        return try await SourceEvidence.perDatabase(context, name: "rows",
                                                    fix: "the dump does not hold what the source held: it was altered or re-made after the backup; drill an older set and investigate the repository") { db, source, restored in
            let d = EvidenceComparison.rows(source: source.rows, restored: restored.rows, beyond: beyond[db] ?? [:])
            let total = source.rows.values.reduce(0, +)
            return (d, "\(source.rows.count) table(s), \(total) rows, each as the source had them" + ((beyond[db]?.values.reduce(0, +)).map { " (+ \($0) replayed)" } ?? ""))
        }
    }
}

/// `schema.<db>`: the schema fingerprint, sequences, large objects, encoding, locale and settings.
struct SchemaCheck: DrillCheck {
    let descriptor = CheckDescriptor("schema.<db>", kind: .core, needs: [.restoredDatabases],
                                     "the restored schema matches the source's fingerprint: tables, columns and types, indexes, constraints, views, functions, triggers, policies, types, extensions and versions; sequences at least as far on; large objects; encoding, locale and settings")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        try await SourceEvidence.perDatabase(context, name: "schema",
                                             fix: "the dump does not hold the source's schema (altered, or dumped with filters), or the sandbox lacks what the source had (an extension, a locale): see each difference") { _, source, restored in
            (EvidenceComparison.schema(source: source, restored: restored),
             "\(source.schema.count) object(s), \(source.sequences.count) sequence(s), \(source.largeObjects) large object(s); \(source.database.encoding), \(source.database.collate)")
        }
    }
}

/// `grants.<db>`: owners and ACLs, the database's own included.
struct GrantsCheck: DrillCheck {
    let descriptor = CheckDescriptor("grants.<db>", kind: .core, needs: [.restoredDatabases],
                                     "every object has the source's owner and ACL (the database, schemas, tables, columns, sequences, functions, types, default privileges, large objects), restored from the dump after its code ran contained")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        let privileges = context.privileges
        let roles = context.roles
        return try await SourceEvidence.perDatabase(context, name: "grants",
                                                    fix: "an owner or privilege the source had is not in the dump (altered), or its role is missing from the globals (see roles)") { db, source, restored in
            var d = EvidenceComparison.grants(source: source, restored: restored)
            let outcome = privileges[db]
            if !d.isEmpty {
                if roles == nil { d.append("the set has no globals object, so its roles could not be created") }
                d += (outcome?.errors ?? []).prefix(3).map { "applying the dump's statements: \($0)" }
                d += (outcome?.refused ?? []).prefix(3).map { "refused (could run code as superuser): \($0)" }
            }
            return (d, "\(source.grants.count) owner/ACL entries as the source had them (\(outcome?.applied ?? 0) statement(s) of the dump applied as superuser after its code ran contained)")
        }
    }
}

/// `roles`: every role of the source exists in the sandbox, with its attributes and memberships.
struct RolesCheck: DrillCheck {
    let descriptor = CheckDescriptor("roles", kind: .core, needs: [.restoredDatabases],
                                     "every role the source had when the globals were dumped exists in the sandbox with its attributes and memberships, restored from the set's globals object (no passwords: login roles get RESTORE_DB_PASSWORD or a per-drill one)")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        let t0 = ContinuousClock.now
        guard let source = context.manifest.roles else {
            return [.skipped("roles", context.manifest.evidence == nil ? SourceEvidence.noEvidence : "the set's manifest records no roles (its globals failed at backup: see its failures)")]
        }
        do {
            let json = try await context.target("postgres").query(EvidenceQuery.roles).first?.first ?? "[]"
            let restored = try RoleEvidence.parseList(json)
            var d = EvidenceComparison.roles(source: source, restored: restored)
            if !d.isEmpty, let outcome = context.roles {
                d += outcome.errors.prefix(3).map { "restoring the globals: \($0)" } + outcome.refused.prefix(3).map { "refused: \($0)" }
            }
            let login = context.roles?.loginRoles.count ?? 0
            return [d.isEmpty
                ? .timed("roles", .core, .passed, "\(source.count) role(s) with their memberships, from the globals object; \(login) login role(s) given the drill's password", since: t0)
                : .timed("roles", .core, .failed, "\(d.count) difference(s) with the source: " + EvidenceComparison.summary(d),
                         fix: "the globals object lacks what the source had (altered, or pg_dumpall could not read it): see the backup's output", since: t0)]
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return [.timed("roles", .core, .failed, "reading the sandbox's roles: \(error)", since: t0)]
        }
    }
}

/// `coverage`: the set names no database of the server that nobody backs up.
struct CoverageCheck: DrillCheck {
    let descriptor = CheckDescriptor("coverage", kind: .core,
                                     "the backup covered every database of the server (pg_database without templates and postgres): none left out unless excluded on purpose (ACP_BACKUP_EXCLUDE, recorded)")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let coverage = context.manifest.coverage else {
            return [.skipped("coverage", context.manifest.evidence == nil ? SourceEvidence.noEvidence : "the backup could not list the server's databases (see the set's failures)")]
        }
        let excluded = coverage.excluded.isEmpty ? "" : "; excluded on purpose: \(coverage.excluded.joined(separator: ", "))"
        guard coverage.uncovered.isEmpty else {
            return [.failed("coverage", "the server had \(coverage.uncovered.count) database(s) nobody backs up: \(coverage.uncovered.joined(separator: ", "))\(excluded)",
                            fix: "add them to DATABASES, or to ACP_BACKUP_EXCLUDE if leaving them out is intended")]
        }
        return [.passed("coverage", "the set covers all \(coverage.server.count) database(s) of the server\(excluded)")]
    }
}
