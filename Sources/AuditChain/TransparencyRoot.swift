import Crypto

/// A row of `acp_audit.transparency_roots`: one signed Merkle root per UTC day.
public struct TransparencyRoot: Sendable, Equatable, Codable {
    public var day: String
    public var firstID: Int64
    public var lastID: Int64
    public var leafCount: Int64
    public var rootHash: [UInt8]
    public var keyID: String
    public var signature: [UInt8]
    /// Microseconds since 1970, UTC.
    public var signedAt: Int64

    public init(day: String, firstID: Int64, lastID: Int64, leafCount: Int64, rootHash: [UInt8], keyID: String,
                signature: [UInt8], signedAt: Int64) {
        self.day = day
        self.firstID = firstID
        self.lastID = lastID
        self.leafCount = leafCount
        self.rootHash = rootHash
        self.keyID = keyID
        self.signature = signature
        self.signedAt = signedAt
    }

    /// The signed text: `acp-transparency-root-v1\n<day>\n<first_id>\n<last_id>\n<lower-case hex root_hash>`.
    public static func message(day: String, firstID: Int64, lastID: Int64, rootHash: [UInt8]) -> [UInt8] {
        Array("acp-transparency-root-v1\n\(day)\n\(firstID)\n\(lastID)\n\(ChainHash.hex(rootHash))".utf8)
    }

    public var message: [UInt8] { Self.message(day: day, firstID: firstID, lastID: lastID, rootHash: rootHash) }
}

/// A row of `acp_audit.transparency_historical_keys`.
public struct HistoricalKey: Sendable, Equatable, Codable {
    public var keyID: String
    public var algorithm: String
    /// Raw 32-byte Ed25519 public key.
    public var publicKey: [UInt8]
    public var validFrom: Int64
    public var validTo: Int64?

    public init(keyID: String, algorithm: String = "ed25519", publicKey: [UInt8], validFrom: Int64, validTo: Int64?) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.validFrom = validFrom
        self.validTo = validTo
    }

    /// Valid at `time`: from `validFrom` (inclusive) until `validTo` (exclusive; none means still valid).
    public func isValid(at time: Int64) -> Bool { validFrom <= time && validTo.map { time < $0 } ?? true }

    /// Verifies an Ed25519 signature of `message`.
    public func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard algorithm.lowercased() == "ed25519",
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// An Ed25519 signing key for roots (used by the fixture generator; production keys live elsewhere).
public struct RootSigner: Sendable {
    public let keyID: String
    private let key: Curve25519.Signing.PrivateKey

    /// A key derived from a 32-byte seed (deterministic fixtures).
    public init(keyID: String, seed: [UInt8]) throws {
        self.keyID = keyID
        self.key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }

    public func sign(_ message: [UInt8]) throws -> [UInt8] { Array(try key.signature(for: message)) }
}
