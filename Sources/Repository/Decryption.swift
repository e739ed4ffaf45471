public import Foundation
import Crypto

/// How a backup set is opened: `age` with an identity file (`ACP_BACKUP_AGE_IDENTITY`) or `gpg` with the
/// home directory holding the secret key (`ACP_BACKUP_GPG_HOMEDIR`). Key material reaches the tools
/// through a file path only: never an argument that holds a secret, never a log line.
public enum Decryption: Sendable, Equatable {
    case age(identity: String)
    case gpg(home: String?)

    public var kind: String { if case .age = self { "age" } else { "gpg" } }

    /// The tool and arguments that decrypt `input` to standard output.
    public func step(input: String) -> ProcessPipeline.Step {
        switch self {
        case .age(let identity):
            return .init(executable: "age", arguments: ["--decrypt", "--identity", identity, input])
        case .gpg(let home):
            var args = ["--batch", "--quiet", "--no-tty", "--decrypt", input]
            if let home { args = ["--homedir", home] + args }
            return .init(executable: "gpg", arguments: args)
        }
    }

    /// For `age`: the fingerprints of the recipients this identity file opens (`age-keygen -y`), so that a
    /// wrong identity is named before anything is decrypted. Nil when that cannot be told (gpg, an
    /// encrypted or plugin identity, no age-keygen).
    public func recipientFingerprints() -> [String]? {
        guard case .age(let identity) = self else { return nil }
        var text = ""
        do {
            try ProcessPipeline.run([.init(executable: "age-keygen", arguments: ["-y", identity])]) { text += String(decoding: $0, as: UTF8.self) }
        } catch { return nil }
        let recipients = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("age1") }
        return recipients.isEmpty ? nil : recipients.map(Self.fingerprint)
    }

    /// SHA-256 prefix of a recipient: identifies a key in manifests and reports without printing it.
    public static func fingerprint(_ recipient: String) -> String {
        String(SHA256.hash(data: Data(recipient.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16))
    }

    /// Decrypts `input` into `output` (created 0600). Returns the plaintext size.
    @discardableResult
    public func decrypt(_ input: String, to output: String, onProgress: ((Int64) -> Void)? = nil) throws -> Int64 {
        guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: output) else {
            throw RepositoryError(message: "\(output): cannot create")
        }
        defer { try? handle.close() }
        var size: Int64 = 0
        try ProcessPipeline.run([step(input: input)]) { chunk in
            try handle.write(contentsOf: chunk)
            size += Int64(chunk.count)
            onProgress?(size)
        }
        return size
    }
}
