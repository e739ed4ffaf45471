import AuditChain

extension Reconcile {
    /// A tenant id (a uuid) held inline as its 16 bytes: the merge compares and sums per tenant on both
    /// sides of millions of rows, so no String is built per row. Ordered as its text is.
    struct Tenant: Hashable, Comparable, Sendable, CustomStringConvertible {
        var high: UInt64
        var low: UInt64

        init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        /// From a uuid's 16 bytes (binary COPY); nil for any other length.
        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count == 16 else { return nil }
            var h: UInt64 = 0, l: UInt64 = 0
            for k in 0 ..< 8 { h = h << 8 | UInt64(bytes[k]); l = l << 8 | UInt64(bytes[8 + k]) }
            high = h
            low = l
        }

        static func < (a: Tenant, b: Tenant) -> Bool { (a.high, a.low) < (b.high, b.low) }

        /// As PostgreSQL prints a uuid: lower-case, hyphenated.
        var description: String {
            let hex = Array(withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { ChainHash.hex(Array($0)) })
            return [hex[0 ..< 8], hex[8 ..< 12], hex[12 ..< 16], hex[16 ..< 20], hex[20 ..< 32]].map { String($0) }.joined(separator: "-")
        }
    }
}
