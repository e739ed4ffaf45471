import AuditChain
import Testing

/// Three days of rows; days 1 and 2 sealed (day 1 by a key retired since, day 2 by its successor); day 3
/// is the unsealed tail.
struct Fixture {
    static let day0: Int64 = 1_778_889_600_000_000  // 2026-05-16T00:00:00Z
    static let dayMicros: Int64 = 86_400_000_000
    var rows: [AuditRow] = []
    var roots: [TransparencyRoot] = []
    var keys: [HistoricalKey] = []
    let oldKey = try! RootSigner(keyID: "root-2026-a", seed: [UInt8](repeating: 1, count: 32))
    let newKey = try! RootSigner(keyID: "root-2026-b", seed: [UInt8](repeating: 2, count: 32))

    init(rowsPerDay: Int = 9) {
        var builder = ChainBuilder()
        for d in 0 ..< 3 {
            for i in 0 ..< rowsPerDay {
                let t = Self.day0 + Int64(d) * Self.dayMicros + Int64(i) * 3_600_000_000 + 123
                rows.append(builder.append(
                    tenantID: "3f0e6a52-8a2b-4c1d-9e7f-00000000000\(i % 3)", occurredAt: t, actor: "user-\(i)",
                    action: i % 2 == 0 ? "tool.execute" : "policy.update", resource: "tool/\(i)",
                    payload: #"{"units": \#(i + 1), "note": "é"}"#))
            }
        }
        let rotation = Self.day0 + Self.dayMicros + 12 * 3_600_000_000  // day 2, noon
        keys = [
            HistoricalKey(keyID: oldKey.keyID, publicKey: oldKey.publicKey, validFrom: Self.day0 - Self.dayMicros, validTo: rotation),
            HistoricalKey(keyID: newKey.keyID, publicKey: newKey.publicKey, validFrom: rotation, validTo: nil),
        ]
        let (old, new) = (oldKey, newKey)
        roots = builder.roots(through: "2026-05-17") { day in
            // Day 1 was sealed by the old key at 00:05 the next day; day 2 by the new one.
            day == "2026-05-16" ? (old, Self.day0 + Self.dayMicros + 300_000_000) : (new, Self.day0 + 2 * Self.dayMicros + 300_000_000)
        }
    }

    func verify(rows: [AuditRow]? = nil, roots: [TransparencyRoot]? = nil, keys: [HistoricalKey]? = nil) -> ChainReport {
        var v = ChainVerifier(roots: roots ?? self.roots, keys: keys ?? self.keys)
        for r in rows ?? self.rows { v.add(r) }
        return v.finish()
    }
}

@Suite struct ChainVerifierTests {
    @Test("an intact chain passes: links, hashes, two roots by a retired and a current key, an unsealed tail")
    func intact() {
        let f = Fixture()
        let r = f.verify()
        #expect(r.passed, "\(r.failure?.message ?? "")")
        #expect(r.rows == 27 && r.days == 3 && r.rootsVerified == 2 && r.unsealedRows == 9)
        #expect(f.roots.map(\.keyID) == ["root-2026-a", "root-2026-b"])
    }

    @Test("an edited row is named by its id")
    func editedRow() {
        let f = Fixture()
        var rows = f.rows
        rows[12].payload = #"{"units": 999, "note": "é"}"#
        let r = f.verify(rows: rows)
        #expect(r.failure?.kind == .rowHash)
        #expect(r.failure?.id == 13)
        #expect(r.failure?.message.hasPrefix("id 13:") == true)
    }

    @Test("an edit with every later hash recomputed is caught by the day's signed root")
    func rewrittenChain() {
        let f = Fixture()
        var rows = f.rows
        rows[3].actor = "attacker"
        var prev = rows[2].rowHash
        for i in 3 ..< rows.count {
            rows[i].prevHash = prev
            rows[i].rowHash = ChainHash.rowHash(of: rows[i])
            prev = rows[i].rowHash
        }
        let r = f.verify(rows: rows)
        #expect(r.failure?.kind == .rootHash)
        #expect(r.failure?.day == "2026-05-16")
    }

    @Test("a deleted row in the middle is named", arguments: [5, 13, 20])
    func deletedRow(index: Int) {
        let f = Fixture()
        var rows = f.rows
        rows.remove(at: index)
        let r = f.verify(rows: rows)
        #expect(r.failure?.kind == .idGap)
        #expect(r.failure?.id == Int64(index + 1))
    }

    @Test("the last row of a sealed day deleted: the root's range no longer matches")
    func deletedLastOfDay() {
        let f = Fixture()
        var rows = f.rows
        // Drop day 2 entirely after its first row, and renumbering is impossible without breaking links:
        // drop the last row of the whole chain instead, inside a sealed-only chain.
        let sealedOnly = Array(rows.prefix(18))
        rows = Array(sealedOnly.dropLast())
        let r = f.verify(rows: rows)
        #expect(r.failure?.kind == .rootRange)
        #expect(r.failure?.day == "2026-05-17")
    }

    @Test("a root re-signed by a key that is not in the historical keys")
    func unknownKey() throws {
        let f = Fixture()
        let rogue = try RootSigner(keyID: "rogue", seed: [UInt8](repeating: 9, count: 32))
        var roots = f.roots
        roots[1].keyID = rogue.keyID
        roots[1].signature = try rogue.sign(roots[1].message)
        let r = f.verify(roots: roots)
        #expect(r.failure?.kind == .keyUnknown)
        #expect(r.failure?.day == "2026-05-17")
        #expect(r.failure?.message.contains("rogue") == true)
    }

    @Test("a signature by a key outside its validity, and a corrupted signature")
    func keyValidityAndSignature() throws {
        let f = Fixture()
        var late = f.roots
        late[1].keyID = f.oldKey.keyID  // the retired key signing after its rotation
        late[1].signature = try f.oldKey.sign(late[1].message)
        #expect(f.verify(roots: late).failure?.kind == .keyNotValid)
        var flipped = f.roots
        flipped[0].signature[5] ^= 0x01
        #expect(f.verify(roots: flipped).failure?.kind == .signature)
    }

    @Test("roots but no historical keys: the table was probably left out of the backup")
    func keysMissing() {
        let f = Fixture()
        let r = f.verify(keys: [])
        #expect(r.failure?.kind == .historicalKeysMissing)
        #expect(r.failure?.message.contains("probably left out of the backup") == true)
    }

    @Test("a missing root before a sealed day, and a root for a day with no rows")
    func coverage() {
        let f = Fixture()
        #expect(f.verify(roots: [f.roots[1]]).failure?.kind == .rootMissing)
        let r = f.verify(rows: Array(f.rows.prefix(9)), roots: f.roots)
        #expect(r.failure?.kind == .rootWithoutRows)
        #expect(r.failure?.day == "2026-05-17")
    }

    @Test("ids must start at 1; a broken link is named")
    func startAndLinks() {
        let f = Fixture()
        #expect(f.verify(rows: Array(f.rows.dropFirst())).failure?.id == 1)
        var rows = f.rows
        rows[7].prevHash[0] ^= 1
        let r = f.verify(rows: rows)
        #expect(r.failure?.kind == .brokenLink && r.failure?.id == 8)
    }

    @Test("restored roots compared with a snapshot or a customer archive")
    func compare() {
        let f = Fixture()
        #expect(ChainVerifier.compare(restored: f.roots, reference: f.roots, kind: .snapshotMismatch) == nil)
        var other = f.roots
        other[0].rootHash[0] ^= 1
        #expect(ChainVerifier.compare(restored: f.roots, reference: other, kind: .archivedRootMismatch)?.day == "2026-05-16")
        #expect(ChainVerifier.compare(restored: [f.roots[0]], reference: f.roots, kind: .snapshotMismatch)?.day == "2026-05-17")

        // What a customer archives carries no signature: compared without one, a correct set matches.
        let unsigned = f.roots.map { r -> TransparencyRoot in var r = r; r.signature = []; r.keyID = ""; r.signedAt = 0; return r }
        #expect(ChainVerifier.compare(restored: f.roots, reference: unsigned, kind: .archivedRootMismatch) == nil)
        // A reference that carries one still has it compared.
        var resigned = f.roots
        resigned[1].signature[0] ^= 1
        #expect(ChainVerifier.compare(restored: f.roots, reference: resigned, kind: .snapshotMismatch)?.message.contains("the signature differs") == true)
        // Every field that differs is named, restored first.
        var counted = unsigned
        counted[0].leafCount += 1
        counted[0].lastID += 1
        let m = ChainVerifier.compare(restored: f.roots, reference: counted, kind: .archivedRootMismatch)?.message ?? ""
        #expect(m.contains("last_id \(f.roots[0].lastID) vs \(f.roots[0].lastID + 1)") && m.contains("leaf_count \(f.roots[0].leafCount) vs \(f.roots[0].leafCount + 1)")
                && !m.contains("root_hash") && !m.contains("signature"), "\(m)")
    }

    @Test("verification speed (figure printed, not a limit)")
    func speed() {
        var builder = ChainBuilder()
        var rows: [AuditRow] = []
        for i in 0 ..< 20000 {
            rows.append(builder.append(tenantID: "3f0e6a52-8a2b-4c1d-9e7f-000000000001", occurredAt: Fixture.day0 + Int64(i) * 1_000_000,
                                       actor: "a", action: "tool.execute", resource: "r", payload: #"{"units": 1}"#))
        }
        let start = ContinuousClock.now
        var v = ChainVerifier(roots: [], keys: [])
        for r in rows { v.add(r) }
        #expect(v.finish().passed)
        let s = (ContinuousClock.now - start).components
        let seconds = Double(s.seconds) + Double(s.attoseconds) / 1e18
        print("verify-chain (debug build): \(Int(Double(rows.count) / seconds)) rows/s")
    }
}
