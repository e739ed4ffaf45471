public import Evidence
public import Foundation

/// `manifest.json` of one backup set (docs/DESIGN.md §6): written last, it is what makes a set complete.
public struct Manifest: Codable, Sendable, Equatable {
    /// 2: the source evidence (`evidence`, `roles`, `coverage`) and the globals object. Format 1 sets
    /// still drill; their comparisons are skipped, saying so.
    public static let currentFormat = 2

    public struct Object: Codable, Sendable, Equatable {
        /// The object's key relative to the repository root (`<ts>/<database>.dump.age`).
        public var key: String
        /// The database it holds (nil for the roots snapshot and the globals).
        public var database: String?
        /// `dump`, `transparency_roots` or `globals` (`pg_dumpall --globals-only --no-role-passwords`).
        public var kind: String
        /// Size and SHA-256 of the ciphertext, checked before decrypting.
        public var size: Int64
        public var sha256: String

        public init(key: String, database: String?, kind: String, size: Int64, sha256: String) {
            self.key = key
            self.database = database
            self.kind = kind
            self.size = size
            self.sha256 = sha256
        }
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var database: String
        public var step: String
        public var message: String

        public init(database: String, step: String, message: String) {
            self.database = database
            self.step = step
            self.message = message
        }
    }

    public var format: Int
    /// `yyyyMMdd'T'HHmmss'Z'`, also the set's folder name.
    public var timestamp: String
    public var createdAt: String
    public var toolVersion: String
    public var pgDumpVersion: String
    public var serverVersion: String
    /// pg_dump's compression level (absent in sets written before it was recorded).
    public var compressLevel: Int?
    /// `age` or `gpg`.
    public var encryption: String
    /// SHA-256 (first 16 hex digits) of the recipient: which key can open the set, without naming it.
    public var recipientFingerprint: String
    public var databases: [String]
    public var objects: [Object]
    public var failures: [Failure]
    /// Format 2: each dumped database's evidence, taken in the snapshot its dump was taken from.
    public var evidence: [String: DatabaseEvidence]?
    /// Format 2: the server's roles when the globals were dumped.
    public var roles: [RoleEvidence]?
    /// Format 2: which of the server's databases the set covers, and which it leaves out.
    public var coverage: Coverage?

    public init(timestamp: String, createdAt: String, toolVersion: String, pgDumpVersion: String, serverVersion: String,
                encryption: String, recipientFingerprint: String, databases: [String], objects: [Object], failures: [Failure]) {
        self.format = Self.currentFormat
        self.timestamp = timestamp
        self.createdAt = createdAt
        self.toolVersion = toolVersion
        self.pgDumpVersion = pgDumpVersion
        self.serverVersion = serverVersion
        self.encryption = encryption
        self.recipientFingerprint = recipientFingerprint
        self.databases = databases
        self.objects = objects
        self.failures = failures
    }

    /// The object of `kind` (`globals`, `transparency_roots`), if the set has one.
    /// Each database's dump object's size in bytes (its encrypted object's, as the manifest records it).
    public var dumpSizes: [String: Int64] {
        Dictionary(objects.compactMap { o in o.database.map { ($0, o.size) } }, uniquingKeysWith: max)
    }

    public func object(kind: String) -> Object? { objects.first { $0.database == nil && $0.kind == kind } }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    /// Decodes a manifest. What is not one (truncated, not JSON, a field missing or of the wrong type) is a
    /// `RepositoryError` saying what and where, in one line.
    public static func decode(_ data: Data) throws -> Manifest {
        let m: Manifest
        do { m = try JSONDecoder().decode(Manifest.self, from: data) } catch let error as DecodingError {
            throw RepositoryError(message: "not a valid manifest (\(data.count) bytes): \(Self.explain(error))")
        }
        guard m.format <= currentFormat else {
            throw RepositoryError(message: "manifest format \(m.format) is newer than this acp-drill understands (\(currentFormat))")
        }
        return m
    }
}

extension Manifest {
    /// A decoding error in one line: what is wrong, and at which field.
    static func explain(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let c):
            let cause = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "the JSON is damaged\(at(c.codingPath))" + (cause.map { ": \($0)" } ?? (c.debugDescription.isEmpty ? "" : ": \(c.debugDescription)"))
        case .keyNotFound(let key, let c): return "the field \"\(key.stringValue)\" is missing\(at(c.codingPath))"
        case .typeMismatch(let type, let c): return "expected \(type)\(at(c.codingPath))"
        case .valueNotFound(let type, let c): return "expected \(type), found null\(at(c.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}

/// A repository operation that failed, with the backend's own message.
public struct RepositoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
