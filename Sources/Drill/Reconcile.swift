
import Foundation
import Synchronization

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
        var tenant: String
        var units: Int64?
    }

    static let usageQuery = "SELECT audit_id, tenant_id, units FROM usage_events ORDER BY audit_id"
    static func auditQuery(upTo boundary: Int64) -> String {
        "SELECT id, tenant_id, coalesce(payload->>'units', '') FROM audit_logs WHERE action = 'tool.execute' AND id <= \(boundary) ORDER BY id"
    }

    static func parse(_ line: [UInt8]) -> Event? {
        let f = line.split(separator: 9, omittingEmptySubsequences: false)
        guard f.count == 3, let id = parseInt64(f[0]) else { return nil }
        return Event(auditID: id, tenant: String(decoding: f[1], as: UTF8.self), units: parseInt64(f[2]))
    }

    /// - Parameter dumpBoundary: the audit dump's last id when rows were replayed after it (else the
    ///   table's last id is the boundary).
    public static func run(audit: PostgresTarget, usage: PostgresTarget, dumpBoundary: Int64? = nil) async throws -> Result {
        let last = try await audit.query("SELECT coalesce(max(id), 0) FROM audit_logs").first?.first.flatMap { Int64($0) } ?? 0
        let boundary = dumpBoundary ?? last
        let events = Mutex<[Event]>([])
        try await usage.copyOut(usageQuery) { line in
            if let e = parse(line) { events.withLock { $0.append(e) } }
        }
        let merge = Mutex(Merge(usage: events.withLock { $0 }, boundary: boundary))
        try await audit.copyOut(auditQuery(upTo: boundary)) { line in
            if let e = parse(line) { merge.withLock { $0.audit(e) } }
        }
        return merge.withLock { $0.finish(replayed: Int(max(0, last - boundary))) }
    }

    /// The merge join, in id order on both sides.
    struct Merge: Sendable {
        let usage: [Event]
        let boundary: Int64
        /// Usage events of audit rows after the boundary (not compared).
        var beyond = 0
        var next = 0
        var auditRows = 0
        var matched = 0
        var missingUsage: [Int64] = []
        var orphanUsage: [Int64] = []
        var duplicateUsage: [Int64] = []
        var mismatched: [Int64] = []
        var perTenant: [String: (auditCount: Int, auditUnits: Int64, usageCount: Int, usageUnits: Int64)] = [:]

        init(usage all: [Event], boundary: Int64 = .max) {
            self.boundary = boundary
            usage = all.filter { $0.auditID <= boundary }
            beyond = all.count - usage.count
            for e in usage { perTenant[e.tenant, default: (0, 0, 0, 0)].usageCount += 1; perTenant[e.tenant, default: (0, 0, 0, 0)].usageUnits += e.units ?? 0 }
        }

        mutating func audit(_ a: Event) {
            auditRows += 1
            perTenant[a.tenant, default: (0, 0, 0, 0)].auditCount += 1
            perTenant[a.tenant, default: (0, 0, 0, 0)].auditUnits += a.units ?? 0
            while next < usage.count, usage[next].auditID < a.auditID { orphanUsage.append(usage[next].auditID); next += 1 }
            guard next < usage.count, usage[next].auditID == a.auditID else { missingUsage.append(a.auditID); return }
            let u = usage[next]
            next += 1
            if u.tenant != a.tenant || u.units != a.units || a.units == nil { mismatched.append(a.auditID) } else { matched += 1 }
            while next < usage.count, usage[next].auditID == a.auditID { duplicateUsage.append(a.auditID); next += 1 }
        }

        mutating func finish(replayed: Int = 0) -> Result {
            while next < usage.count { orphanUsage.append(usage[next].auditID); next += 1 }
            func first(_ ids: [Int64]) -> String { ids.prefix(5).map(String.init).joined(separator: ", ") + (ids.count > 5 ? ", …" : "") }
            var problems: [String] = []
            if !missingUsage.isEmpty { problems.append("\(missingUsage.count) tool.execute audit row(s) without a usage event (audit ids \(first(missingUsage)))") }
            if !orphanUsage.isEmpty { problems.append("\(orphanUsage.count) usage event(s) without a tool.execute audit row (audit_id \(first(orphanUsage)))") }
            if !duplicateUsage.isEmpty { problems.append("\(duplicateUsage.count) duplicate usage event(s) (audit_id \(first(duplicateUsage)))") }
            if !mismatched.isEmpty { problems.append("\(mismatched.count) usage event(s) whose tenant or units differ from the audit row (audit ids \(first(mismatched)))") }
            let tenantsOff = perTenant.filter { $0.value.auditCount != $0.value.usageCount || $0.value.auditUnits != $0.value.usageUnits }.keys.sorted()
            if !tenantsOff.isEmpty && problems.isEmpty { problems.append("per-tenant totals differ for \(tenantsOff.prefix(3).joined(separator: ", "))") }
            let units = perTenant.values.reduce(Int64(0)) { $0 + $1.auditUnits }
            var notes: [String] = []
            if boundary != .max { notes.append("compared up to the audit dump's last id \(boundary)") }
            if beyond > 0 { notes.append("\(beyond) usage event(s) of later audit rows not compared (acp_usage was dumped after acp_audit)") }
            if replayed > 0 { notes.append("\(replayed) audit row(s) replayed from receipts beyond the dump not compared (receipts carry no usage events)") }
            let note = notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")"
            if problems.isEmpty {
                return Result(passed: true, evidence: "\(auditRows) tool.execute audit rows ↔ \(usage.count) usage events, one to one; \(perTenant.count) tenant(s), counts and units (\(units)) agree" + note)
            }
            return Result(passed: false, evidence: problems.joined(separator: "; ") + note)
        }
    }
}
