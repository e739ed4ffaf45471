public import AuditChain
import Synchronization

/// The platform's eleven databases (docs/DESIGN.md §8), generated deterministically from a seed and a scale.
/// Scale 1 is the runbook's drill-log row: audit 12,450, tenants 3, usage 8,900.
public struct PlatformFixture: Sendable {
    public static let databases = [
        "acp_gateway", "acp_policy", "acp_audit", "acp_usage", "acp_tenants", "acp_identity", "acp_keys",
        "acp_tools", "acp_sessions", "acp_billing", "acp_playground",
    ]

    public let seed: UInt64
    public let scale: Int

    public var tenantCount: Int { 3 * scale }
    public var auditCount: Int { 12_450 * scale }
    public var usageCount: Int { 8_900 * scale }

    /// The first day of audit rows; rows span `days` UTC days; every day but the last is sealed.
    public static let firstDay: Int64 = 1_778_371_200_000_000  // 2026-05-10T00:00:00Z
    public static let days = 7
    static let dayMicros: Int64 = 86_400_000_000
    /// The root signing key rotates at noon on the fourth day: roots before are signed by the old key.
    public static let rotation: Int64 = firstDay + 3 * dayMicros + dayMicros / 2

    static let tools = ["web.search", "code.run", "files.read", "mail.send", "db.query", "image.render", "calendar.add", "crm.lookup"]
    static let otherActions = ["policy.update", "session.start", "key.read", "tenant.settings", "user.login"]

    public init(seed: UInt64 = 20_260_516, scale: Int = 1) {
        self.seed = seed
        self.scale = max(1, scale)
    }

    /// The expected exact row counts of every table after a restore, `database.table` → rows.
    public var expectedRowCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for db in tables { for t in db.tables { counts["\(db.name).\(t.name)"] = t.count } }
        counts["acp_audit.transparency_roots"] = Self.days - 1
        counts["acp_audit.transparency_historical_keys"] = 2
        return counts
    }

    // MARK: Deterministic values

    func rng(_ stream: UInt64, _ index: Int) -> UInt64 {
        var z = seed &+ stream &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func uuid(_ stream: UInt64, _ index: Int) -> String {
        let a = rng(stream, index), b = rng(stream &+ 1, index)
        let hex = ChainHash.hex((0 ..< 8).map { UInt8(truncatingIfNeeded: a >> ($0 * 8)) } + (0 ..< 8).map { UInt8(truncatingIfNeeded: b >> ($0 * 8)) })
        let c = Array(hex)
        return String(c[0 ..< 8]) + "-" + String(c[8 ..< 12]) + "-4" + String(c[13 ..< 16]) + "-a" + String(c[17 ..< 20]) + "-" + String(c[20 ..< 32])
    }

    public func tenantID(_ i: Int) -> String { uuid(1, i) }

    /// Whether audit row `i` (0-based) is a billable `tool.execute`: exactly `usageCount` of them, spread evenly.
    func isToolCall(_ i: Int) -> Bool { (i + 1) * usageCount / auditCount > i * usageCount / auditCount }

    func auditTime(_ i: Int) -> Int64 {
        let span = Int64(Self.days) * Self.dayMicros
        let step = span / Int64(auditCount)
        return Self.firstDay + Int64(i) * step + Int64(rng(7, i) % UInt64(max(1, step / 2)))
    }

    /// The root signers: a retired key and the current one, from the seed.
    public func signers() throws -> (old: RootSigner, new: RootSigner) {
        let s1 = (0 ..< 32).map { UInt8(truncatingIfNeeded: rng(11, $0)) }
        let s2 = (0 ..< 32).map { UInt8(truncatingIfNeeded: rng(12, $0)) }
        return (try RootSigner(keyID: "acp-root-2026-05-a", seed: s1), try RootSigner(keyID: "acp-root-2026-05-b", seed: s2))
    }

    public func historicalKeys() throws -> [HistoricalKey] {
        let (old, new) = try signers()
        return [
            HistoricalKey(keyID: old.keyID, publicKey: old.publicKey, validFrom: Self.firstDay - 30 * Self.dayMicros, validTo: Self.rotation),
            HistoricalKey(keyID: new.keyID, publicKey: new.publicKey, validFrom: Self.rotation, validTo: nil),
        ]
    }
}

/// A table's generated content.
public struct FixtureTable: Sendable {
    public var name: String
    public var columns: [String]
    public var count: Int
    public var line: @Sendable (Int) -> String
}

/// One database: its schema and tables, in load order (parents before children).
public struct FixtureDatabase: Sendable {
    public var name: String
    public var schema: String
    public var tables: [FixtureTable]
    /// Parts streamed after the tables (the roots, once the chain is built).
    public var trailer: [SQLStream.Part] = []
}
