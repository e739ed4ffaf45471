import ArgumentParser
import Foundation
import Repository

/// `acp-drill keys …`: the keys that sign backup sets.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Keys that sign backup sets, so that a drill can prove a set is the backup's own.",
        subcommands: [KeysGenerateCommand.self]
    )
}

/// `acp-drill keys generate --out PATH`: a fresh Ed25519 signing key and its trusted-keys line.
struct KeysGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a new manifest-signing key (PATH.key, 0600) and its trusted-keys entry (PATH.pub).",
        discussion: prose("""
            The backup host keeps PATH.key and names it in ACP_BACKUP_SIGNING_KEY: every set's manifest is then
            signed (Ed25519, <ts>/manifest.json.sig, written before the manifest). It is not the encryption key
            and never goes into the repository. PATH.pub is one line of a trusted-keys file: the drill host
            collects such lines in a file and passes it with --trusted-keys (or ACP_DRILL_TRUSTED_KEYS); a
            drill then refuses a set whose manifest is unsigned, signed by another key, altered after signing,
            or signed outside the key's window.

            Rotating: generate a new key, append its line to the trusted-keys file, set the retired key's
            valid_until to the rotation time (RFC 3339), and switch ACP_BACKUP_SIGNING_KEY. Sets signed before
            the rotation still verify against the retired key, within its window.

            Example:
              acp-drill keys generate --out /etc/acp-drill/signing-2026
              cat /etc/acp-drill/signing-2026.pub >> /etc/acp-drill/trusted-keys.jsonl
            """)
    )

    @Option(help: ArgumentHelp("Where to write: PATH.key and PATH.pub (neither may exist).", valueName: "path")) var out: String
    @Option(help: ArgumentHelp("The key's valid_from (RFC 3339; default: now).", valueName: "time")) var validFrom: String?

    func run() throws {
        let from: Date
        if let validFrom {
            guard let d = TrustedKeys.date(validFrom) else { throw ValidationError("--valid-from: \(validFrom) is not an RFC 3339 time") }
            from = d
        } else { from = Date() }
        let key = SigningKey.generate()
        let entry = TrustedKeys.entry(for: key, validFrom: from)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n"
        for (path, text, mode) in [("\(out).key", key.fileText, 0o600), ("\(out).pub", line, 0o644)] as [(String, String, Int32)] {
            // O_EXCL: an existing key is never overwritten.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode_t(mode))
            guard fd >= 0 else {
                printError("error: \(path): cannot create: \(String(cString: strerror(errno)))")
                throw DrillExit.configuration
            }
            defer { close(fd) }
            do { try Array(text.utf8).withUnsafeBytes { raw in try LocalWriteError.writeAll(raw, to: fd, file: path) } } catch {
                printError("error: \(error)")
                throw DrillExit.configuration
            }
        }
        print("signing key \(entry.key_id): \(out).key (0600; ACP_BACKUP_SIGNING_KEY on the backup host)")
        print("trusted-keys entry: \(out).pub (append it to the drill host's --trusted-keys file)")
    }
}
