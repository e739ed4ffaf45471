import Common
import Foundation
import Yams

/// A check of the team's own, from the drill config (`--checks FILE`): a query run in a restored
/// database and the result it must give. The result is compared as text: rows joined by newlines,
/// columns by `|` (psql's unaligned output), surrounding whitespace trimmed.
///
/// ```yaml
/// checks:
///   - name: every tenant has settings
///     database: acp_tenants
///     query: SELECT count(*) FROM tenants t LEFT JOIN tenant_settings s ON s.tenant_id = t.id WHERE s.tenant_id IS NULL
///     expect: "0"
///   - name: invoices were restored
///     database: acp_billing
///     query: SELECT count(*) FROM invoices
///     expect_min: 1          # numeric bounds on a single value (expect_max too)
///     timeout: 30s           # statement_timeout; a check over it is timed_out (default 60s)
/// ```
public struct UserCheck: Sendable, Equatable {
    public enum Expectation: Sendable, Equatable {
        case equals(String)
        case range(min: Double?, max: Double?)
    }

    public var name: String
    public var database: String
    public var query: String
    public var expectation: Expectation
    public var timeoutSeconds: Double

    public init(name: String, database: String, query: String, expectation: Expectation, timeoutSeconds: Double = 60) {
        self.name = name
        self.database = database
        self.query = query
        self.expectation = expectation
        self.timeoutSeconds = timeoutSeconds
    }

    /// The SQL checks of a drill config (`ChecksFile.parse` reads its jobs too).
    public static func parse(yaml text: String, file: String = "checks") throws(DrillError) -> [UserCheck] {
        try ChecksFile.parse(yaml: text, file: file).sql
    }

    static let keys: Set<String> = ["name", "database", "query", "expect", "expect_min", "expect_max", "timeout"]

    /// One `checks:` entry with a `query`; every problem names the check and the key.
    static func parse(_ c: [String: Any], name: String, at: String) throws(DrillError) -> UserCheck {
        if let unknown = c.keys.sorted().first(where: { !keys.contains($0) }) {
            throw DrillError(.configuration, "\(at): unknown key `\(unknown)` (known: \(keys.sorted().joined(separator: ", ")))")
        }
        guard let database = c["database"] as? String, !database.isEmpty else { throw DrillError(.configuration, "\(at) (\(name)): `database` is required") }
        guard let query = c["query"] as? String, !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DrillError(.configuration, "\(at) (\(name)): `query` is required")
        }
        func number(_ key: String) throws(DrillError) -> Double? {
            guard let v = c[key] else { return nil }
            if let d = v as? Double { return d }
            if let n = v as? Int { return Double(n) }
            if let s = v as? String, let d = Double(s) { return d }
            throw DrillError(.configuration, "\(at) (\(name)): `\(key)` must be a number")
        }
        let expectation: Expectation
        if let e = c["expect"] {
            guard c["expect_min"] == nil, c["expect_max"] == nil else {
                throw DrillError(.configuration, "\(at) (\(name)): give `expect` or `expect_min`/`expect_max`, not both")
            }
            expectation = .equals("\(e)".trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            let lo = try number("expect_min"), hi = try number("expect_max")
            guard lo != nil || hi != nil else { throw DrillError(.configuration, "\(at) (\(name)): one of `expect`, `expect_min`, `expect_max` is required") }
            expectation = .range(min: lo, max: hi)
        }
        var timeout = 60.0
        if let t = c["timeout"] {
            guard let s = DurationText.positiveSeconds("\(t)") else { throw DrillError(.configuration, "\(at) (\(name)): `timeout` must be a duration like 30s") }
            timeout = s
        }
        return UserCheck(name: name, database: database, query: query, expectation: expectation, timeoutSeconds: timeout)
    }

    /// Whether `result` (rows joined by newlines, columns by `|`) meets the expectation; the evidence says why.
    public func judge(_ result: String) -> (passed: Bool, evidence: String) {
        let got = result.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = got.count > 200 ? String(got.prefix(200)) + "…" : got
        switch expectation {
        case .equals(let want):
            return got == want ? (true, "\(database): returned \(shown.debugDescription) as expected")
                : (false, "\(database): returned \(shown.debugDescription), expected \(want.debugDescription)")
        case .range(let lo, let hi):
            let bounds = [lo.map { "≥ \($0.clean)" }, hi.map { "≤ \($0.clean)" }].compactMap { $0 }.joined(separator: " and ")
            guard let v = Double(got) else { return (false, "\(database): returned \(shown.debugDescription), expected a single number \(bounds)") }
            let ok = (lo.map { v >= $0 } ?? true) && (hi.map { v <= $0 } ?? true)
            return (ok, "\(database): returned \(v.clean), expected \(bounds)")
        }
    }
}

extension Double {
    var clean: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
