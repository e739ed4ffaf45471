import Backup
import Evidence
import Foundation
import Repository
import Testing

/// Source evidence end to end (docs/EVIDENCE.md), on a database none of the platform's: an application
/// owner role and a read-only role's grants, a non-public schema, contrib extensions, a large object, a
/// partitioned table, a materialized view, a row-level policy, and a LATIN1 database beside it.
@Suite(.serialized) struct EvidenceDrillTests {
    static let shop = """
        CREATE EXTENSION citext; CREATE EXTENSION pgcrypto;
        SET ROLE shop_owner;
        CREATE SCHEMA sales;
        CREATE TABLE sales.orders (id bigserial PRIMARY KEY, email citext NOT NULL, placed date NOT NULL, total numeric(10,2) CHECK (total >= 0), note text);
        CREATE TABLE sales.events (id bigint, at date NOT NULL, kind text) PARTITION BY RANGE (at);
        CREATE TABLE sales.events_2026 PARTITION OF sales.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE sales.events_2025 PARTITION OF sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO sales.orders (email, placed, total) SELECT 'u' || g || '@example.org', '2026-01-01'::date + g % 300, g FROM generate_series(1, 2000) g;
        INSERT INTO sales.events SELECT g, '2025-06-01'::date + g % 400, 'k' FROM generate_series(1, 500) g;
        CREATE MATERIALIZED VIEW sales.daily AS SELECT placed, count(*) AS n FROM sales.orders GROUP BY placed;
        CREATE INDEX ON sales.orders (placed);
        ALTER TABLE sales.orders ENABLE ROW LEVEL SECURITY;
        CREATE POLICY readers ON sales.orders FOR SELECT TO shop_ro USING (total > 0);
        GRANT USAGE ON SCHEMA sales TO shop_ro;
        GRANT SELECT ON ALL TABLES IN SCHEMA sales TO shop_ro;
        ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT ON TABLES TO shop_ro;
        SELECT lo_from_bytea(0, 'an invoice scan');
        RESET ROLE;
        """

