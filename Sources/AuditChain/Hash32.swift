import CSHA256
import Crypto

/// A SHA-256 value held inline (four words, no heap allocation): what the verifier's per-row path
/// compares, chains and folds into Merkle trees. Byte order is preserved (`bytes` round-trips).
public struct Hash32: Hashable, Sendable {
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let zero = Hash32(w0: 0, w1: 0, w2: 0, w3: 0)

    /// Stands in for a stored hash that is NULL or not 32 bytes: all ones, a value no SHA-256 here yields,
    /// so it links to nothing and recomputes to nothing.
    public static let unmatchable = Hash32(w0: ~0, w1: ~0, w2: ~0, w3: ~0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// From exactly 32 bytes; nil for any other length (a truncated or malformed stored hash).
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        w0 = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    public init?(_ bytes: [UInt8]) {
        guard let h = bytes.withUnsafeBytes({ Hash32($0) }) else { return nil }
        self = h
    }

    init(_ digest: SHA256Digest) {
        self = digest.withUnsafeBytes { Hash32($0)! }
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }

    /// SHA-256 of `prefix` byte then the given hashes, without building an array (Merkle leaf and node),
    /// with a stack context (`CSHA256`).
    static func sha256(prefix: UInt8, _ first: Hash32, _ second: Hash32? = nil) -> Hash32 {
        var out = Hash32.zero
        withUnsafeBytes(of: first) { a in
            withUnsafeMutableBytes(of: &out) { o in
                let dst = o.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let fst = a.baseAddress!.assumingMemoryBound(to: UInt8.self)
                if let second {
                    withUnsafeBytes(of: second) { b in csha256_prefixed(prefix, fst, b.baseAddress!.assumingMemoryBound(to: UInt8.self), dst) }
                } else {
                    csha256_prefixed(prefix, fst, nil, dst)
                }
            }
        }
        return out
    }
}
