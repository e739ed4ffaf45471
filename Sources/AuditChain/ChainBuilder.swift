/// Builds a valid chain row by row, and the signed daily roots over it (fixtures and tests).
public struct ChainBuilder: Sendable {
    private var previous = ChainHash.genesis
    private var nextID: Int64 = 1
    private var days: [(day: String, first: Int64, last: Int64, tree: MerkleTree)] = []

    public init() {}

    /// A builder that continues an existing chain after its row `id` (a writer appending to a live table).
    public init(after id: Int64, hash: [UInt8]) {
        nextID = id + 1
        previous = id == 0 ? ChainHash.genesis : hash
    }

    /// Appends a row, computing its `prev_hash` and `row_hash`. Rows must come in time order.
    public mutating func append(tenantID: String, occurredAt: Int64, actor: String, action: String, resource: String,
                                payload: String) -> AuditRow {
        let id = nextID
        nextID += 1
        let hash = ChainHash.rowHash(prev: previous, id: id, tenantID: tenantID, occurredAt: occurredAt, actor: actor,
                                     action: action, resource: resource, payload: payload)
        let row = AuditRow(id: id, tenantID: tenantID, occurredAt: occurredAt, actor: actor, action: action, resource: resource,
                           payload: payload, prevHash: previous, rowHash: hash)
        previous = hash
        let day = row.day
        if days.last?.day == day {
            days[days.count - 1].last = id
            days[days.count - 1].tree.append(hash)
        } else {
            var tree = MerkleTree()
            tree.append(hash)
            days.append((day, id, id, tree))
        }
        return row
    }

    /// The days seen so far, in order.
    public var dayNames: [String] { days.map(\.day) }

    /// Signed roots for every day up to and including `through` (all days when nil). `signer` picks the key
    /// and the signing time for a day.
    public func roots(through: String? = nil, signer: (String) throws -> (RootSigner, Int64)) rethrows -> [TransparencyRoot] {
        var out: [TransparencyRoot] = []
        for d in days where through.map({ d.day <= $0 }) ?? true {
            let (key, signedAt) = try signer(d.day)
            let root = d.tree.root
            let signature = (try? key.sign(TransparencyRoot.message(day: d.day, firstID: d.first, lastID: d.last, rootHash: root))) ?? []
            out.append(TransparencyRoot(day: d.day, firstID: d.first, lastID: d.last, leafCount: d.tree.count, rootHash: root,
                                        keyID: key.keyID, signature: signature, signedAt: signedAt))
        }
        return out
    }
}
