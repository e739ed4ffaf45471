import AuditChain
import Testing

func hex(_ b: [UInt8]) -> String { ChainHash.hex(b) }

@Suite struct MerkleTreeTests {
    /// The RFC 6962 test vectors published with Certificate Transparency's reference code.
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test("RFC 6962 reference vectors, incremental and recursive", arguments: 1 ... 8)
    func vectors(n: Int) {
        var tree = MerkleTree()
        for leaf in Self.leaves.prefix(n) { tree.append(leaf) }
        #expect(hex(tree.root) == Self.roots[n - 1])
        #expect(hex(MerkleTree.referenceRoot(Array(Self.leaves.prefix(n)))) == Self.roots[n - 1])
    }

    @Test("the empty tree is SHA-256 of nothing")
    func empty() {
        #expect(hex(MerkleTree().root) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("incremental equals the recursive definition for every size up to 130")
    func property() {
        var leaves: [[UInt8]] = []
        var tree = MerkleTree()
        for i in 0 ..< 130 {
            let leaf = (0 ..< (i % 7 + 1)).map { UInt8(truncatingIfNeeded: i * 31 + $0) }
            leaves.append(leaf)
            tree.append(leaf)
            #expect(tree.root == MerkleTree.referenceRoot(leaves), "size \(i + 1)")
        }
    }
}

@Suite struct TimeAndEncodingTests {
    @Test("canonical time text", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (1_778_925_600_123_456, "2026-05-16T10:00:00.123456Z"),
        (4_102_444_799_999_999, "2099-12-31T23:59:59.999999Z"),
    ])
    func canonical(micros: Int64, text: String) {
        #expect(UTCTime.canonical(micros: micros) == text)
        #expect(UTCTime.parse(text) == micros)
    }

    @Test("PostgreSQL timestamptz output parses, offsets applied", arguments: [
        ("2026-05-16 10:00:00+00", Int64(1_778_925_600_000_000)),
        ("2026-05-16 10:00:00.5+00", 1_778_925_600_500_000),
        ("2026-05-16 12:00:00.123456+02", 1_778_925_600_123_456),
        ("2026-05-16 05:30:00-04:30", 1_778_925_600_000_000),
    ])
    func postgres(text: String, micros: Int64) { #expect(UTCTime.parse(text) == micros) }

    @Test("format and parse round-trip over random times")
    func roundTrip() {
        var x: UInt64 = 42
        for _ in 0 ..< 5000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let micros = Int64(x % 8_000_000_000_000_000) - 2_000_000_000_000_000
            #expect(UTCTime.parse(UTCTime.canonical(micros: micros)) == micros)
        }
    }

    @Test("enc is a 4-byte big-endian byte length and UTF-8", arguments: [
        ("", [0, 0, 0, 0] as [UInt8]), ("ab", [0, 0, 0, 2, 97, 98]), ("é", [0, 0, 0, 2, 0xc3, 0xa9]),
    ])
    func enc(text: String, bytes: [UInt8]) { #expect(ChainHash.enc(text) == bytes) }

    @Test("hex round-trips, PostgreSQL's \\x prefix accepted")
    func hexText() {
        #expect(ChainHash.bytes(hex: "\\x00ff10") == [0, 255, 16])
        #expect(ChainHash.bytes(hex: "0g") == nil)
        #expect(ChainHash.hex([0xde, 0xad]) == "dead")
        let table: [(String, [UInt8]?)] = [("", []), ("00ff10", [0, 255, 16]), ("\\xDEADbeef", [0xde, 0xad, 0xbe, 0xef]),
                                             ("0g", nil), ("abc", nil), ("\\x", []), ("zz", nil)]
        for (text, expected) in table {
            #expect(ChainHash.bytes(hexBytes: ArraySlice(text.utf8)) == expected, "\(text)")
            #expect(ChainHash.bytes(hex: text) == expected, "\(text)")
        }
        #expect(UTCTime.parse(bytes: Array("2026-05-16 10:00:00.5+00".utf8)) == 1_778_925_600_500_000)
    }
}

/// The verifier's byte-level hasher and the chain's reference definition are two implementations of one
/// hash: they must agree on every row, multi-byte text and empty fields included.
@Suite struct RowHasherTests {
    @Test("RowHasher (raw column bytes) equals ChainHash.rowHash (the spec) on random rows")
    func agreesWithTheSpec() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abc XYZ 09 é ü 漢字 🙂 \"'\\\t{}:,")
        func text() -> String { String((0 ..< Int.random(in: 0 ... 40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
        var hasher = RowHasher()
        for _ in 0 ..< 500 {
            let prev = (0 ..< 32).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let tenant = (0 ..< 16).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let hex = ChainHash.hex(tenant)
            let tenantText = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)].joined(separator: "-")
            let id = Int64.random(in: 1 ... 10_000_000_000, using: &rng)
            let micros = Int64.random(in: 0 ... 4_102_444_800_000_000, using: &rng)
            let (actor, action, resource, payload) = (text(), text(), text(), text())
            let spec = ChainHash.rowHash(prev: prev, id: id, tenantID: tenantText, occurredAt: micros, actor: actor, action: action, resource: resource, payload: payload)
            let fast = prev.withUnsafeBytes { p in tenant.withUnsafeBytes { t in
                Array(actor.utf8).withUnsafeBytes { a in Array(action.utf8).withUnsafeBytes { ac in
                    Array(resource.utf8).withUnsafeBytes { r in Array(payload.utf8).withUnsafeBytes { pl in
                        hasher.rowHash(prev: p, id: id, tenant: t, occurredAt: micros, actor: a, action: ac, resource: r, payload: pl)
                    } }
                } }
            } }
            #expect(fast.bytes == spec, "id \(id), tenant \(tenantText), at \(micros)")
        }
    }
}
