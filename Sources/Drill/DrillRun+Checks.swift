import AuditChain
import DockerEngine
import Foundation
import Sandbox
import Repository
import Synchronization

/// The checks of DESIGN.md §3 on the restored databases. Platform checks (smoke, verify-chain, roots,
/// reconcile) run where their tables exist and are `skipped` otherwise — unless the set holds the
/// platform's database for them, in which case a missing table is a failure. Fail closed: a check that
/// could not run is a failure.
extension DrillRun {
    static let chainFix = "the audit chain was altered after it was written: follow the Audit Chain Violation runbook and compare with customer-archived roots (--customer-roots FILE)"

    func runChecks(_ restored: Restored, manifest: Manifest, snapshot: [UInt8]?, sandbox: Sandbox) async throws {
        // Exact row counts of every table, database by database.
        var tables: [String: Set<String>] = [:]
        for db in restored.databases {
            let t0 = ContinuousClock.now
            var target = restored.target
            target.database = db
            do {
                let counts = try await rowCounts(target)
                tables[db] = Set(counts.keys)
                state.withLock { s in
                    if let i = s.databases.firstIndex(where: { $0.name == db }) { s.databases[i].rowCounts = counts }
                }
                let total = counts.values.reduce(0, +)
                let top = counts.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                check("row_counts.\(db)", kind: "core", .passed, "\(counts.count) table(s), \(total) rows: \(top)", seconds: Self.seconds(ContinuousClock.now - t0))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                check("row_counts.\(db)", kind: "core", .failed, "\(error)", seconds: Self.seconds(ContinuousClock.now - t0))
            }
        }
        let inSet = Set(manifest.objects.compactMap { $0.database })
        func locate(_ table: String, platformDB: String) -> (db: String?, expected: Bool) {
            let db = tables[platformDB]?.contains("public.\(table)") == true ? platformDB
                : tables.keys.sorted().first { tables[$0]!.contains("public.\(table)") }
            return (db, inSet.contains(platformDB))
        }
        func missing(_ name: String, _ table: String, _ where_: (db: String?, expected: Bool), platformDB: String) {
            if where_.expected {
                let restoredIt = restored.databases.contains(platformDB)
                check(name, kind: "platform", .failed, restoredIt ? "\(platformDB) was restored but has no table \(table)" : "\(platformDB) is in the set but was not restored (see above)",
                      fix: restoredIt ? "confirm the backup dumps \(platformDB) whole (DATABASES, pg_dump --table filters)" : "fix the restore of \(platformDB) first")
            } else {
                check(name, kind: "platform", .skipped, "no restored database has a table \(table) (platform check)")
            }
        }

        // Smoke: the runbook's SELECT count(*) FROM audit_logs.
        let audit = locate("audit_logs", platformDB: "acp_audit")
        var auditTarget = restored.target
        if let db = audit.db {
            auditTarget.database = db
            let t0 = ContinuousClock.now
            do {
                let n = try await auditTarget.query("SELECT count(*) FROM audit_logs", client: client).first?.first ?? "0"
                let ok = (Int64(n) ?? 0) > 0
                check("smoke.audit_logs", kind: "platform", ok ? .passed : .failed, "\(db): SELECT count(*) FROM audit_logs = \(n)",
                      fix: "the restored audit_logs is empty: confirm the backup ran against the production database (POSTGRES_HOST) and that the set is the one you meant",
                      seconds: Self.seconds(ContinuousClock.now - t0))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                check("smoke.audit_logs", kind: "platform", .failed, "\(error)",
                      fix: "DB role / password mismatch: the drill uses ephemeral credentials; if RESTORE_DB_PASSWORD is set, confirm it", seconds: Self.seconds(ContinuousClock.now - t0))
            }
        } else {
            missing("smoke.audit_logs", "audit_logs", audit, platformDB: "acp_audit")
        }

        // verify-chain, then the roots against the separately stored snapshot and the customer's archive.
        if let db = audit.db {
            let t0 = ContinuousClock.now
            do {
                let report = try await ChainCheck.verify(auditTarget, client: client)
                let seconds = Self.seconds(ContinuousClock.now - t0)
                state.withLock { $0.chainRows = report.rows }
                let rate = seconds > 0 ? Int(Double(report.rows) / seconds) : 0
                if let f = report.failure {
                    let fix = f.kind == .historicalKeysMissing ? "confirm the historical-keys table (transparency_historical_keys) was included in the backup" : Self.chainFix
                    check("verify_chain", kind: "platform", .failed, "\(db): \(f.message)", fix: fix, seconds: seconds)
                } else {
                    check("verify_chain", kind: "platform", .passed,
                          "\(db): \(report.rows) rows (ids \(report.firstID ?? 0)…\(report.lastID ?? 0)), \(report.days) day(s), \(report.rootsVerified) signed root(s) verified, \(report.unsealedRows) unsealed row(s) after the last root; \(rate) rows/s",
                          seconds: seconds)
                }
                let roots = try await ChainCheck.roots(auditTarget, client: client)
                if let snapshot {
                    do {
                        let reference = try RootsFile.parse(Data(snapshot), source: "transparency_roots snapshot")
                        if let f = ChainVerifier.compare(restored: roots, reference: reference, kind: .snapshotMismatch) {
                            check("roots.snapshot", kind: "platform", .failed, f.message, fix: Self.chainFix)
                        } else {
                            check("roots.snapshot", kind: "platform", .passed, "\(reference.count) root(s) in the separately stored snapshot match the restored transparency_roots")
                        }
                    } catch { check("roots.snapshot", kind: "platform", .failed, "\(error)") }
                } else if roots.isEmpty {
                    check("roots.snapshot", kind: "platform", .skipped, "no transparency_roots in the set")
                } else {
                    check("roots.snapshot", kind: "platform", .failed, "the set has \(roots.count) restored root(s) but no separately stored transparency_roots snapshot",
                          fix: "back up with acp-drill backup, which writes transparency_roots/<ts>.jsonl.age beside the set")
                }
                if let customer = options.customerRoots {
                    if let f = ChainVerifier.compare(restored: roots, reference: customer, kind: .archivedRootMismatch) {
                        check("roots.customer", kind: "platform", .failed, "\(options.customerRootsSource ?? "customer roots"): \(f.message)", fix: Self.chainFix)
                    } else {
                        check("roots.customer", kind: "platform", .passed, "\(customer.count) customer-archived root(s) (\(options.customerRootsSource ?? "file")) match the restored transparency_roots")
                    }
                }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                check("verify_chain", kind: "platform", .failed, "\(db): \(error)", seconds: Self.seconds(ContinuousClock.now - t0))
            }
        } else {
            missing("verify_chain", "audit_logs", audit, platformDB: "acp_audit")
        }

        // Reconcile audit ↔ usage.
        let usage = locate("usage_events", platformDB: "acp_usage")
        if let adb = audit.db, let udb = usage.db {
            let t0 = ContinuousClock.now
            var usageTarget = restored.target
            usageTarget.database = udb
            do {
                let r = try await Reconcile.run(audit: auditTarget, usage: usageTarget, client: client)
                check("reconcile", kind: "platform", r.passed ? .passed : .failed, "\(adb).audit_logs ↔ \(udb).usage_events: \(r.evidence)",
                      fix: "usage and audit disagree: rows were lost or altered on one side; compare the ids named with production", seconds: Self.seconds(ContinuousClock.now - t0))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                check("reconcile", kind: "platform", .failed, "\(error)", seconds: Self.seconds(ContinuousClock.now - t0))
            }
        } else if audit.db == nil {
            missing("reconcile", "audit_logs", audit, platformDB: "acp_audit")
        } else {
            missing("reconcile", "usage_events", usage, platformDB: "acp_usage")
        }

        // Health of every service.
        for service in sandbox.services {
            let t0 = ContinuousClock.now
            let (ok, evidence) = await health(service, databases: restored.databases, target: restored.target)
            check("health.\(service.name)", kind: "core", ok ? .passed : .failed, evidence, seconds: Self.seconds(ContinuousClock.now - t0))
        }

        // The team's own checks.
        for uc in options.userChecks {
            let t0 = ContinuousClock.now
            var target = restored.target
            target.database = uc.database
            target.sessionOptions = "-c statement_timeout=\(Int(uc.timeoutSeconds * 1000))"
            guard restored.databases.contains(uc.database) else {
                check("user.\(uc.name)", kind: "user", .failed, "database \(uc.database) was not restored (in the set: \(inSet.sorted().joined(separator: ", ")))")
                continue
            }
            do {
                let rows = try await target.query(uc.query, client: client)
                let text = rows.map { $0.joined(separator: "|") }.joined(separator: "\n")
                let (ok, evidence) = uc.judge(text)
                check("user.\(uc.name)", kind: "user", ok ? .passed : .failed, evidence, seconds: Self.seconds(ContinuousClock.now - t0))
            } catch let e as QueryError where e.message.contains("statement timeout") {
                check("user.\(uc.name)", kind: "user", .timedOut, "\(uc.database): over its \(Int(uc.timeoutSeconds)) s timeout", seconds: Self.seconds(ContinuousClock.now - t0))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                check("user.\(uc.name)", kind: "user", .failed, "\(error)", seconds: Self.seconds(ContinuousClock.now - t0))
            }
        }
    }

