import Common
import Foundation
import Repository

/// A set refused for its authenticity; its reason is already recorded as `manifest.signature`.
struct SetRefused: Error {}

/// `manifest.signature`: with trusted keys, the manifest's Ed25519 signature must verify, by a trusted key
/// within its window, before anything the manifest says is acted on (docs/THREAT-MODEL.md).
extension DrillRun {
    static let signatureFix = "the set is not the backup's own as signed: treat the repository as tampered with (who can write it?), drill an older set with --backup TS, and check that ACP_BACKUP_SIGNING_KEY on the backup host matches a key in the trusted-keys file"

    /// `<ts>/manifest.json.sig`, if the set has one (nil: absent or unreadable).
    func readSignature(_ ts: String) async -> Data? {
        let source = options.source
        return try? await BlockingExecutor.run("drill") { try source.read(ManifestSignature.key(ts)) }
    }

    func checkSignature(_ ts: String, bytes: Data, manifest: Manifest, signature: Data?) throws {
        guard let trusted = options.trustedKeys else {
            let signer = signature.flatMap { try? ManifestSignature.decode($0) }.map { "; the set carries a signature by key \($0.keyID), unchecked" } ?? "; the set is unsigned"
            ledger.check("manifest.signature", .core, .skipped, "the set's authenticity was not verified: no trusted keys (--trusted-keys FILE)" + signer)
            return
        }
        guard let signature else { try refuseUnauthentic(ts, "the set is unsigned (no \(ManifestSignature.key(ts))), and \(trusted.source) requires a signature") }
        let t0 = ContinuousClock.now
        do {
            let evidence = try trusted.verify(manifest: bytes, signature: try ManifestSignature.decode(signature), createdAt: manifest.createdAt)
            let ms = (ContinuousClock.now - t0).inSeconds * 1000
            ledger.check("manifest.signature", .core, .passed, "\(SetLayout.manifestKey(ts)): \(evidence) (\(String(format: "%.1f", ms)) ms)", seconds: ms / 1000)
        } catch {
            try refuseUnauthentic(ts, "\(error)")
        }
    }

    /// Records the failed `manifest.signature` check and refuses the set: nothing of it is fetched.
    func refuseUnauthentic(_ ts: String, _ why: String) throws -> Never {
        ledger.check("manifest.signature", .core, .failed, "set \(ts): \(why); the set is refused, nothing of it is fetched", fix: Self.signatureFix)
        throw SetRefused()
    }
}
