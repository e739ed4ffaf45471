public import AuditChain
public import Foundation
public import Sandbox
import Synchronization

/// The audit service's behaviour in the production stand-in (docs/RECEIPTS.md): it keeps appending chained
/// audit rows at a steady rate, with a usage event for every billable one, and mirrors each row's receipt
/// right after the row commits.
///
/// Once a second it commits the rows of that second to `acp_audit` in one transaction, then hands their
/// receipts to `mirror` as one batch (`ReceiptKey`), then writes their usage events to `acp_usage`. A batch
/// the mirror refuses (S3 down) is kept and offered again, in order, before the next one: a receipt is
/// late, never skipped. The rows go through the backend's exec into `psql`, as the fixture is loaded.
public final class AuditWriter: Sendable {
    /// What the writer has done so far.
    public struct Progress: Sendable, Equatable {
        public var rowsWritten = 0
        public var receiptsMirrored = 0
        public var usageEvents = 0
        /// The id and time (UTC microseconds) of the newest row whose receipt is mirrored.
        public var lastMirroredID: Int64 = 0
        public var lastMirroredAt: Int64 = 0
        /// Batches the mirror has not taken yet.
        public var pendingBatches = 0
        public var mirrorErrors = 0
    }

    let sandbox: Sandbox
    let postgres: Sandbox.Service
    let password: String
    let rate: Int
    let mirror: @Sendable (ReceiptKey, Data) async throws -> Void
    let fixture: PlatformFixture
    let auditDatabase: String
    let usageDatabase: String
    private let stopping = Mutex(false)

    /// Asks the writer to stop after the tick in flight (its rows commit and their receipts are offered to
    /// the mirror): what `demo prod down` and SIGTERM do.
    public func stop() { stopping.withLock { $0 = true } }

    var stopRequested: Bool { stopping.withLock { $0 } || Task.isCancelled }

    /// - Parameters:
    ///   - rate: audit rows a second (1…10,000).
    ///   - mirror: stores one batch of receipts (`ReceiptKey.description` is its key; the data its lines).
    public init(sandbox: Sandbox, postgres: Sandbox.Service, password: String, rate: Int, fixture: PlatformFixture = PlatformFixture(),
                auditDatabase: String = "acp_audit", usageDatabase: String = "acp_usage",
                mirror: @escaping @Sendable (ReceiptKey, Data) async throws -> Void) {
        self.sandbox = sandbox
        self.postgres = postgres
        self.password = password
        self.rate = min(10_000, max(1, rate))
        self.mirror = mirror
        self.fixture = fixture
        self.auditDatabase = auditDatabase
        self.usageDatabase = usageDatabase
    }

    var env: [String] { ["PGPASSWORD=\(password)", "PGUSER=postgres", "PGHOST=127.0.0.1"] }

    /// Runs until `stop()` (or cancellation), reporting after every tick. Throws psql's own error when a
    /// write fails.
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Progress {
        let tail = try await query(auditDatabase, "SELECT id, encode(row_hash, 'hex') FROM public.audit_logs ORDER BY id DESC LIMIT 1").first
        let lastID = tail.flatMap { Int64($0[0]) } ?? 0
        var chain = ChainBuilder(after: lastID, hash: tail.flatMap { ChainHash.bytes(hex: $0[1]) } ?? ChainHash.genesis)
        var usageID = try await query(usageDatabase, "SELECT coalesce(max(id), 0) FROM public.usage_events").first.flatMap { Int64($0[0]) } ?? 0
        var state = Progress()
        var pending: [(ReceiptKey, Data, AuditRow)] = []
        var tick = 0
        let clock = ContinuousClock()
        var next = clock.now
        while !stopRequested {
            next += .seconds(1)
            // The rows of this second: times spread over it, in order.
            let start = Int64(Date().timeIntervalSince1970 * 1_000_000)
            var rows: [AuditRow] = []
            var usage: [String] = []
            for k in 0 ..< rate {
                let i = tick * rate + k
                let r = fixture.rng(61, i)
                let tenant = fixture.tenantID(Int(r % UInt64(fixture.tenantCount)))
                let at = start + Int64(k) * (1_000_000 / Int64(rate))
                let billable = r % 10 < 7
                let tool = PlatformFixture.tools[Int((r >> 8) % UInt64(PlatformFixture.tools.count))]
                let units = Int(1 + (r >> 16) % 20)
                let payload = billable ? #"{"tool": "\#(tool)", "units": \#(units), "latency_ms": \#(20 + (r >> 24) % 900)}"#
                    : #"{"path": "/v1/route\#(r % 12 + 1)", "status": 200}"#
                let row = chain.append(tenantID: tenant, occurredAt: at, actor: "user\((r >> 32) % 40 + 1)",
                                       action: billable ? "tool.execute" : PlatformFixture.otherActions[Int((r >> 40) % 5)],
                                       resource: billable ? "tool/\(tool)" : "api", payload: payload)
                rows.append(row)
                if billable {
                    usageID += 1
                    usage.append([String(usageID), String(row.id), tenant, UTCTime.canonical(micros: at), tool, String(units)].joined(separator: "\t"))
                }
            }
            tick += 1
            try await copy(auditDatabase, "public.audit_logs (\(AuditRow.copyColumns))", rows.map(\.copyLine))
            state.rowsWritten += rows.count
            // The rows are committed: their receipts go to the mirror, after any batch still waiting.
            pending.append((ReceiptKey(batch: rows), Data(rows.map { Receipt(row: $0).line() }.joined().utf8), rows[rows.count - 1]))
            while let (key, data, last) = pending.first {
                do { try await mirror(key, data) } catch {
                    state.mirrorErrors += 1
                    break
                }
                pending.removeFirst()
                state.receiptsMirrored += Int(key.lastID - key.firstID + 1)
                state.lastMirroredID = last.id
                state.lastMirroredAt = last.occurredAt
            }
            state.pendingBatches = pending.count
            if !usage.isEmpty {
                try await copy(usageDatabase, "public.usage_events (id, audit_id, tenant_id, occurred_at, tool, units)", usage)
                state.usageEvents += usage.count
            }
            progress(state)
            let now = clock.now
            if next <= now { next = now }
            while clock.now < next, !stopRequested { try? await Task.sleep(for: min(.milliseconds(100), next - clock.now)) }
        }
        return state
    }

    func query(_ db: String, _ sql: String) async throws -> [[String]] {
        let r = try await sandbox.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-d", db, "-c", sql], in: postgres, env: env)
        guard r.exitCode == 0 else { throw FixtureError(message: "the audit writer: \(db): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))") }
        return r.stdoutText.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// One transaction: `COPY table FROM STDIN` with `lines`.
    func copy(_ db: String, _ table: String, _ lines: [String]) async throws {
        let script = "BEGIN;\nCOPY \(table) FROM STDIN;\n" + lines.joined(separator: "\n") + "\n\\.\nCOMMIT;\n"
        let r = try await sandbox.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db], in: postgres, env: env, stdin: SQLStream([.text(script)]))
        guard r.exitCode == 0 else { throw FixtureError(message: "the audit writer: \(db): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }
}
