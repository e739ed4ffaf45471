
import Foundation
import Synchronization

/// Audit ↔ usage parity (docs/DESIGN.md §8): every `tool.execute` audit row has exactly one usage event with
/// the same `audit_id`, tenant and units (`payload->>'units'`); no usage event lacks its audit row;
/// per-tenant counts and unit sums agree. Usage events are held as compact (id, tenant, units) records,
/// the audit rows stream past them in id order (a merge join); a failure lists the first offending ids.
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
    static let auditQuery = "SELECT id, tenant_id, coalesce(payload->>'units', '') FROM audit_logs WHERE action = 'tool.execute' ORDER BY id"

    static func parse(_ line: [UInt8]) -> Event? {
        let f = line.split(separator: 9, omittingEmptySubsequences: false)
        guard f.count == 3, let id = parseInt64(f[0]) else { return nil }
        return Event(auditID: id, tenant: String(decoding: f[1], as: UTF8.self), units: parseInt64(f[2]))
    }

    public static func run(audit: PostgresTarget, usage: PostgresTarget) async throws -> Result {
        let events = Mutex<[Event]>([])
        try await usage.copyOut(usageQuery) { line in
            if let e = parse(line) { events.withLock { $0.append(e) } }
        }
        let merge = Mutex(Merge(usage: events.withLock { $0 }))
        try await audit.copyOut(auditQuery) { line in
            if let e = parse(line) { merge.withLock { $0.audit(e) } }
        }
        return merge.withLock { $0.finish() }
    }

    /// The merge join, in id order on both sides.
    struct Merge: Sendable {
        let usage: [Event]
        var next = 0
        var auditRows = 0
        var matched = 0
        var missingUsage: [Int64] = []
        var orphanUsage: [Int64] = []
        var duplicateUsage: [Int64] = []
        var mismatched: [Int64] = []
        var perTenant: [String: (auditCount: Int, auditUnits: Int64, usageCount: Int, usageUnits: Int64)] = [:]

        init(usage: [Event]) {
            self.usage = usage
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

        mutating func finish() -> Result {
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
            if problems.isEmpty {
                return Result(passed: true, evidence: "\(auditRows) tool.execute audit rows ↔ \(usage.count) usage events, one to one; \(perTenant.count) tenant(s), counts and units (\(units)) agree")
            }
            return Result(passed: false, evidence: problems.joined(separator: "; "))
        }
    }
}
