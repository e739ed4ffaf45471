public import Crypto
public import Foundation
import Common

/// A set's signature: Ed25519 over the exact bytes of its `manifest.json`, stored beside it as
/// `<ts>/manifest.json.sig` and written before the manifest (so a set that looks complete is signed, or
/// was never signed). The signing key is the backup's, separate from the encryption key; the drill checks
/// the signature against keys the operator trusts (`TrustedKeys`) before it acts on anything the
/// manifest says.
public struct ManifestSignature: Codable, Sendable, Equatable {
    public static let currentFormat = 1
    public static let algorithm = "ed25519"
    /// What is signed: this line, then the manifest's bytes. A signature of anything else cannot be
    /// replayed as a manifest's.
    static let domain = Array("acp-drill-manifest-v1\n".utf8)

    public var format: Int
    public var algorithm: String
    /// The signing key's id (`SigningKey.keyID`).
    public var keyID: String
    /// The signature, base64.
    public var signature: String

    public init(keyID: String, signature: Data) {
        self.format = Self.currentFormat
        self.algorithm = Self.algorithm
        self.keyID = keyID
        self.signature = signature.base64EncodedString()
    }

    /// `<ts>/manifest.json.sig`
    public static func key(_ timestamp: String) -> String { "\(timestamp)/manifest.json.sig" }

    /// Signs `manifest` (its bytes as stored).
    public static func sign(_ manifest: Data, with key: SigningKey) throws -> ManifestSignature {
        ManifestSignature(keyID: key.keyID, signature: try key.privateKey.signature(for: domain + manifest))
    }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(self)
    }

    public static func decode(_ data: Data) throws -> ManifestSignature {
        do { return try JSONDecoder().decode(ManifestSignature.self, from: data) } catch {
            throw RepositoryError(message: "not a manifest signature (\(data.count) bytes)")
        }
    }

    /// Whether this signature is `key`'s over `manifest`.
    public func verifies(_ manifest: Data, with key: Curve25519.Signing.PublicKey) -> Bool {
        guard algorithm == Self.algorithm, let raw = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(raw, for: Self.domain + manifest)
    }
}

/// The backup's manifest-signing key: a file written by `acp-drill keys generate` (0600), named by
/// `ACP_BACKUP_SIGNING_KEY`: one line `acp-drill-signing-key-v1 <base64 raw private key>`.
public struct SigningKey: Sendable {
    static let header = "acp-drill-signing-key-v1"
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(_ privateKey: Curve25519.Signing.PrivateKey) { self.privateKey = privateKey }

    /// A fresh key.
    public static func generate() -> SigningKey { SigningKey(Curve25519.Signing.PrivateKey()) }

    /// The key's id: the first 16 hex digits of the SHA-256 of its public key.
    public var keyID: String { TrustedKeys.keyID(of: privateKey.publicKey) }

    /// The file's text.
    public var fileText: String { "\(Self.header) \(privateKey.rawRepresentation.base64EncodedString())\n" }

    /// Reads a key file. The error names the file, never its content.
    public static func load(path: String) throws -> SigningKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RepositoryError(message: "\(path): cannot read the signing key")
        }
        let parts = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, parts[0] == header, let raw = Data(base64Encoded: String(parts[1])),
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw RepositoryError(message: "\(path): not an acp-drill signing key (acp-drill keys generate writes one)")
        }
        return SigningKey(key)
    }
}

/// The public keys an operator trusts to sign sets, each with the window in which it signed: a file of JSON
/// lines (or one JSON array) `{"key_id", "public_key" (base64), "valid_from", "valid_until"?}` (RFC 3339).
/// A set signed before a key rotation still verifies against the retired key, within its window.
public struct TrustedKeys: Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public var key_id: String
        public var public_key: String
        public var valid_from: String
        public var valid_until: String?

        public init(key_id: String, public_key: String, valid_from: String, valid_until: String?) {
            self.key_id = key_id
            self.public_key = public_key
            self.valid_from = valid_from
            self.valid_until = valid_until
        }
    }

    public var keys: [Key]
    /// Where they came from (a path), for messages.
    public var source: String

    public init(keys: [Key], source: String) {
        self.keys = keys
        self.source = source
    }

    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        SHA256.hash(data: key.rawRepresentation).map { String(format: "%02x", $0) }.joined().prefix(16).description
    }

    /// The trusted-keys line for `key`, valid from `from` on.
    public static func entry(for key: SigningKey, validFrom from: Date) -> Key {
        Key(key_id: key.keyID, public_key: key.privateKey.publicKey.rawRepresentation.base64EncodedString(),
            valid_from: rfc3339(from), valid_until: nil)
    }

    static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// An RFC 3339 time, with or without fractional seconds.
    public static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    /// Parses a trusted-keys file; every line must be a valid key (the error names the line).
    public static func parse(_ data: Data, source: String) throws -> TrustedKeys {
        let keys: [Key]
        do { keys = try JSONRecords.decode(Key.self, from: data) } catch {
            throw RepositoryError(message: error.line.map { "\(source): line \($0) is not a trusted key (key_id, public_key, valid_from, valid_until)" }
                                           ?? "\(source): not a JSON array of trusted keys")
        }
        for k in keys {
            guard let raw = Data(base64Encoded: k.public_key), let pub = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw RepositoryError(message: "\(source): key \(k.key_id): public_key is not a base64 Ed25519 public key")
            }
            guard keyID(of: pub) == k.key_id else { throw RepositoryError(message: "\(source): key \(k.key_id): the id does not match its public key") }
            guard date(k.valid_from) != nil, k.valid_until.map({ date($0) != nil }) ?? true else {
                throw RepositoryError(message: "\(source): key \(k.key_id): valid_from/valid_until must be RFC 3339 times")
            }
        }
        guard !keys.isEmpty else { throw RepositoryError(message: "\(source): no trusted keys in the file") }
        return TrustedKeys(keys: keys, source: source)
    }

    /// Verifies a set: `signature` must be a trusted key's over `manifest`, and the manifest's own creation
    /// time must fall in that key's window. Returns a sentence for the evidence; throws one naming what failed.
    public func verify(manifest: Data, signature: ManifestSignature, createdAt: String) throws -> String {
        guard let key = keys.first(where: { $0.key_id == signature.keyID }) else {
            throw RepositoryError(message: "signed by key \(signature.keyID), which \(source) does not trust")
        }
        guard let raw = Data(base64Encoded: key.public_key), let pub = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              signature.verifies(manifest, with: pub) else {
            throw RepositoryError(message: "the signature by key \(key.key_id) does not verify: the manifest was changed after it was signed, or the signature forged")
        }
        guard let created = Self.date(createdAt) else { throw RepositoryError(message: "the manifest's createdAt \(createdAt) is not a time") }
        let from = Self.date(key.valid_from) ?? .distantFuture, until = key.valid_until.flatMap(Self.date) ?? .distantFuture
        guard created >= from && created < until else {
            throw RepositoryError(message: "signed by key \(key.key_id) at \(createdAt), outside its window in \(source) (\(key.valid_from) – \(key.valid_until ?? "open"))")
        }
        return "signed by key \(key.key_id) (trusted from \(key.valid_from)\(key.valid_until.map { " until \($0)" } ?? "")), the signature verifies"
    }
}
