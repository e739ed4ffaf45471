
import Foundation

/// Audit ↔ usage parity (docs/DESIGN.md §8): every `tool.execute` audit row has exactly one usage event with
/// the same `audit_id`, tenant and units (`payload->>'units'`); no usage event lacks its audit row;
/// per-tenant counts and unit sums agree. Usage events are held as compact (id, tenant, units) records,
/// the audit rows stream past them in id order (a merge join); a failure lists the first offending ids.
///
/// Both sides are compared up to the audit dump's boundary, its last id: the two databases are dumped at
/// different moments, so usage events of audit rows written after acp_audit's dump are not a mismatch,
/// and audit rows replayed from receipts have no usage events (receipts do not carry them). Both are
/// counted in the evidence.
public enum Reconcile {
    public struct Result: Sendable {
        public var passed: Bool
        public var evidence: String
    }

    struct Event: Sendable {
        var auditID: Int64
        var tenant: Tenant
        var units: Int64?
        /// An audit row's `occurred_at`, microseconds since 1970 (nil on the usage side).
        var occurredAt: Int64? = nil
    }

    /// How long after an audit row its usage event may be written (the billing service's lag): audit rows
    /// written within this of acp_usage's snapshot may not be billed in it yet.
    static let billingLagMicros: Int64 = 5_000_000

    /// Both sides are read as binary COPY: the tenant as the uuid's 16 bytes, the units as text (parsed
    /// here as the integer they must be) and, on the audit side, from the payload as jsonb prints it.
    static let usageQuery = "SELECT audit_id::int8, tenant_id::uuid, units::text FROM public.usage_events ORDER BY audit_id"
    static func auditQuery(upTo boundary: Int64) -> String {
        "SELECT id::int8, tenant_id::uuid, occurred_at::timestamptz, action::text, payload::jsonb FROM public.audit_logs "
            + "WHERE action = 'tool.execute' AND id <= \(boundary) ORDER BY id"
    }

    static let billableAction = Array("tool.execute".utf8)
    static let unitsKey = Array("units".utf8)

    /// A usage event from a row of `usageQuery`.
    static func usageEvent(_ row: CopyBinaryReader.Row) -> Event? {
        guard row.count == 3, let id = row.integer(0), let tenant = row.field(1).flatMap(Tenant.init) else { return nil }
        return Event(auditID: id, tenant: tenant, units: row.field(2).flatMap { parseInt64($0) })
    }

    /// The audit side's event of one row, when it is billable (`tool.execute`): its units are the
    /// payload's top-level `units` (`payload->>'units'`), its time `occurred_at`. `id`, `tenant`,
    /// `occurredAt`, `action` and `payload` are columns of a binary COPY row (the payload as jsonb sends it).
    static func auditEvent(_ row: CopyBinaryReader.Row, id: Int, tenant: Int, occurredAt: Int, action: Int, payload: Int) -> Event? {
        guard let act = row.field(action), act.count == billableAction.count, billableAction.withUnsafeBytes({ memcmp($0.baseAddress!, act.baseAddress!, act.count) == 0 }),
              let auditID = row.integer(id),
              let t = row.field(tenant).flatMap(Tenant.init) else { return nil }
        var units: Int64?
        if var json = row.field(payload) {
            // jsonb's binary form is a version byte (1) followed by its text output.
            if json.first == 1 { json = UnsafeRawBufferPointer(rebasing: json.dropFirst()) }
            units = JSONTopLevel.value(unitsKey, in: json).flatMap { parseInt64($0) }
        }
        return Event(auditID: auditID, tenant: t, units: units, occurredAt: row.integer(occurredAt).map { $0 &+ ChainCheck.postgresEpochMicros })
    }

    /// - Parameter dumpBoundary: the audit dump's last id when rows were replayed after it (else the
    ///   table's last id is the boundary).
    /// - Parameter usageSnapshotAt: when acp_usage's dump was taken (its evidence's `snapshotAt`, micros):
    ///   audit rows written within `billingLagMicros` of it and not billed yet are counted, not failed.
    public static func run(audit: PostgresTarget, usage: PostgresTarget, dumpBoundary: Int64? = nil, usageSnapshotAt: Int64? = nil) async throws -> Result {
        let (merge0, last) = try await prepare(audit: audit, usage: usage, dumpBoundary: dumpBoundary, usageSnapshotAt: usageSnapshotAt)
        var merge = try await audit.copyOutBinary(auditQuery(upTo: merge0.boundary), into: merge0) { m, row in
            if let e = auditEvent(row, id: 0, tenant: 1, occurredAt: 2, action: 3, payload: 4) { m.audit(e) }
        }
        return merge.finish(replayed: Int(max(0, last - merge.boundary)))
    }

