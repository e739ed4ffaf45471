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
///
/// Row counts come first (they tell where the platform's tables are); then verify-chain, reconcile, the
/// health of every service and the team's own checks run at once, and are committed in that order.
extension DrillRun {
    func runChecks(_ restored: Restored, manifest: Manifest, snapshot: [UInt8]?, sandbox: Sandbox) async throws {
        let tables = try await rowCountChecks(restored)
        let inSet = Set(manifest.objects.compactMap { $0.database })
        let audit = Located(table: "audit_logs", platformDB: "acp_audit", tables: tables, inSet: inSet, restored: restored.databases)
        let usage = Located(table: "usage_events", platformDB: "acp_usage", tables: tables, inSet: inSet, restored: restored.databases)
        async let chain = chainChecks(restored, audit: audit, snapshot: snapshot)
        async let reconcile = reconcileChecks(restored, audit: audit, usage: usage)
        async let health = healthChecks(restored, sandbox: sandbox)
        async let user = userChecks(restored, inSet: inSet)
        for c in try await chain + reconcile + health + user { commit(c) }
    }

    /// Exact row counts of every table, a few databases at a time; returns each database's tables.
    func rowCountChecks(_ restored: Restored) async throws -> [String: Set<String>] {
        let results = Mutex<[String: (DrillReport.Check, [String: Int64]?)]>([:])
        try await Self.forEach(restored.databases, concurrency: 4) { db in
            let t0 = ContinuousClock.now
            var target = restored.target
            target.database = db
            do {
                let counts = try await self.rowCounts(target)
                let total = counts.values.reduce(0, +)
                let top = counts.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                let c = Self.result("row_counts.\(db)", kind: "core", .passed, "\(counts.count) table(s), \(total) rows: \(top)", seconds: (ContinuousClock.now - t0).inSeconds)
                results.withLock { $0[db] = (c, counts) }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                results.withLock { $0[db] = (Self.result("row_counts.\(db)", kind: "core", .failed, "\(error)", seconds: (ContinuousClock.now - t0).inSeconds), nil) }
            }
        }
        var tables: [String: Set<String>] = [:]
        for db in restored.databases {
            guard let (c, counts) = results.withLock({ $0[db] }) else { continue }
            if let counts {
                tables[db] = Set(counts.keys)
                state.withLock { s in
                    if let i = s.databases.firstIndex(where: { $0.name == db }) { s.databases[i].rowCounts = counts }
                }
            }
            commit(c)
        }
        return tables
    }

    /// `count(*)` of every ordinary and partitioned table (partitions are counted in their parent), in one
    /// statement: `query_to_xml` runs each count inside the server.
    func rowCounts(_ target: PostgresTarget) async throws -> [String: Int64] {
        let rows = try await target.query("""
            SELECT n.nspname || '.' || c.relname,
                   (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1
            """, client: client)
        var counts: [String: Int64] = [:]
        for row in rows where row.count == 2 {
            guard let n = Int64(row[1]) else { throw QueryError(database: target.database, message: "row count of \(row[0]): unexpected \(row[1])") }
            counts[row[0]] = n
        }
        return counts
    }

    /// Health of every service: running, its healthcheck healthy, and answering (Postgres: `SELECT 1` in
    /// every restored database, in one exec; Redis: `PING`).
    func healthChecks(_ restored: Restored, sandbox: Sandbox) async -> [DrillReport.Check] {
        var out: [DrillReport.Check] = []
        for service in sandbox.services {
            let t0 = ContinuousClock.now
            let (ok, evidence) = await health(service, databases: restored.databases, target: restored.target)
            out.append(Self.result("health.\(service.name)", kind: "core", ok ? .passed : .failed, evidence, seconds: (ContinuousClock.now - t0).inSeconds))
        }
        return out
    }

    func health(_ service: Sandbox.Service, databases: [String], target: PostgresTarget) async -> (Bool, String) {
        do {
            let inspect = try await client.inspectContainer(service.containerID)
            guard inspect.state.running else { return (false, "\(service.containerName) is not running (\(inspect.state.status))") }
            if let h = inspect.state.health?.status, h != "healthy" { return (false, "\(service.containerName): healthcheck \(h)") }
            switch service.role {
            case .postgres:
                let script = #"for db; do psql -X -q -At -d "$db" -c 'SELECT 1' >/dev/null || { echo "no answer from $db" >&2; exit 1; }; done"#
                let r = try await client.execCollect(service.containerID, ["sh", "-c", script, "sh"] + databases, env: target.env)
                guard r.exitCode == 0 else { return (false, "\(service.containerName): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))") }
                return (true, "\(service.containerName) running; SELECT 1 answered in \(databases.count) restored database(s)")
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

    /// The team's own checks, each under its statement timeout.
    func userChecks(_ restored: Restored, inSet: Set<String>) async throws -> [DrillReport.Check] {
        var out: [DrillReport.Check] = []
        for uc in options.userChecks {
            let t0 = ContinuousClock.now
            var target = restored.target
            target.database = uc.database
            target.sessionOptions = "-c statement_timeout=\(Int(uc.timeoutSeconds * 1000))"
            guard restored.databases.contains(uc.database) else {
                out.append(Self.result("user.\(uc.name)", kind: "user", .failed, "database \(uc.database) was not restored (in the set: \(inSet.sorted().joined(separator: ", ")))"))
                continue
            }
            do {
                let rows = try await target.query(uc.query, client: client)
                let text = rows.map { $0.joined(separator: "|") }.joined(separator: "\n")
                let (ok, evidence) = uc.judge(text)
                out.append(Self.result("user.\(uc.name)", kind: "user", ok ? .passed : .failed, evidence, seconds: (ContinuousClock.now - t0).inSeconds))
            } catch let e as QueryError where e.message.contains("statement timeout") {
                out.append(Self.result("user.\(uc.name)", kind: "user", .timedOut, "\(uc.database): over its \(Int(uc.timeoutSeconds)) s timeout", seconds: (ContinuousClock.now - t0).inSeconds))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                out.append(Self.result("user.\(uc.name)", kind: "user", .failed, "\(error)", seconds: (ContinuousClock.now - t0).inSeconds))
            }
        }
        return out
    }

    static func fix(for error: any Error, stage: String) -> String? {
        if let e = error as? DrillError, e.kind == .noBackupSet {
            return "check the backup job (acp-drill backup) and the repository's retention; a retention gap or a failed nightly leaves no set"
        }
        if let e = error as? DrillError, e.kind == .source { return "verify the repository location, endpoint, region and credentials" }
        if let e = error as? DrillError, e.kind == .unsafeManifest {
            return "acp-drill backup never writes such a manifest: treat the repository as tampered with, investigate who can write to it, and drill an older set with --backup TS"
        }
        if error is SandboxError { return "see acp-drill up --help; images come from scripts/build-images.sh" }
        return nil
    }
}
