import AuditChain
import Drill
import Fixture
import Foundation
import Repository
import Sandbox
import Testing

/// Point-in-time recovery of the audit chain from receipts, against the real daemon: the audit writer runs
/// while the nightly backup is taken and after it, and the drill replays the receipts beyond the dump. Then
/// the mirror is tampered with, one way per drill: a gap, a forged receipt, a duplicate, a receipt that does
/// not parse; and --until recovers to a point in time.
@Suite(.serialized) struct ReceiptsTests {
    /// A copy of the receipts folder to tamper with.
    static func copy(_ from: String, to: String) throws {
        try? FileManager.default.removeItem(atPath: to)
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    /// The batches of a receipts folder, in id order.
    static func batches(_ root: String) throws -> [(key: ReceiptKey, path: String)] {
        try LocalRepository(root: root).list(prefix: "").compactMap { o in ReceiptKey.parse(o.key).map { ($0, "\(root)/\(o.key)") } }.sorted { $0.key < $1.key }
    }

    static func receipts(in path: String) throws -> [Receipt] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try Receipt.parse(String($0)) }
    }

    @Test("the writer runs, a backup is taken, more rows come: the drill replays them, verify_chain covers them, the data loss is under 60 s; a gap, a forged receipt, a duplicate, an unreadable receipt and --until each behave as described")
    func replay() async throws {
        let source = try await DrillSource.make()
        let mirror = "\(source.dir)/receipts"
        do {
            let pg = try #require(source.sandbox.service(role: .postgres))
            let store = LocalRepository(root: mirror)
            let writer = AuditWriter(sandbox: source.sandbox, postgres: pg, password: source.password, rate: 40) { key, data in
                try store.put(key.description, data: data)
            }
            let running = Task { try await writer.run() }
            try await Task.sleep(for: .seconds(3))
            let repo = try await source.backup("rpo")
            try await Task.sleep(for: .seconds(4))
            writer.stop()
            let written = try await running.value
            #expect(written.rowsWritten > 200 && written.receiptsMirrored == written.rowsWritten && written.pendingBatches == 0, "\(written)")
            let newest = written.lastMirroredID
            let all = try Self.batches(mirror)
            #expect(all.first?.key.firstID == 12_451 && all.last?.key.lastID == newest)

            // The whole story: replayed to the newest receipt, the chain verified over it, reconcile bounded.
            let ok = try await source.drill(repo, name: "rpo-ok", ["--receipts", mirror])
            #expect(ok.code == 0, "\(ok.stdout)\n\(ok.stderr)")
            let rpo = try #require(ok.report?.rpo)
            #expect(rpo.receiptsReplayed > 0 && rpo.recoveredLastID == newest && rpo.gaps.isEmpty, "\(rpo)")
            #expect(rpo.dumpLastID.map { $0 + Int64(rpo.receiptsReplayed) } == newest)
            #expect(rpo.dataLossSeconds < 60 && rpo.recoveredUntil == UTCTime.canonical(micros: written.lastMirroredAt), "\(rpo)")
            #expect(ok.report?.chainRowsVerified == newest && ok.check("verify_chain")?.evidence.contains("ids 1…\(newest)") == true,
                    "\(ok.check("verify_chain")?.evidence ?? "missing")")
            #expect(ok.check("replay")?.status == .passed && ok.check("replay")?.evidence.contains("ids \(rpo.dumpLastID! + 1)…\(newest)") == true)
            #expect(ok.check("reconcile")?.status == .passed && ok.check("reconcile")?.evidence.contains("replayed from receipts") == true,
                    "\(ok.check("reconcile")?.evidence ?? "missing")")
            #expect(ok.check("smoke.audit_logs")?.status == .passed && ok.check("smoke.audit_logs")?.evidence.contains("= \(newest); the source held \(rpo.dumpLastID!) + \(rpo.receiptsReplayed) replayed") == true,
                    "\(ok.check("smoke.audit_logs")?.evidence ?? "missing")")
            #expect(ok.check("rows.acp_audit")?.status == .passed && ok.check("rows.acp_audit")?.evidence.contains("(+ \(rpo.receiptsReplayed) replayed)") == true,
                    "\(ok.check("rows.acp_audit")?.evidence ?? "missing")")
            #expect(ok.stdout.contains("recovery point: restored to \(rpo.recoveredUntil)"))
            let prom = try String(contentsOfFile: "\(source.dir)/out-rpo-ok/drill.prom", encoding: .utf8)
            #expect(prom.contains("acp_drill_rpo_seconds ") && prom.contains("acp_drill_receipts_replayed \(rpo.receiptsReplayed)"))
            let junit = try String(contentsOfFile: "\(source.dir)/out-rpo-ok/junit.xml", encoding: .utf8)
            #expect(junit.contains("<property name=\"acp_drill_rpo_seconds\""))
            let boundary = try #require(rpo.dumpLastID)
            // The batches wholly after the dump's boundary, to tamper with.
            let after = all.filter { $0.key.firstID > boundary + 1 }
            try #require(after.count >= 4, "enough batches after the dump")

            // A gap: one batch lost. Data loss, named with its ids; the chain before it is recovered and verified.
            let gapped = "\(source.dir)/receipts-gap"
            try Self.copy(mirror, to: gapped)
            let lost = after[1].key
            try FileManager.default.removeItem(atPath: after[1].path.replacingOccurrences(of: mirror, with: gapped))
            let gap = try await source.drill(repo, name: "rpo-gap", ["--receipts", gapped])
            #expect(gap.code == 1)
            let gapEvidence = gap.check("replay")?.evidence ?? ""
            #expect(gap.check("replay")?.status == .failed && gapEvidence.contains("ids \(lost.firstID)…\(lost.lastID) have no receipt"), "\(gapEvidence)")
            #expect(gap.report?.rpo?.gaps == [.init(from: lost.firstID, to: lost.lastID)] && gap.report?.rpo?.recoveredLastID == lost.firstID - 1)
            #expect(gap.check("verify_chain")?.status == .passed && gap.report?.chainRowsVerified == lost.firstID - 1, "nothing past the gap is inserted")
            #expect(gap.report?.firstFailure?.hasPrefix("replay:") == true)

            // A forged receipt: a field changed, its hash left as it was.
            let forgedDir = "\(source.dir)/receipts-forged"
            try Self.copy(mirror, to: forgedDir)
            let victimPath = after[2].path.replacingOccurrences(of: mirror, with: forgedDir)
            var receipts = try Self.receipts(in: victimPath)
            receipts[1].row.payload = #"{"tool": "web.search", "units": 1, "latency_ms": 1}"#
            try receipts.map { $0.line() }.joined().write(toFile: victimPath, atomically: true, encoding: .utf8)
            let forged = try await source.drill(repo, name: "rpo-forged", ["--receipts", forgedDir])
            let forgedID = receipts[1].id
            #expect(forged.code == 1 && forged.check("replay")?.evidence.contains("the receipt of id \(forgedID) is forged or altered") == true,
                    "\(forged.check("replay")?.evidence ?? "missing")")
            #expect(forged.report?.chainRowsVerified == forgedID - 1 && forged.report?.rpo?.recoveredLastID == forgedID - 1)

            // A duplicate id: a batch holding a receipt already replayed.
            let dupDir = "\(source.dir)/receipts-dup"
            try Self.copy(mirror, to: dupDir)
            let again = try Self.receipts(in: after[0].path)[0]
            let dupKey = ReceiptKey(day: after[0].key.day, firstID: after[0].key.lastID, lastID: after[0].key.lastID)
            try again.line().write(toFile: "\(dupDir)/\(dupKey)", atomically: true, encoding: .utf8)
            let dup = try await source.drill(repo, name: "rpo-dup", ["--receipts", dupDir])
            #expect(dup.code == 1 && dup.check("replay")?.evidence.contains("id \(again.id) has a second receipt") == true, "\(dup.check("replay")?.evidence ?? "missing")")

            // A receipt that does not parse: named with its object and line.
            let badDir = "\(source.dir)/receipts-bad"
            try Self.copy(mirror, to: badDir)
            let badPath = after[3].path.replacingOccurrences(of: mirror, with: badDir)
            var lines = try String(contentsOfFile: badPath, encoding: .utf8).split(separator: "\n").map(String.init)
            lines[2] = String(lines[2].prefix(40))
            try (lines.joined(separator: "\n") + "\n").write(toFile: badPath, atomically: true, encoding: .utf8)
            let bad = try await source.drill(repo, name: "rpo-bad", ["--receipts", badDir])
            let badEvidence = bad.check("replay")?.evidence ?? ""
            #expect(bad.code == 1 && badEvidence.contains("\(after[3].key) line 3: the receipt does not parse"), "\(badEvidence)")
            #expect(bad.report?.chainRowsVerified == after[3].key.firstID + 1, "the two receipts before it are replayed")

            // --until: recovered to a point in time, the loss measured to it.
            let target = try Self.receipts(in: after[1].path)[3]
            let until = try await source.drill(repo, name: "rpo-until", ["--receipts", mirror, "--until", UTCTime.canonical(micros: target.row.occurredAt)])
            #expect(until.code == 0, "\(until.stdout)\n\(until.stderr)")
            #expect(until.report?.rpo?.recoveredLastID == target.id && until.report?.chainRowsVerified == target.id && until.report?.rpo?.dataLossSeconds == 0)
            #expect(until.check("replay")?.evidence.contains("stopped at --until") == true)
            // --until before the dump: a dump cannot be rolled back.
            let early = try await source.drill(repo, name: "rpo-early", ["--receipts", mirror, "--until", "2026-01-01T00:00:00Z"])
            #expect(early.code == 1 && early.check("replay")?.evidence.contains("a dump cannot be rolled back") == true)
        } catch { await source.close(); throw error }
        await source.close()
    }

    @Test("the writer as a command mirrors to S3 with server-side encryption, stops on SIGTERM after its second in flight; the drill replays from S3")
    func s3() async throws {
        let endpoint = try #require(ProcessInfo.processInfo.environment["ACP_TEST_S3_ENDPOINT"], "scripts/test.sh starts moto")
        let source = try await DrillSource.make()
        let creds = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"]
        let bucket = "acp-receipts-\(UUID().uuidString.prefix(6).lowercased())"
        do {
            let s3 = try S3Client(endpoint: endpoint, environment: creds, logger: quietLogger)
            try s3.createBucket(bucket)
            let env = creds.merging(["ACP_RECEIPTS_S3_BUCKET": "s3://\(bucket)/prod", "ACP_RECEIPTS_S3_ENDPOINT": endpoint]) { $1 }
            let project = try #require(source.sandbox.service(role: .postgres).map { _ in source.sandbox.project.name })
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: acpDrillBinary)
            writer.arguments = ["demo", "prod", "writer", "--rate", "30", "--project", project]
            writer.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let out = Pipe()
            writer.standardOutput = out
            writer.standardError = out
            try writer.run()
            try await Task.sleep(for: .seconds(3))
            let repo = try await source.backup("rpo-s3")
            try await Task.sleep(for: .seconds(3))
            kill(writer.processIdentifier, SIGTERM)
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            writer.waitUntilExit()
            #expect(writer.terminationStatus == 0 && text.contains("audit writer stopped: "), "\(text)")

            let keys = try s3.list(bucket: bucket, prefix: "prod/").keys
            #expect(keys.count >= 5)
            let head = try await run(["env", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1",
                                      "aws", "--endpoint-url", endpoint, "s3api", "head-object", "--bucket", bucket, "--key", try #require(keys.last?.key)])
            #expect(head.contains("\"ServerSideEncryption\": \"AES256\""), "\(head)")

            let d = try await source.drill(repo, name: "rpo-s3", env: env)
            #expect(d.code == 0, "\(d.stdout)\n\(d.stderr)")
            let rpo = try #require(d.report?.rpo)
            let newest = try #require(keys.compactMap { ReceiptKey.parse(String($0.key.dropFirst("prod/".count))) }.map(\.lastID).max())
            #expect(rpo.receiptsReplayed > 0 && rpo.recoveredLastID == newest && rpo.dataLossSeconds < 60 && rpo.receipts?.hasPrefix("s3://\(bucket)/prod") == true, "\(rpo)")
            for k in keys { try s3.delete(bucket: bucket, key: k.key) }
        } catch { await source.close(); throw error }
        await source.close()
    }
}
