import Foundation
import Common
import Testing
@testable import Drill

@Suite struct CopyBinaryReaderTests {
    /// Encodes tuples the way PostgreSQL's binary COPY does (nil = NULL).
    static func encode(_ rows: [[[UInt8]?]]) -> [UInt8] {
        var out = CopyBinaryReader.signature + [0, 0, 0, 0, 0, 0, 0, 4, 9, 9, 9, 9]  // flags, a 4-byte header extension
        func be32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        for row in rows {
            out += withUnsafeBytes(of: Int16(row.count).bigEndian) { Array($0) }
            for f in row { if let f { out += be32(Int32(f.count)) + f } else { out += be32(-1) } }
        }
        return out + [0xff, 0xff]
    }

    @Test(arguments: [1, 2, 3, 7, 19, 64, 4096])
    func anyChunkingGivesTheSameRows(chunk: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let rows: [[[UInt8]?]] = (0 ..< 200).map { i in
            [withUnsafeBytes(of: Int64(i).bigEndian) { Array($0) }, i % 7 == 0 ? nil : (0 ..< Int.random(in: 0 ... 300, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }, []]
        }
        let bytes = Self.encode(rows)
        var reader = CopyBinaryReader()
        var seen: [[[UInt8]?]] = []
        var ids: [Int64] = []
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try bytes[start ..< min(start + chunk, bytes.count)].withUnsafeBytes { raw in
                try reader.feed(raw) { row in
                    seen.append((0 ..< row.count).map { row.field($0).map(Array.init) })
                    ids.append(row.integer(0) ?? -1)
                }
            }
        }
        try reader.finish()
        #expect(seen == rows)
        #expect(ids == (0 ..< 200).map(Int64.init))
    }

    @Test func truncatedStreamsAndForeignBytesAreErrors() throws {
        let bytes = Self.encode([[[1, 2, 3]]])
        var reader = CopyBinaryReader()
        try bytes.dropLast(3).withUnsafeBytes { raw in try reader.feed(raw) { _ in } }
        #expect(throws: CopyBinaryReader.FormatError.self) { try reader.finish() }
        var text = CopyBinaryReader()
        #expect(throws: CopyBinaryReader.FormatError.self) { try Array("1\tabc\n0123456789abcdefghij".utf8).withUnsafeBytes { raw in try text.feed(raw) { _ in } } }
    }
}