    @Test("evidence: a general database drills PASS with rows, schema, grants, roles and coverage compared; a lossy dump, a dropped column and a revoked grant fail naming them; an uncovered database fails the backup and coverage; an old-format set skips the comparisons, saying why; no password anywhere")
    func evidence() async throws {
        let source = try await DrillSource.make()
        do {
            for sql in ["CREATE ROLE shop_owner LOGIN PASSWORD 'owner-secret-7Qx'", "CREATE ROLE shop_ro NOLOGIN",
                        "CREATE ROLE analyst LOGIN PASSWORD 'analyst-secret-9Zk' IN ROLE shop_ro", "CREATE DATABASE shop OWNER shop_owner",
                        "CREATE DATABASE legacy TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'", "ALTER DATABASE shop SET work_mem = '8MB'"] {
                try await source.psql("postgres", sql)
            }
            try await source.psql("shop", Self.shop)
            try await source.psql("legacy", "CREATE TABLE names (n text); INSERT INTO names VALUES ('Müller'), ('Ångström');")
            let databases = "acp_audit acp_tenants shop legacy"
            let good = try await source.backup("good", databases: databases)
            let set = try #require(try LocalRepository(root: good).completeSets().first)
            let manifest = try Manifest.decode(try LocalRepository(root: good).read("\(set)/manifest.json"))
            #expect(manifest.format == 2 && manifest.evidence?["shop"]?.rows["sales.orders"] == 2000 && manifest.evidence?["shop"]?.largeObjects == 1)
            #expect(manifest.evidence?["legacy"]?.database.encoding == "LATIN1")
            #expect(manifest.roles?.first { $0.name == "analyst" }?.memberOf == ["shop_ro"])
            #expect(manifest.coverage?.excluded.contains("acp_billing") == true && manifest.coverage?.uncovered == [])
            // The globals object holds the roles and no password.
            let globals = try await run(["age", "--decrypt", "-i", "\(source.dir)/id.txt", "\(good)/\(set)/globals.sql.age"])
            #expect(globals.contains("CREATE ROLE shop_owner;") && globals.contains("GRANT shop_ro TO analyst"))
            #expect(!globals.contains("owner-secret") && !globals.contains("SCRAM-SHA-256"), "no password in the globals object")

            let d = try await source.drill(good, name: "good", ["--keep", "--keep-ttl", "10m"], env: ["RESTORE_DB_PASSWORD": "drill-login-4Tq"])
            #expect(d.code == 0, "\(d.stdout)\n\(d.stderr)")
            for name in ["rows.shop", "schema.shop", "grants.shop", "rows.legacy", "schema.legacy", "grants.legacy", "roles", "coverage", "smoke.audit_logs"] {
                #expect(d.check(name)?.status == .passed, "\(name): \(d.check(name)?.evidence ?? "missing")")
            }
            #expect(d.check("rows.shop")?.evidence.contains("4 table(s), 2800 rows") == true, "\(d.check("rows.shop")?.evidence ?? "")")
            // The kept copy runs as the application would: its owner role logs in with the drill's password.
            let project = try #require(d.report?.sandbox?.project)
            #expect(d.stdout.contains("login roles connect with the password drill-login-4Tq"))
            let reportText = try String(contentsOfFile: "\(source.dir)/out-good/reports/\(try #require(d.report?.id)).json", encoding: .utf8)
            #expect(!reportText.contains("drill-login-4Tq") && !reportText.contains("owner-secret"), "no password in the report")
            let (asOwner, ownerOut) = try await runCLI(["exec", project, "postgres", "--", "sh", "-c",
                                                        "PGPASSWORD=drill-login-4Tq psql -X -At -h 127.0.0.1 -U shop_owner -d shop -c 'SELECT count(*) FROM sales.orders'"], environment: [:])
            #expect(asOwner == 0 && ownerOut.contains("2000"), "\(ownerOut)")
            let (asReader, readerOut) = try await runCLI(["exec", project, "postgres", "--", "sh", "-c",
                                                          "PGPASSWORD=drill-login-4Tq psql -X -At -h 127.0.0.1 -U analyst -d shop -c 'INSERT INTO sales.events VALUES (1, now(), 1)'"], environment: [:])
            #expect(asReader != 0 && readerOut.contains("permission denied"), "the read-only role cannot write: \(readerOut)")
            _ = try await runCLI(["down", project], environment: [:])

            // Production changes after the good set: 10 rows lost, a column dropped, a grant revoked, and a new
            // database nobody added to DATABASES.
            try await source.psql("shop", """
                DELETE FROM sales.orders WHERE id <= 10; ALTER TABLE sales.orders DROP COLUMN note; REVOKE SELECT ON sales.daily FROM shop_ro;
                """)
            try await source.psql("postgres", "CREATE DATABASE forgotten")
            var env = ["ACP_BACKUP_AGE_RECIPIENT": source.recipient, "PGPASSWORD": source.password, "POSTGRES_HOST": source.host, "DATABASES": databases,
                       "ACP_BACKUP_EXCLUDE": BackupConfig.defaultDatabases.filter { !databases.contains($0) }.joined(separator: " ")]
            let (dryCode, dryOut) = try await runCLI(["backup", "--dry-run", "--repo", "\(source.dir)/dry"], environment: env)
            #expect(dryCode == 1 && dryOut.contains("FAILED coverage: database forgotten is on the server"), "\(dryOut)")
            let (code, out) = try await runCLI(["backup", "--no-verify", "--repo", "\(source.dir)/uncovered"], environment: env)
            #expect(code == 1 && out.contains("FAILED coverage: database forgotten"), "\(out)")
            env["ACP_BACKUP_EXCLUDE"]! += " forgotten"
            let (dryExcluded, _) = try await runCLI(["backup", "--dry-run", "--repo", "\(source.dir)/dry"], environment: env)
            #expect(dryExcluded == 0, "excluded on purpose")
            let uncovered = try await source.drill("\(source.dir)/uncovered", name: "uncovered")
            #expect(uncovered.code == 1 && uncovered.check("coverage")?.status == .failed)
            #expect(uncovered.check("coverage")?.evidence.contains("forgotten") == true)

            // The bucket writer's splice: the new shop dump into the good set, its checksum rewritten.
            let lossy = "\(source.dir)/lossy"
            try FileManager.default.copyItem(atPath: good, toPath: lossy)
            let newSet = try #require(try LocalRepository(root: "\(source.dir)/uncovered").completeSets().first)
            try FileManager.default.removeItem(atPath: "\(lossy)/\(set)/shop.dump.age")
            try FileManager.default.copyItem(atPath: "\(source.dir)/uncovered/\(newSet)/shop.dump.age", toPath: "\(lossy)/\(set)/shop.dump.age")
            var spliced = manifest
            let (size, digest) = try FileDigest.sha256(path: "\(lossy)/\(set)/shop.dump.age")
            spliced.objects = spliced.objects.map { o in
                var o = o
                if o.database == "shop" { o.size = size; o.sha256 = digest }
                return o
            }
            try spliced.encoded().write(to: URL(fileURLWithPath: "\(lossy)/\(set)/manifest.json"))
            let l = try await source.drill(lossy, name: "lossy")
            #expect(l.code == 1)
            #expect(l.check("checksum.shop")?.status == .passed && l.check("restore.shop")?.status == .passed, "the splice restores")
            let rows = l.check("rows.shop")?.evidence ?? ""
            #expect(l.check("rows.shop")?.status == .failed && rows.contains("sales.orders: 1990 rows restored, 2000 in the source (10 missing)"), "\(rows)")
            let schema = l.check("schema.shop")?.evidence ?? ""
            #expect(l.check("schema.shop")?.status == .failed && schema.contains("column sales.orders.note: in the source (text), not restored"), "\(schema)")
            let grants = l.check("grants.shop")?.evidence ?? ""
            #expect(l.check("grants.shop")?.status == .failed && grants.contains("materialized view sales.daily") && grants.contains("shop_ro=r/shop_owner"), "\(grants)")
            #expect(l.check("rows.legacy")?.status == .passed && l.check("rows.acp_audit")?.status == .passed)

            // A set of the first format: no evidence, no globals; it drills, its comparisons skipped, saying why.
            // (Without its roles, shop's policy could not restore: the old format restores the others.)
            let old = "\(source.dir)/old"
            try FileManager.default.copyItem(atPath: good, toPath: old)
            try FileManager.default.removeItem(atPath: "\(old)/\(set)/globals.sql.age")
            try FileManager.default.removeItem(atPath: "\(old)/\(set)/shop.dump.age")
            var v1 = manifest
            v1.format = 1
            v1.evidence = nil
            v1.roles = nil
            v1.coverage = nil
            v1.objects.removeAll { $0.kind == "globals" || $0.database == "shop" }
            v1.databases.removeAll { $0 == "shop" }
            try v1.encoded().write(to: URL(fileURLWithPath: "\(old)/\(set)/manifest.json"))
            let o = try await source.drill(old, name: "old")
            #expect(o.code == 0, "\(o.stdout)")
            for name in ["rows.legacy", "schema.legacy", "grants.acp_audit", "roles", "coverage"] {
                #expect(o.check(name)?.status == .skipped && o.check(name)?.evidence.contains("carries no source evidence") == true, "\(name): \(o.check(name)?.evidence ?? "missing")")
            }
            for text in [d.stdout + d.stderr, l.stdout + l.stderr, o.stdout, out, dryOut] {
                #expect(!text.contains("owner-secret") && !text.contains("analyst-secret"), "no source password anywhere")
            }
        } catch { await source.close(); throw error }
        await source.close()
    }
}
