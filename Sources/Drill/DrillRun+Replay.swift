import AuditChain
import Common
import Foundation
import Repository

extension DrillRun {
    /// The `replay` stage (`--receipts`): receipts beyond the dump are replayed onto the restored audit chain
    /// before the checks run, so that verify_chain covers them. Records the `replay` check; the outcome is
    /// the report's `rpo`. A replay that stopped at a gap, a forged or unreadable receipt fails the drill.
    func replayReceipts(_ restored: Restored) async throws {
        guard let store = options.receipts else { return }
        let t0 = ContinuousClock.now
        guard let db = await auditDatabase(restored) else {
            ledger.check("replay", .platform, .failed, "--receipts was given, but no restored database has an audit chain (public.audit_logs) to replay onto",
                         fix: "drill a set that holds acp_audit, or leave out --receipts", seconds: (ContinuousClock.now - t0).inSeconds)
            return
        }
        let replay = ReceiptReplay(store: store, until: options.until, target: restored.target(for: db), role: RestoreScript.restoreRole(for: db))
        let outcome: ReceiptReplay.Outcome
        do { outcome = try await replay.run() } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            ledger.check("replay", .platform, .failed, "\(db): receipts from \(store): \(error)",
                         fix: "check the receipts location and its credentials (ACP_RECEIPTS_S3_BUCKET, --receipts)", seconds: (ContinuousClock.now - t0).inSeconds)
            return
        }
        ledger.setReplay(outcome, database: db, location: store.description)
        if let until = options.until, let dumped = outcome.boundaryTime, dumped > until {
            ledger.check("replay", .platform, .failed,
                         "\(db): --until \(UTCTime.canonical(micros: until)) is before the dump's last row (id \(outcome.boundaryID), written \(UTCTime.canonical(micros: dumped))): a dump cannot be rolled back",
                         fix: "drill an older set (--backup TS), taken before --until", seconds: outcome.seconds)
            return
        }
        ledger.check("replay", .platform, outcome.failed ? .failed : .passed, Self.describe(outcome, db: db, store: store),
                     fix: outcome.failed ? Self.replayFix(outcome) : nil, seconds: outcome.seconds)
        if let id = outcome.lastID {
            ledger.line("replay: \(outcome.replayed) receipt(s) beyond the dump's id \(outcome.boundaryID), up to id \(id)")
        }
    }

    /// The restored database holding the audit chain: acp_audit, else the first with `public.audit_logs`.
    func auditDatabase(_ restored: Restored) async -> String? {
        let ordered = restored.databases.filter { $0 == "acp_audit" } + restored.databases.filter { $0 != "acp_audit" }.sorted()
        for db in ordered {
            let rows = try? await restored.target(for: db).query("SELECT to_regclass('public.audit_logs') IS NOT NULL")
            if rows?.first?.first == "t" { return db }
        }
        return nil
    }

    static func describe(_ o: ReceiptReplay.Outcome, db: String, store: any ObjectStore) -> String {
        let rate = o.seconds > 0 ? Int(Double(o.replayed) / o.seconds) : 0
        var text = "\(db): "
        if let e = o.insertError {
            text += "the replayed rows could not be inserted (none were): \(e)"
        } else if let id = o.lastID, let at = o.lastTime {
            text += "\(o.replayed) receipt(s) replayed beyond the dump's last id \(o.boundaryID): ids \(o.boundaryID + 1)…\(id), the newest written at \(UTCTime.canonical(micros: at)); \(o.batches) batch(es) from \(store), \(rate) receipts/s"
        } else {
            text += "no receipt beyond the dump's last id \(o.boundaryID) in \(store) (\(o.batches) batch(es) read)"
        }
        if let stop = o.stop { text += stop.isFailure ? "; stopped: \(stop.message); nothing past it was inserted" : "; \(stop.message)" }
        return text
    }

    static func replayFix(_ o: ReceiptReplay.Outcome) -> String {
        switch o.stop {
        case .gap: "receipts are missing: that is data loss since the dump; find the audit service's mirror errors for those ids; the chain up to the gap is recovered"
        case .forged, .brokenLink, .boundaryMismatch, .duplicate:
            "a receipt does not belong to the chain: treat the receipts bucket as tampered with (who can write to it) and follow the Audit Chain Violation runbook"
        case .unreadable: "a receipt object is damaged or not a receipt: check the mirror's objects at the place named"
        default: "see psql's error: the restored audit_logs did not accept the rows"
        }
    }
}