@Suite struct DrillConfigTests {
    @Test(arguments: [("90s", 90.0), ("1.5m", 90.0), ("2h", 7200.0), ("500ms", 0.5), ("1d", 86400.0), ("42", 42.0)])
    func durations(text: String, seconds: Double) { #expect(DurationText.seconds(text) == seconds) }

    @Test(arguments: ["", "m", "-5s", "abc", "5x"])
    func badDurations(text: String) { #expect(DurationText.seconds(text) == nil) }

    @Test func budgetsApplyByName() throws {
        let b = try DrillBudgets().applying("restore=20m, total=1h")
        #expect(b.restorePerDatabase == 1200 && b.total == 3600 && b.download == 60)
        #expect(throws: DrillError.self) { try DrillBudgets().applying("restor=1m") }
        #expect(throws: DrillError.self) { try DrillBudgets().applying("total") }
    }

    @Test func userChecksParseAndJudge() throws {
        let checks = try UserCheck.parse(yaml: """
            checks:
              - name: zero orphans
                database: app
                query: SELECT 0
                expect: 0
              - name: some rows
                database: app
                query: SELECT count(*) FROM t
                expect_min: 10
                expect_max: 20
                timeout: 5s
            """)
        #expect(checks.count == 2 && checks[1].timeoutSeconds == 5)
        #expect(checks[0].judge("0\n").passed && !checks[0].judge("1").passed)
        #expect(checks[1].judge("15").passed && !checks[1].judge("21").passed && !checks[1].judge("x").passed)
        for bad in ["checks: 1", "checks: [{name: a, database: d}]", "checks: [{name: a, database: d, query: q}]",
                    "checks: [{name: a, database: d, query: q, expect: 1, expect_min: 2}]", "checks: [{name: a, database: d, query: q, expect: 1, colour: red}]"] {
            #expect(throws: DrillError.self, "\(bad)") { try UserCheck.parse(yaml: bad) }
        }
    }

    @Test func rootsFileReadsTheSnapshotFormatAndArrays() throws {
        let line = #"{"day":"2026-05-10","first_id":1,"last_id":1800,"leaf_count":1800,"root_hash":"00ff","key_id":"k1","signature":"abcd","signed_at":"2026-05-10T23:59:59.5+00:00"}"#
        let roots = try RootsFile.parse(Data((line + "\n" + line.replacingOccurrences(of: "05-10", with: "05-11") + "\n").utf8), source: "s")
        #expect(roots.count == 2 && roots[0].rootHash == [0, 255] && roots[1].day == "2026-05-11" && roots[0].signedAt > 0)
        #expect(try RootsFile.parse(Data("[\(line)]".utf8), source: "a").count == 1)
        #expect(throws: DrillError.self) { try RootsFile.parse(Data("{\"day\":1}".utf8), source: "x") }
    }

    @Test func reconcileMergeNamesTheOffendingIds() {
        let (t1, t2) = (Reconcile.Tenant(high: 1, low: 1), Reconcile.Tenant(high: 2, low: 2))
        func e(_ id: Int64, _ t: Reconcile.Tenant? = nil, _ u: Int64? = 5) -> Reconcile.Event { .init(auditID: id, tenant: t ?? t1, units: u) }
        var ok = Reconcile.Merge(usage: [e(1), e(3), e(4, t2, 7)])
        for a in [e(1), e(3), e(4, t2, 7)] { ok.audit(a) }
        #expect(ok.finish().passed)
        var bad = Reconcile.Merge(usage: [e(1), e(2), e(2), e(5, t1, 9), e(9)])
        for a in [e(1), e(2), e(4), e(5)] { bad.audit(a) }
        let r = bad.finish()
        #expect(!r.passed)
        #expect(r.evidence.contains("audit ids 4") && r.evidence.contains("audit_id 9") && r.evidence.contains("duplicate usage event(s) (audit_id 2)") && r.evidence.contains("audit ids 5"))
    }

    @Test("reconcile across dumps taken at different moments: audit rows written within the billing lag of acp_usage's snapshot may be unbilled; older ones may not; units and tenants still compare")
    func reconcileBillingLag() {
        let (t1, t2) = (Reconcile.Tenant(high: 1, low: 1), Reconcile.Tenant(high: 2, low: 2))
        func a(_ id: Int64, at: Int64, _ t: Reconcile.Tenant? = nil) -> Reconcile.Event { .init(auditID: id, tenant: t ?? t1, units: 5, occurredAt: at) }
        func u(_ id: Int64, _ t: Reconcile.Tenant? = nil) -> Reconcile.Event { .init(auditID: id, tenant: t ?? t1, units: 5) }
        let snapshot: Int64 = 100_000_000
        var late = Reconcile.Merge(usage: [u(1), u(2)])
        late.billedBefore = snapshot - Reconcile.billingLagMicros
        for e in [a(1, at: 90_000_000), a(2, at: 96_000_000), a(3, at: 97_000_000), a(4, at: 99_000_000)] { late.audit(e) }
        let r = late.finish()
        #expect(r.passed && r.evidence.contains("2 tool.execute audit row(s) written within 5 s of acp_usage's snapshot"), "\(r.evidence)")
        var lost = Reconcile.Merge(usage: [u(2)])
        lost.billedBefore = snapshot - Reconcile.billingLagMicros
        for e in [a(1, at: 90_000_000), a(2, at: 96_000_000)] { lost.audit(e) }
        #expect(!lost.finish().passed, "a row older than the lag still needs its usage event")
        var wrong = Reconcile.Merge(usage: [u(1, t2)])
        wrong.billedBefore = snapshot - Reconcile.billingLagMicros
        wrong.audit(a(1, at: 99_000_000))
        #expect(!wrong.finish().passed, "a billed row within the lag is still compared")
    }

    @Test("reconcile's merge cut into segments at any ids, fed apart and combined, finds what one merge finds: 300 random cases with orphans, duplicates, missing and wrong events, and a boundary")
    func reconcileSegmentsCombine() {
        var rng = SplitMix64(seed: 11)
        let tenants = (0 ..< 4).map { Reconcile.Tenant(high: UInt64($0), low: 9) }
        for _ in 0 ..< 300 {
            let n = Int64(rng.next() % 60) + 1
            var usage: [Reconcile.Event] = [], audit: [Reconcile.Event] = []
            for id in 1 ... n {
                let t = tenants[Int(rng.next() % 4)], units = Int64(rng.next() % 9)
                switch rng.next() % 10 {
                case 0: audit.append(.init(auditID: id, tenant: t, units: units))                     // no usage event
                case 1: usage.append(.init(auditID: id, tenant: t, units: units))                     // no audit row
                case 2: audit.append(.init(auditID: id, tenant: t, units: units)); usage += [.init(auditID: id, tenant: t, units: units), .init(auditID: id, tenant: t, units: units)]
                case 3: audit.append(.init(auditID: id, tenant: t, units: units)); usage.append(.init(auditID: id, tenant: t, units: units + 1))
                default: audit.append(.init(auditID: id, tenant: t, units: units)); usage.append(.init(auditID: id, tenant: t, units: units))
                }
            }
            let boundary = rng.next() % 3 == 0 ? Int64(rng.next() % UInt64(n)) + 1 : Int64.max
            var whole = Reconcile.Merge(usage: usage, boundary: boundary)
            for a in audit where a.auditID <= boundary { whole.audit(a) }
            let starts = Array(Set((0 ..< rng.next() % 4).map { _ in Int64(rng.next() % UInt64(n + 2)) + 1 })).sorted()
            var parts = Reconcile.Merge(usage: usage, boundary: boundary).segments(startingAt: starts)
            let bounds = [Int64.min] + starts + [Int64.max]
            for a in audit where a.auditID <= boundary {
                let k = (0 ..< parts.count).first { a.auditID >= bounds[$0] && a.auditID < bounds[$0 + 1] }!
                parts[k].audit(a)
            }
            var combined = Reconcile.Merge.combined(parts)
            let (w, c) = (whole.finish(), combined.finish())
            #expect(w.passed == c.passed && w.evidence == c.evidence, "starts \(starts), boundary \(boundary):\n\(w.evidence)\n\(c.evidence)")
            #expect(whole.usageCount + whole.beyond == usage.count)
        }
    }

    @Test("a tenant uuid prints as PostgreSQL prints it and orders as its text does")
    func reconcileTenant() {
        let bytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
        let t = bytes.withUnsafeBytes { Reconcile.Tenant($0) }
        #expect(t?.description == "12345678-9abc-def0-0001-020304050607")
        #expect([UInt8](repeating: 0, count: 15).withUnsafeBytes { Reconcile.Tenant($0) } == nil)
        var generator = SplitMix64(seed: 7)
        let tenants = (0 ..< 200).map { _ in Reconcile.Tenant(high: generator.next(), low: generator.next()) }
        #expect(tenants.sorted().map(\.description) == tenants.map(\.description).sorted())
    }

    @Test("a payload's units as payload->>'units' gives them", arguments: [
        (#"{"units": 5}"#, "5"), (#"{"tool": "x", "units": 42}"#, "42"), (#"{"units": "7"}"#, "7"), (#"{"units": -3}"#, "-3"),
        (#"{"units": null}"#, nil), (#"{"unit": 5}"#, nil), (#"{"a": {"units": 3}}"#, nil), (#"{"a": [{"units": 3}], "units": 9}"#, "9"),
        (#"{"x": "a\"units\": 4", "units": 2}"#, "2"), (#"{"x": "}{][", "units": 1.5}"#, "1.5"), (#"{"units": "\u0034\u0032"}"#, "42"),
        (#"{"units": "a\nb"}"#, "a\nb"), (#"{"units": true}"#, "true"), (#"[{"units": 1}]"#, nil), ("", nil), (#"{"units" 5}"#, nil),
    ] as [(String, String?)])
    func payloadUnits(_ json: String, _ expected: String?) {
        let got = Array(json.utf8).withUnsafeBytes { JSONTopLevel.value(Array("units".utf8), in: $0) }
        #expect(got.map { String(decoding: $0, as: UTF8.self) } == expected, "\(json)")
    }

    @Test func reportOutputsEscapeAndSummarise() throws {
        let check = DrillReport.Check(name: "user.<x>", kind: .user, status: .failed, evidence: "a \"b\" & c", fix: "do | this", seconds: 1)
        let report = DrillReport(
            id: "20261127T000000Z", verdict: .failed, budgetExceeded: false, firstFailure: "user.<x>: a", rowsVerified: 7, chainRowsVerified: nil,
            recoveryTimeSeconds: nil, durationSeconds: 75, startedAt: "2026-11-27T00:00:00Z", finishedAt: "2026-11-27T00:01:15Z", operator: "ci|bot", host: "h",
            set: nil, budgets: DrillBudgets(), stages: [.init(name: "checks", offsetSeconds: 1, seconds: 200, budgetSeconds: 180, overBudget: true, status: .done, detail: nil)],
            checks: [check], databases: [.init(name: "app", dumpBytes: 1, plaintextBytes: nil, jobs: 1, restoreSeconds: 1, restored: true, rowCounts: ["public.t": 7])],
            versions: .init(tool: "0.1.0", pgRestore: "x"), sandbox: nil)
        #expect(report.runbookRow == "| 2026-11-27 | ci\\|bot | — | 1m 15s | rows=7 tables=1 | FAIL |")
        #expect(report.junit.contains("name=\"user.&lt;x&gt;\"") && report.junit.contains("a &quot;b&quot; &amp; c") && report.junit.contains("failures=\"2\""))
        #expect(report.prometheus.contains("acp_drill_success 0") && report.prometheus.contains("acp_drill_verdict{verdict=\"FAILED\"} 1"))
        #expect(report.lastLine == "Restore drill FAILED — user.<x>: a")
        #expect(DrillReport.humanDuration(480) == "8m" && DrillReport.humanDuration(42) == "42s")
    }
}