    /// `count(*)` of every ordinary and partitioned table (partitions are counted in their parent).
    func rowCounts(_ target: PostgresTarget) async throws -> [String: Int64] {
        let tables = try await target.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1, 2
            """, client: client)
        guard !tables.isEmpty else { return [:] }
        var counts: [String: Int64] = [:]
        // In batches, so that a database with thousands of tables stays within one statement's limits.
        for batch in stride(from: 0, to: tables.count, by: 200).map({ Array(tables[$0 ..< min($0 + 200, tables.count)]) }) {
            let sql = batch.enumerated().map { i, t in "SELECT \(i), count(*) FROM \(Self.quoteIdent(t[0])).\(Self.quoteIdent(t[1]))" }.joined(separator: " UNION ALL ")
            for row in try await target.query(sql, client: client) where row.count == 2 {
                if let i = Int(row[0]), let n = Int64(row[1]) { counts["\(batch[i][0]).\(batch[i][1])"] = n }
            }
        }
        return counts
    }

    func health(_ service: Sandbox.Service, databases: [String], target: PostgresTarget) async -> (Bool, String) {
        do {
            let inspect = try await client.inspectContainer(service.containerID)
            guard inspect.state.running else { return (false, "\(service.containerName) is not running (\(inspect.state.status))") }
            if let h = inspect.state.health?.status, h != "healthy" { return (false, "\(service.containerName): healthcheck \(h)") }
            switch service.role {
            case .postgres:
                var answered: [String] = []
                for db in databases {
                    var t = target
                    t.database = db
                    _ = try await t.query("SELECT 1", client: client)
                    answered.append(db)
                }
                return (true, "\(service.containerName) running; SELECT 1 answered in \(answered.count) restored database(s)")
            case .redis:
                let r = try await client.execCollect(service.containerID, ["redis-cli", "ping"])
                let out = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                return (r.exitCode == 0 && out == "PONG", "\(service.containerName): redis-cli ping → \(out.isEmpty ? r.stderrText : out)")
            case .app:
                let health = inspect.state.health.map { ", healthcheck \($0.status)" } ?? ""
                return (true, "\(service.containerName) running\(health)")
            }
        } catch {
            return (false, "\(service.containerName): \(error)")
        }
    }

    static func fix(for error: any Error, stage: String) -> String? {
        if let e = error as? DrillError, e.kind == .noBackupSet {
            return "check the backup job (acp-drill backup) and the repository's retention; a retention gap or a failed nightly leaves no set"
        }
        if let e = error as? DrillError, e.kind == .source { return "verify the repository location, endpoint, region and credentials" }
        if error is SandboxError { return "see acp-drill up --help; images come from scripts/build-images.sh" }
        return nil
    }
}