    /// The merge with its usage events loaded, and the audit table's last id: what the audit side is then
    /// streamed into (here, or in the chain's own pass, `AuditPass`).
    static func prepare(audit: PostgresTarget, usage: PostgresTarget, dumpBoundary: Int64?, usageSnapshotAt: Int64?) async throws -> (merge: Merge, lastID: Int64) {
        let last = try await lastID(audit)
        return (merge(try await usageEvents(usage), boundary: dumpBoundary ?? last, usageSnapshotAt: usageSnapshotAt), last)
    }

    /// The audit table's last id (0 when empty).
    static func lastID(_ audit: PostgresTarget) async throws -> Int64 {
        try await audit.query("SELECT coalesce(max(id), 0) FROM public.audit_logs").first?.first.flatMap { Int64($0) } ?? 0
    }

    /// Every usage event, in audit_id order, as compact records.
    static func usageEvents(_ usage: PostgresTarget) async throws -> [Event] {
        try await usage.copyOutBinary(usageQuery, into: [Event]()) { events, row in
            if let e = usageEvent(row) { events.append(e) }
        }
    }

    static func merge(_ usage: [Event], boundary: Int64, usageSnapshotAt: Int64?) -> Merge {
        var merge = Merge(usage: usage, boundary: boundary)
        merge.billedBefore = usageSnapshotAt.map { $0 - billingLagMicros }
        return merge
    }

    /// The merge join, in id order on both sides. The usage events are a slice of one array sorted by
    /// `audit_id` (as `usageQuery` orders them): a segment's merge, or the part up to the boundary, is a
    /// slice found by binary search, never a copy of 1.78M events; their per-tenant tallies are counted
    /// once, when the merge is finished or combined.
    struct Merge: Sendable {
        let usage: ArraySlice<Event>
        let boundary: Int64
        /// Usage events compared (`usage.count`, summed when segments are combined).
        var usageCount = 0
        /// Usage events of audit rows after the boundary (not compared).
        var beyond = 0
        var next: Int
        var auditRows = 0
        var matched = 0
        var missingUsage: [Int64] = []
        var orphanUsage: [Int64] = []
        var duplicateUsage: [Int64] = []
        var mismatched: [Int64] = []
        var perTenant: [Tenant: Tally] = [:]
        /// Whether the usage events' own tallies are in `perTenant` yet.
        private var usageTallied = false
        /// Audit rows written at or after this (acp_usage's snapshot less the billing lag) may lack their
        /// usage event: acp_usage was dumped before they were billed.
        var billedBefore: Int64?
        /// Such rows without a usage event (not compared).
        var unbilled = 0

        typealias Tally = (auditCount: Int, auditUnits: Int64, usageCount: Int, usageUnits: Int64)

        /// - Parameter all: the usage events in `audit_id` order.
        init(usage all: [Event], boundary: Int64 = .max) {
            let end = boundary == .max ? all.endIndex : Self.firstIndex(in: all[...], from: boundary + 1)
            self.init(slice: all[all.startIndex ..< end], boundary: boundary)
            beyond = all.count - usage.count
        }

        private init(slice: ArraySlice<Event>, boundary: Int64) {
            self.boundary = boundary
            usage = slice
            usageCount = slice.count
            next = slice.startIndex
        }

