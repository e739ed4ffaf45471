import AuditChain
import Drill
import Foundation
import Repository
import Sandbox
import Testing

/// What a database insider can put in a dump, caught: platform tables that are not ordinary tables (a view
/// that can answer each read differently), and customer-archived roots compared on what customers keep.
@Suite(.serialized) struct IntegrityTests {
    @Test("customer roots without signatures pass on a correct set; a changed leaf count is named; asked for and not runnable, roots.customer fails")
    func customerRoots() async throws {
        let source = try await DrillSource.make()
        do {
            let target = source.target("acp_audit")
            let roots = try await ChainCheck.roots(target)
            #expect(roots.count >= 2)
            // What a customer archives: the root and its range, no signature.
            func archive(_ roots: [TransparencyRoot], to path: String) throws {
                let lines = roots.map { #"{"day": "\#($0.day)", "first_id": \#($0.firstID), "last_id": \#($0.lastID), "leaf_count": \#($0.leafCount), "root_hash": "\#(ChainHash.hex($0.rootHash))"}"# }
                try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            }
            try archive(roots, to: "\(source.dir)/customer.jsonl")
            let repo = try await source.backup("customer")
            let ok = try await source.drill(repo, name: "customer-ok", ["--customer-roots", "\(source.dir)/customer.jsonl"])
            #expect(ok.code == 0, "\(ok.stdout)\n\(ok.stderr)")
            #expect(ok.check("roots.customer")?.status == .passed, "\(ok.check("roots.customer")?.evidence ?? "missing")")

            var changed = roots
            changed[1].leafCount += 1
            try archive(changed, to: "\(source.dir)/customer-changed.jsonl")
            let bad = try await source.drill(repo, name: "customer-changed", ["--customer-roots", "\(source.dir)/customer-changed.jsonl"])
            #expect(bad.code == 1)
            let evidence = bad.check("roots.customer")?.evidence ?? ""
            #expect(evidence.contains("day \(roots[1].day)") && evidence.contains("leaf_count \(roots[1].leafCount) vs \(roots[1].leafCount + 1)") && !evidence.contains("root_hash"), "\(evidence)")

            // A set without the audit chain: --customer-roots was asked for and cannot run.
            let other = try await source.backup("no-audit", databases: "acp_tenants")
            let none = try await source.drill(other, name: "customer-none", ["--customer-roots", "\(source.dir)/customer.jsonl"])
            #expect(none.code == 1 && none.check("roots.customer")?.status == .failed, "\(none.check("roots.customer")?.evidence ?? "missing")")
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("pinned transparency keys: the genuine keys pass; a key the dump brought (inserted by an insider, a root re-signed with it) fails verify_chain, named")
    func pinnedKeys() async throws {
        let source = try await DrillSource.make()
        do {
            let target = source.target("acp_audit")
            let keys = try await ChainCheck.keys(target)
            let lines = keys.map { k in
                #"{"key_id": "\#(k.keyID)", "public_key": "\#(ChainHash.hex(k.publicKey))", "valid_from": "\#(UTCTime.canonical(micros: k.validFrom))""#
                    + (k.validTo.map { #", "valid_to": "\#(UTCTime.canonical(micros: $0))"}"# } ?? "}")
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(source.dir)/pinned.jsonl", atomically: true, encoding: .utf8)
            let ok = try await source.drill(try await source.backup("pinned"), name: "pinned-ok", ["--transparency-keys", "\(source.dir)/pinned.jsonl"])
            #expect(ok.code == 0 && ok.check("verify_chain")?.status == .passed, "\(ok.stdout)\n\(ok.stderr)")

            // The insider adds a key of their own to the historical keys and re-signs a day's root with it:
            // the restored database vouches for it, so only pinning catches it.
            let rogue = try RootSigner(keyID: "rogue-2026", seed: Array(repeating: 9, count: 32))
            let root = try #require(try await ChainCheck.roots(target).dropFirst(1).first)
            try await source.psql("acp_audit", """
                INSERT INTO transparency_historical_keys VALUES ('rogue-2026', 'ed25519', '\\x\(ChainHash.hex(rogue.publicKey))', '2000-01-01', NULL);
                UPDATE transparency_roots SET key_id = 'rogue-2026', signature = '\\x\(ChainHash.hex(try rogue.sign(root.message)))' WHERE day = '\(root.day)';
                """)
            let d = try await source.drill(try await source.backup("rogue-key"), name: "pinned-rogue", ["--transparency-keys", "\(source.dir)/pinned.jsonl"])
            #expect(d.code == 1)
            let evidence = d.check("verify_chain")?.evidence ?? ""
            #expect(evidence.contains("key \"rogue-2026\" is in the restored transparency_historical_keys but not among the pinned transparency keys"), "\(evidence)")
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("a dump whose CHECK constraint runs COPY … FROM PROGRAM: restored as its own role without superuser, the program never runs, restore.<db> fails naming it; the other databases restore")
    func dumpCodeContained() async throws {
        let source = try await DrillSource.make()
        do {
            try await source.psql("postgres", "CREATE DATABASE shop")
            try await source.psql("shop", """
                CREATE FUNCTION audit_hook(v text) RETURNS boolean LANGUAGE plpgsql AS $$
                BEGIN
                  CREATE TEMP TABLE IF NOT EXISTS loot (line text);
                  COPY loot FROM PROGRAM 'id';
                  RETURN true;
                END $$;
                CREATE TABLE orders (item text CHECK (audit_hook(item)));
                INSERT INTO orders VALUES ('book');
                """)
            let d = try await source.drill(try await source.backup("contained", databases: "acp_tenants shop"), name: "contained")
            #expect(d.code == 1)
            let shop = try #require(d.check("restore.shop"))
            #expect(shop.status == .failed && shop.evidence.contains("restored as acp_restore_") && shop.evidence.contains("COPY to or from an external program"), "\(shop.evidence)")
            #expect(shop.fix?.contains("without superuser") == true)
            #expect(d.check("restore.acp_tenants")?.status == .passed && d.check("restore.acp_tenants")?.evidence.contains("(no superuser)") == true)
            #expect(d.report?.firstFailure?.hasPrefix("restore.shop") == true, "\(d.report?.firstFailure ?? "")")
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("transparency_roots replaced by a view (an insider's DDL): verify_chain refuses to read it, naming the table and its kind")
    func viewOverRoots() async throws {
        let source = try await DrillSource.make()
        do {
            try await source.psql("acp_audit", """
                ALTER TABLE transparency_roots RENAME TO transparency_roots_kept;
                CREATE FUNCTION roots_of_the_day() RETURNS SETOF transparency_roots_kept LANGUAGE sql AS 'SELECT * FROM transparency_roots_kept';
                CREATE VIEW transparency_roots AS SELECT * FROM roots_of_the_day();
                """)
            let d = try await source.drill(try await source.backup("view"), name: "view")
            #expect(d.code == 1)
            let evidence = d.check("verify_chain")?.evidence ?? ""
            #expect(d.check("verify_chain")?.status == .failed && evidence.contains("public.transparency_roots is a view, not an ordinary table"), "\(evidence)")
            #expect(d.lastLine.hasPrefix("Restore drill FAILED — verify_chain"), "\(d.lastLine)")
        } catch { await source.close(); throw error }
        await source.close()
    }
}
