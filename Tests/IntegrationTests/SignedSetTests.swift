import Drill
import Foundation
import Repository
import Testing

/// Signed sets end to end: `keys generate`, a backup that signs, drills that verify against trusted keys,
/// and a bucket writer's edits (an object dropped from the manifest, a foreign key, a set signed outside its
/// key's window, an unsigned set) each refused with `manifest.signature` named, before anything is fetched.
@Suite(.serialized) struct SignedSetTests {
    @Test("a signed set verifies against trusted keys; without them the verdict line says authenticity was not verified; tampered, foreign, out-of-window and unsigned sets are refused")
    func signedSets() async throws {
        let source = try await DrillSource.make()
        do {
            let dir = source.dir
            let (g1, out1) = try await runCLI(["keys", "generate", "--out", "\(dir)/k1"], environment: [:])
            #expect(g1 == 0 && out1.contains("signing key "), "\(out1)")
            let (again, againOut) = try await runCLI(["keys", "generate", "--out", "\(dir)/k1"], environment: [:])
            #expect(again == 2 && againOut.contains("File exists"), "an existing key is never overwritten: \(againOut)")
            _ = try await runCLI(["keys", "generate", "--out", "\(dir)/k2"], environment: [:])
            let keyText = try String(contentsOfFile: "\(dir)/k1.key", encoding: .utf8)
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(dir)/k1.key")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            let repo = try await source.backup("signed", env: ["ACP_BACKUP_SIGNING_KEY": "\(dir)/k1.key"])
            let set = try #require(try LocalRepository(root: repo).completeSets().first)
            #expect(FileManager.default.fileExists(atPath: "\(repo)/\(set)/manifest.json.sig"))

            // Trusted: passes, the signature checked in well under 50 ms.
            let ok = try await source.drill(repo, name: "signed-ok", ["--trusted-keys", "\(dir)/k1.pub"])
            #expect(ok.code == 0, "\(ok.stdout)\n\(ok.stderr)")
            let sig = try #require(ok.check("manifest.signature"))
            #expect(sig.status == .passed && sig.evidence.contains("signed by key"), "\(sig.evidence)")
            #expect(sig.seconds < 0.05, "signature verification took \(sig.seconds) s")
            #expect(!ok.lastLine.contains("authenticity not verified"))
            // No trusted keys: still drills, and says so in the last line.
            let open = try await source.drill(repo, name: "signed-untrusted")
            #expect(open.code == 0 && open.lastLine.hasSuffix("(authenticity not verified: no trusted keys)"), "\(open.lastLine)")
            #expect(open.check("manifest.signature")?.status == .skipped && open.check("manifest.signature")?.evidence.contains("signature by key") == true)
            // A key the drill host does not trust.
            let foreign = try await source.drill(repo, name: "signed-foreign", ["--trusted-keys", "\(dir)/k2.pub"])
            #expect(foreign.code == 1 && foreign.report?.firstFailure?.contains("which \(dir)/k2.pub does not trust") == true, "\(foreign.report?.firstFailure ?? "")")
            #expect(foreign.report?.sandbox == nil, "nothing is provisioned for a refused set")
            // The key's window closed before the set was made (a retired key).
            var entry = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/k1.pub"))) as! [String: Any]
            entry["valid_from"] = "2020-01-01T00:00:00Z"
            entry["valid_until"] = "2021-01-01T00:00:00Z"
            try JSONSerialization.data(withJSONObject: entry).write(to: URL(fileURLWithPath: "\(dir)/retired.pub"))
            let retired = try await source.drill(repo, name: "signed-retired", ["--trusted-keys", "\(dir)/retired.pub"])
            #expect(retired.code == 1 && retired.report?.firstFailure?.contains("outside its window") == true, "\(retired.report?.firstFailure ?? "")")

            // A bucket writer drops acp_audit's object from the manifest (its dump and checksum gone with it).
            let path = "\(repo)/\(SetLayout.manifestKey(set))"
            var manifest = try Manifest.decode(Data(contentsOf: URL(fileURLWithPath: path)))
            manifest.objects.removeAll { $0.database == "acp_audit" }
            try manifest.encoded().write(to: URL(fileURLWithPath: path))
            let edited = try await source.drill(repo, name: "signed-edited", ["--trusted-keys", "\(dir)/k1.pub"])
            #expect(edited.code == 1 && edited.report?.firstFailure?.hasPrefix("manifest.signature: set \(set): the signature by key") == true,
                    "\(edited.report?.firstFailure ?? "")")
            #expect(edited.check("manifest.signature")?.fix?.contains("tampered") == true && edited.report?.sandbox == nil)
            // Without trusted keys, the manifest's own list still gives it away.
            let listed = try await source.drill(repo, name: "unsigned-edited")
            #expect(listed.code == 1 && listed.report?.firstFailure?.contains("backup.complete: the manifest lists acp_audit but carries no object for it") == true,
                    "\(listed.report?.firstFailure ?? "")")

            // An unsigned set, where a signature is required.
            let plain = try await source.backup("unsigned")
            let unsigned = try await source.drill(plain, name: "unsigned", ["--trusted-keys", "\(dir)/k1.pub"])
            #expect(unsigned.code == 1 && unsigned.report?.firstFailure?.contains("the set is unsigned") == true, "\(unsigned.report?.firstFailure ?? "")")

            // No key material in any output.
            let secret = String(keyText.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            for d in [ok, open, foreign, retired, edited, listed, unsigned] {
                let report = String(decoding: try d.report?.encoded() ?? Data(), as: UTF8.self)
                #expect(!(d.stdout + d.stderr).contains(secret) && !report.contains(secret))
            }
        } catch { await source.close(); throw error }
        await source.close()
    }
}
