import Crypto

/// RFC 6962 Merkle tree hash, computed incrementally in O(log n) memory: leaves are pushed in order and
/// perfect subtrees are merged as they complete; the root folds the remaining subtrees right to left,
/// which is exactly MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) with k the largest power of
/// two below n. Leaf hash: SHA-256(0x00 || leaf). Empty tree: SHA-256 of the empty string.
public struct MerkleTree: Sendable {
    /// Completed perfect subtrees, largest first: (leaf count, hash).
    private var stack: [(Int64, Hash32)] = []
    public private(set) var count: Int64 = 0

    public init() {}

    public static func leafHash(_ leaf: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: [0])
        h.update(data: leaf)
        return Array(h.finalize())
    }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: [1])
        h.update(data: left)
        h.update(data: right)
        return Array(h.finalize())
    }

    public mutating func append(_ leaf: [UInt8]) {
        if let h = Hash32(leaf) { append(hash: h) } else { append(leafHash: Hash32(Self.leafHash(leaf))!) }
    }

    /// Appends a 32-byte leaf (a row hash) without allocating.
    public mutating func append(hash leaf: Hash32) {
        append(leafHash: Hash32.sha256(prefix: 0, leaf))
    }

    private mutating func append(leafHash: Hash32) {
        var node: (Int64, Hash32) = (1, leafHash)
        while let last = stack.last, last.0 == node.0 {
            stack.removeLast()
            node = (last.0 * 2, Hash32.sha256(prefix: 1, last.1, node.1))
        }
        stack.append(node)
        count += 1
    }

    /// The tree hash of everything appended so far.
    public var root: [UInt8] {
        guard var acc = stack.last?.1 else { return Array(SHA256.hash(data: [UInt8]())) }
        for (_, hash) in stack.dropLast().reversed() { acc = Hash32.sha256(prefix: 1, hash, acc) }
        return acc.bytes
    }

    /// The recursive definition, for tests: MTH over a whole list.
    public static func referenceRoot(_ leaves: [[UInt8]]) -> [UInt8] {
        if leaves.isEmpty { return Array(SHA256.hash(data: [UInt8]())) }
        if leaves.count == 1 { return leafHash(leaves[0]) }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        return nodeHash(referenceRoot(Array(leaves[..<k])), referenceRoot(Array(leaves[k...])))
    }
}
