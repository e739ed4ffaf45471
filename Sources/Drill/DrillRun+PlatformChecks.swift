import AuditChain
import Foundation
import Repository

/// The platform's checks: the smoke count, verify-chain and the roots, and audit ↔ usage reconcile.
extension DrillRun {
    static let chainFix = "the audit chain was altered after it was written: follow the Audit Chain Violation runbook and compare with customer-archived roots (--customer-roots FILE)"

    /// Where a platform table was restored: its own database first, else any restored database that has it.
    struct Located: Sendable {
        var table: String
        var platformDB: String
        /// The database holding the table, if any.
        var db: String?
        /// Whether the set holds the platform's database (then a missing table is a failure, not a skip).
        var expected: Bool
        var platformRestored: Bool

        init(table: String, platformDB: String, tables: [String: Set<String>], inSet: Set<String>, restored: [String]) {
            self.table = table
            self.platformDB = platformDB
            db = tables[platformDB]?.contains("public.\(table)") == true ? platformDB
                : tables.keys.sorted().first { tables[$0]!.contains("public.\(table)") }
            expected = inSet.contains(platformDB)
            platformRestored = restored.contains(platformDB)
        }

        /// The check `name` when the table is nowhere: failed if the set holds its database, else skipped.
        func missing(_ name: String) -> DrillReport.Check {
            guard expected else {
                return DrillRun.result(name, kind: "platform", .skipped, "no restored database has a table \(table) (platform check)")
            }
            return DrillRun.result(name, kind: "platform", .failed,
                                   platformRestored ? "\(platformDB) was restored but has no table \(table)" : "\(platformDB) is in the set but was not restored (see above)",
                                   fix: platformRestored ? "confirm the backup dumps \(platformDB) whole (DATABASES, pg_dump --table filters)" : "fix the restore of \(platformDB) first")
        }
    }

    /// Smoke (the runbook's `SELECT count(*) FROM audit_logs`), verify-chain, then the restored roots
    /// against the separately stored snapshot and the customer's archive.
    func chainChecks(_ restored: Restored, audit: Located, snapshot: [UInt8]?) async throws -> [DrillReport.Check] {
        guard let db = audit.db else { return [audit.missing("smoke.audit_logs"), audit.missing("verify_chain")] }
        var out: [DrillReport.Check] = []
        var target = restored.target
        target.database = db
        var t0 = ContinuousClock.now
        do {
            let n = try await target.query("SELECT count(*) FROM audit_logs", client: client).first?.first ?? "0"
            let ok = (Int64(n) ?? 0) > 0
            out.append(Self.result("smoke.audit_logs", kind: "platform", ok ? .passed : .failed, "\(db): SELECT count(*) FROM audit_logs = \(n)",
                                   fix: "the restored audit_logs is empty: confirm the backup ran against the production database (POSTGRES_HOST) and that the set is the one you meant",
                                   seconds: (ContinuousClock.now - t0).inSeconds))
        } catch {
            if Task.isCancelled { throw CancellationError() }
            out.append(Self.result("smoke.audit_logs", kind: "platform", .failed, "\(error)",
                                   fix: "DB role / password mismatch: the drill uses ephemeral credentials; if RESTORE_DB_PASSWORD is set, confirm it",
                                   seconds: (ContinuousClock.now - t0).inSeconds))
        }
        t0 = ContinuousClock.now
        do {
            let report = try await ChainCheck.verify(target, client: client)
            let seconds = (ContinuousClock.now - t0).inSeconds
            state.withLock { $0.chainRows = report.rows }
            let rate = seconds > 0 ? Int(Double(report.rows) / seconds) : 0
            if let f = report.failure {
                let fix = f.kind == .historicalKeysMissing ? "confirm the historical-keys table (transparency_historical_keys) was included in the backup" : Self.chainFix
                out.append(Self.result("verify_chain", kind: "platform", .failed, "\(db): \(f.message)", fix: fix, seconds: seconds))
            } else {
                out.append(Self.result("verify_chain", kind: "platform", .passed,
                                       "\(db): \(report.rows) rows (ids \(report.firstID ?? 0)…\(report.lastID ?? 0)), \(report.days) day(s), \(report.rootsVerified) signed root(s) verified, \(report.unsealedRows) unsealed row(s) after the last root; \(rate) rows/s",
                                       seconds: seconds))
            }
            out += rootsChecks(try await ChainCheck.roots(target, client: client), snapshot: snapshot)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            out.append(Self.result("verify_chain", kind: "platform", .failed, "\(db): \(error)", seconds: (ContinuousClock.now - t0).inSeconds))
        }
        return out
    }

    func rootsChecks(_ roots: [TransparencyRoot], snapshot: [UInt8]?) -> [DrillReport.Check] {
        var out: [DrillReport.Check] = []
        if let snapshot {
            do {
                let reference = try RootsFile.parse(Data(snapshot), source: "transparency_roots snapshot")
                if let f = ChainVerifier.compare(restored: roots, reference: reference, kind: .snapshotMismatch) {
                    out.append(Self.result("roots.snapshot", kind: "platform", .failed, f.message, fix: Self.chainFix))
                } else {
                    out.append(Self.result("roots.snapshot", kind: "platform", .passed, "\(reference.count) root(s) in the separately stored snapshot match the restored transparency_roots"))
                }
            } catch { out.append(Self.result("roots.snapshot", kind: "platform", .failed, "\(error)")) }
        } else if roots.isEmpty {
            out.append(Self.result("roots.snapshot", kind: "platform", .skipped, "no transparency_roots in the set"))
        } else {
            out.append(Self.result("roots.snapshot", kind: "platform", .failed, "the set has \(roots.count) restored root(s) but no separately stored transparency_roots snapshot",
                                   fix: "back up with acp-drill backup, which writes transparency_roots/<ts>.jsonl.age beside the set"))
        }
        if let customer = options.customerRoots {
            if let f = ChainVerifier.compare(restored: roots, reference: customer, kind: .archivedRootMismatch) {
                out.append(Self.result("roots.customer", kind: "platform", .failed, "\(options.customerRootsSource ?? "customer roots"): \(f.message)", fix: Self.chainFix))
            } else {
                out.append(Self.result("roots.customer", kind: "platform", .passed, "\(customer.count) customer-archived root(s) (\(options.customerRootsSource ?? "file")) match the restored transparency_roots"))
            }
        }
        return out
    }

    /// Audit ↔ usage parity.
    func reconcileChecks(_ restored: Restored, audit: Located, usage: Located) async throws -> [DrillReport.Check] {
        guard let adb = audit.db else { return [audit.missing("reconcile")] }
        guard let udb = usage.db else { return [usage.missing("reconcile")] }
        let t0 = ContinuousClock.now
        var auditTarget = restored.target, usageTarget = restored.target
        auditTarget.database = adb
        usageTarget.database = udb
        do {
            let r = try await Reconcile.run(audit: auditTarget, usage: usageTarget, client: client)
            return [Self.result("reconcile", kind: "platform", r.passed ? .passed : .failed, "\(adb).audit_logs ↔ \(udb).usage_events: \(r.evidence)",
                                fix: "usage and audit disagree: rows were lost or altered on one side; compare the ids named with production", seconds: (ContinuousClock.now - t0).inSeconds)]
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return [Self.result("reconcile", kind: "platform", .failed, "\(error)", seconds: (ContinuousClock.now - t0).inSeconds)]
        }
    }
}