        /// The index of the first event whose audit id is `id` or more (binary search; `events` is in id order).
        static func firstIndex(in events: ArraySlice<Event>, from id: Int64) -> Int {
            var (lo, hi) = (events.startIndex, events.endIndex)
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if events[mid].auditID < id { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        mutating func audit(_ a: Event) {
            while next < usage.endIndex, usage[next].auditID < a.auditID { orphanUsage.append(usage[next].auditID); next += 1 }
            let billed = next < usage.endIndex && usage[next].auditID == a.auditID
            if !billed, let cutoff = billedBefore, let t = a.occurredAt, t >= cutoff {
                unbilled += 1
                return
            }
            auditRows += 1
            Self.add(&perTenant[a.tenant, default: (0, 0, 0, 0)], auditUnits: a.units ?? 0)
            guard billed else { missingUsage.append(a.auditID); return }
            let u = usage[next]
            next += 1
            if u.tenant != a.tenant || u.units != a.units || a.units == nil { mismatched.append(a.auditID) } else { matched += 1 }
            while next < usage.endIndex, usage[next].auditID == a.auditID { duplicateUsage.append(a.auditID); next += 1 }
        }

        /// One row into its tenant's tally: one lookup of the tenant a row (two per row cost a tenth of the
        /// merge at 1.78M events).
        private static func add(_ tally: inout Tally, auditUnits: Int64) {
            tally.auditCount += 1
            tally.auditUnits += auditUnits
        }

        private static func add(_ tally: inout Tally, usageUnits: Int64) {
            tally.usageCount += 1
            tally.usageUnits += usageUnits
        }

        /// The usage events' own counts and units, per tenant (once).
        private mutating func tallyUsage() {
            guard !usageTallied else { return }
            usageTallied = true
            for e in usage { Self.add(&perTenant[e.tenant, default: (0, 0, 0, 0)], usageUnits: e.units ?? 0) }
        }

        /// One merge per segment of the audit ids, each holding the usage events of its own ids (`starts`:
        /// each later segment's first id, ascending), to be fed concurrently and `combined` afterwards.
        func segments(startingAt starts: [Int64]) -> [Merge] {
            let cuts = [usage.startIndex] + starts.map { Self.firstIndex(in: usage, from: $0) } + [usage.endIndex]
            return (0 ..< cuts.count - 1).map { k in
                var m = Merge(slice: usage[cuts[k] ..< max(cuts[k], cuts[k + 1])], boundary: boundary)
                m.billedBefore = billedBefore
                m.beyond = k == 0 ? beyond : 0
                return m
            }
        }

        /// The segments' merges as one, each drained of its unmatched usage events and tallied first.
        static func combined(_ parts: [Merge]) -> Merge {
            var out = Merge(slice: [], boundary: parts.first?.boundary ?? .max)
            out.usageTallied = true
            for var p in parts {
                p.drain()
                p.tallyUsage()
                out.usageCount += p.usageCount
                out.beyond += p.beyond
                out.auditRows += p.auditRows
                out.matched += p.matched
                out.unbilled += p.unbilled
                out.missingUsage += p.missingUsage
                out.orphanUsage += p.orphanUsage
                out.duplicateUsage += p.duplicateUsage
                out.mismatched += p.mismatched
                for (t, v) in p.perTenant {
                    let o = out.perTenant[t, default: (0, 0, 0, 0)]
                    out.perTenant[t] = (o.auditCount + v.auditCount, o.auditUnits + v.auditUnits, o.usageCount + v.usageCount, o.usageUnits + v.usageUnits)
                }
            }
            return out
        }

        /// The usage events no audit row claimed are orphans.
        mutating func drain() {
            while next < usage.endIndex { orphanUsage.append(usage[next].auditID); next += 1 }
        }

        mutating func finish(replayed: Int = 0) -> Result {
            drain()
            tallyUsage()
            func first(_ ids: [Int64]) -> String { ids.prefix(5).map(String.init).joined(separator: ", ") + (ids.count > 5 ? ", …" : "") }
            var problems: [String] = []
            if !missingUsage.isEmpty { problems.append("\(missingUsage.count) tool.execute audit row(s) without a usage event (audit ids \(first(missingUsage)))") }
            if !orphanUsage.isEmpty { problems.append("\(orphanUsage.count) usage event(s) without a tool.execute audit row (audit_id \(first(orphanUsage)))") }
            if !duplicateUsage.isEmpty { problems.append("\(duplicateUsage.count) duplicate usage event(s) (audit_id \(first(duplicateUsage)))") }
            if !mismatched.isEmpty { problems.append("\(mismatched.count) usage event(s) whose tenant or units differ from the audit row (audit ids \(first(mismatched)))") }
            let tenantsOff = perTenant.filter { $0.value.auditCount != $0.value.usageCount || $0.value.auditUnits != $0.value.usageUnits }.keys.sorted()
            if !tenantsOff.isEmpty && problems.isEmpty { problems.append("per-tenant totals differ for \(tenantsOff.prefix(3).map(\.description).joined(separator: ", "))") }
            let units = perTenant.values.reduce(Int64(0)) { $0 + $1.auditUnits }
            var notes: [String] = []
            if boundary != .max { notes.append("compared up to the audit dump's last id \(boundary)") }
            if beyond > 0 { notes.append("\(beyond) usage event(s) of later audit rows not compared (acp_usage was dumped after acp_audit)") }
            if unbilled > 0 { notes.append("\(unbilled) tool.execute audit row(s) written within \(Reconcile.billingLagMicros / 1_000_000) s of acp_usage's snapshot, not billed in it yet, not compared") }
            if replayed > 0 { notes.append("\(replayed) audit row(s) replayed from receipts beyond the dump not compared (receipts carry no usage events)") }
            let note = notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")"
            if problems.isEmpty {
                return Result(passed: true, evidence: "\(auditRows) tool.execute audit rows ↔ \(usageCount) usage events, one to one; \(perTenant.count) tenant(s), counts and units (\(units)) agree" + note)
            }
            return Result(passed: false, evidence: problems.joined(separator: "; ") + note)
        }
    }
}
