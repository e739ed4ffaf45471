import AuditChain
import Testing

/// The chain read in segments (one reader per id range, `ChainVerifier.join`) must report exactly what
/// one reader does: the same first failure, counts, days and roots, for intact and tampered chains alike.
@Suite struct ChainSegmentsTests {
    /// A small deterministic generator (the test target depends on AuditChain alone).
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    /// One tampering an insider or a bucket writer could do, or none.
    static func tamper(_ rows: inout [AuditRow], _ g: inout Generator) {
        let i = g.next(rows.count)
        switch g.next(7) {
        case 0: break
        case 1: rows[i].payload = #"{"units": 999}"#
        case 2: rows.remove(at: i)
        case 3: rows[i].prevHash = [UInt8](repeating: 7, count: 32)
        case 4: rows[i].occurredAt -= Fixture.dayMicros
        case 5: rows[i].occurredAt += Fixture.dayMicros
        default: rows[i].id += 1000
        }
    }

    func verify(_ f: Fixture, _ rows: [AuditRow], splits: [Int64]) -> ChainReport? {
        let sorted = rows.sorted { $0.id < $1.id }
        let bounds = [Int64(1)] + splits
        var whole: ChainVerifier?
        for (k, start) in bounds.enumerated() {
            let end = k + 1 < bounds.count ? bounds[k + 1] : .max
            var v = ChainVerifier(roots: f.roots, keys: f.keys, segmentFrom: start)
            for r in sorted where r.id >= start && r.id < end { v.add(r) }
            if whole == nil { whole = v } else if !whole!.join(v) { return nil }
        }
        return whole!.finish()
    }

    @Test("500 chains, intact or tampered, split at day boundaries and anywhere: the same report as one reader, or a refusal to join a split day")
    func segmentsMatchOneReader() {
        var g = Generator(state: 42)
        var joined = 0, refused = 0, failures = 0
        for _ in 0 ..< 500 {
            let f = Fixture(rowsPerDay: 2 + g.next(8))
            var rows = f.rows
            for _ in 0 ..< g.next(3) { Self.tamper(&rows, &g) }
            var one = ChainVerifier(roots: f.roots, keys: f.keys)
            for r in rows.sorted(by: { $0.id < $1.id }) { one.add(r) }
            let expected = one.finish()
            // Split at the roots' first ids (how the drill splits), and at random ids.
            let dayStarts = f.roots.map(\.firstID).filter { $0 > 1 }
            let anywhere = (0 ..< 1 + g.next(2)).map { _ in Int64(2 + g.next(f.rows.count)) }
            for splits in [dayStarts, Array(Set(anywhere)).sorted(), Array(Set(dayStarts + anywhere)).sorted()] {
                guard let got = verify(f, rows, splits: splits) else {
                    refused += 1
                    continue
                }
                joined += 1
                if expected.failure != nil { failures += 1 }
                #expect(got == expected, "splits \(splits): \(got.failure?.message ?? "passed") vs \(expected.failure?.message ?? "passed")")
            }
        }
        #expect(joined > 600 && failures > 200 && refused > 300, "joined \(joined), of which failing \(failures); refused \(refused)")
    }

    @Test("split at the roots' first ids, an intact chain always joins")
    func dayBoundariesJoin() {
        let f = Fixture(rowsPerDay: 5)
        let got = verify(f, f.rows, splits: f.roots.map(\.firstID).filter { $0 > 1 })
        #expect(got?.passed == true && got?.rows == 15 && got?.rootsVerified == 2 && got?.unsealedRows == 5)
        #expect(verify(f, f.rows, splits: [3]) == nil, "a split inside a day is refused, not guessed")
    }
}
