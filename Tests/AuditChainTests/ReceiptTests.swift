import AuditChain
import Foundation
import Testing

/// Receipts: the line format round-trips whatever the fields hold, the reader refuses what is not a
/// receipt (naming why), the key layout sorts in id order, and the replayer's decisions, case by case.
@Suite struct ReceiptTests {
    static func chain(_ n: Int, after: (Int64, [UInt8]) = (0, ChainHash.genesis), start: Int64 = 1_779_000_000_000_000) -> [AuditRow] {
        var b = ChainBuilder(after: after.0, hash: after.1)
        return (0 ..< n).map { i in
            b.append(tenantID: "00000000-0000-4000-8000-00000000000\(i % 3)", occurredAt: start + Int64(i) * 250_000, actor: "user\(i)",
                     action: i % 2 == 0 ? "tool.execute" : "api.call", resource: "tool/search", payload: #"{"tool": "search", "units": \#(i % 7 + 1)}"#)
        }
    }

    @Test("a receipt line round-trips: quotes, backslashes, control characters, non-ASCII and astral scalars")
    func roundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{01}", "\u{1f}", "é", "—", "日", "\u{1F600}", "{", "}", ":", ","]
        for _ in 0 ..< 500 {
            func text() -> String {
                var s = String.UnicodeScalarView()
                for _ in 0 ..< Int.random(in: 0 ... 24, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
                return String(s)
            }
            var b = ChainBuilder(after: Int64.random(in: 0 ... 1 << 40, using: &rng), hash: (0 ..< 32).map { _ in UInt8.random(in: 0 ... 255, using: &rng) })
            let row = b.append(tenantID: text(), occurredAt: Int64.random(in: 0 ... 4_000_000_000_000_000, using: &rng), actor: text(), action: text(),
                               resource: text(), payload: text())
            let line = Receipt(row: row).line()
            #expect(line.hasSuffix("}\n") && line.dropLast().contains("\n") == false)
            let back = try Receipt.parse(String(line.dropLast()))
            #expect(back.row == row)
            #expect(back.recomputes)
        }
    }

    @Test("other writers' JSON: spaces, escaped slashes and \\u escapes, fields in any order, unknown fields ignored")
    func otherSpellings() throws {
        let row = Self.chain(1)[0]
        let good = try Receipt.parse(String(Receipt(row: row).line().dropLast()))
        let text = """
             { "row_hash" : "\(ChainHash.hex(row.rowHash))", "extra": 7, "prev_hash":"\(ChainHash.hex(row.prevHash))", "id": 1,
              "receipt":"acp-audit-receipt-v1", "tenant_id":"\(row.tenantID)", "occurred_at":"\(UTCTime.canonical(micros: row.occurredAt))",
              "actor":"\\u0075ser0", "action":"tool.execute", "resource":"tool\\/search", "payload":"{\\"tool\\": \\"search\\", \\"units\\": 1}" }
            """
        #expect(try Receipt.parse(text) == good)
    }

    @Test("what is not a receipt is refused, naming why", arguments: [
        ("", "not a JSON object"),
        ("[1]", "not a JSON object"),
        (#"{"receipt":"acp-audit-receipt-v2"}"#, "unknown receipt version"),
        (#"{"receipt":"acp-audit-receipt-v1","id":"7"}"#, "\"id\" is not a positive integer"),
        (#"{"receipt":"acp-audit-receipt-v1","id":0}"#, "\"id\" is not a positive integer"),
        (#"{"receipt":"acp-audit-receipt-v1","id":99999999999999999999}"#, "neither a string nor an integer"),
        (#"{"receipt":"acp-audit-receipt-v1","id":1,"id":2}"#, "\"id\" is given twice"),
        (#"{"receipt":"acp-audit-receipt-v1","id":1}"#, "\"occurred_at\" is missing"),
        (#"{"receipt":"acp-audit-receipt-v1","id":1,"occurred_at":"2026-05-16 10:00:00+00"}"#, "not the canonical"),
        (#"{"receipt":"acp-audit-receipt-v1","id":1,"occurred_at":"2026-05-16T10:00:00.000000Z","prev_hash":"00"}"#, "\"tenant_id\" is missing"),
        (#"{"receipt":"acp-audit-receipt-v1" "id":1}"#, "a ',' or '}' is missing"),
        (#"{"receipt":"acp-audit-receipt-v1","id":1} x"#, "text after the object"),
        ("{\"receipt\":\"acp-audit-receipt-v1\",\"actor\":\"a\u{01}b\"}", "a control character"),
        (#"{"receipt":"acp-audit-receipt-v1","actor":"\ud800"}"#, "a lone surrogate"),
        (#"{"receipt":"acp-audit-receipt-v1","actor":"\q"}"#, "an unknown escape"),
        (#"{"receipt":"acp-audit-receipt-v1","actor":"abc"#, "not closed"),
    ])
    func refused(text: String, expected: String) {
        #expect(throws: ReceiptParseError.self) { try Receipt.parse(text) }
        do { _ = try Receipt.parse(text) } catch { #expect(error.message.contains(expected), "\(error.message)") }
    }

    @Test("a hash that is not 64 hex digits is refused; invalid UTF-8 is refused")
    func badHashAndBytes() {
        let line = Receipt(row: Self.chain(1)[0]).line()
        let short = line.replacingOccurrences(of: "\"row_hash\":\"", with: "\"row_hash\":\"0")
        #expect(throws: ReceiptParseError.self) { try Receipt.parse(String(short.dropLast())) }
        var bytes = Array(line.utf8.dropLast())
        let at = bytes.firstIndex(of: UInt8(ascii: "u"))!  // inside "user0"
        bytes[at] = 0xff
        #expect(throws: ReceiptParseError.self) { try Receipt.parse(bytes[...]) }
    }

    @Test("keys: a batch's key round-trips and sorts in id order across days; other names are not keys", arguments: [
        ("2026-05-16/0000000000000012451-0000000000000012470.jsonl", true),
        ("2026-05-16/12451-12470.jsonl", false),
        ("2026-5-16/0000000000000012451-0000000000000012470.jsonl", false),
        ("2026-05-16/0000000000000012470-0000000000000012451.jsonl", false),
        ("2026-05-16/0000000000000012451-0000000000000012470.json", false),
        ("x/2026-05-16/0000000000000012451-0000000000000012470.jsonl", false),
        ("README.md", false),
    ])
    func keys(key: String, valid: Bool) {
        let parsed = ReceiptKey.parse(key)
        #expect((parsed != nil) == valid)
        if let parsed { #expect(parsed.description == key) }
    }

    @Test("keys sort by id, whatever the day's text")
    func keyOrder() {
        let rows = Self.chain(30)
        let keys = stride(from: 0, to: 30, by: 7).map { ReceiptKey(batch: Array(rows[$0 ..< min(30, $0 + 7)])) }
        #expect(keys.shuffled().sorted() == keys)
        #expect(keys.map(\.description).sorted() == keys.map(\.description))
        #expect(ReceiptKey.parse(keys[1].description) == keys[1])
    }

    @Test("replay: receipts the dump holds are skipped, the rest inserted in order; the dump's last row must match its receipt")
    func replayPasses() {
        let rows = Self.chain(10)
        var r = ReceiptReplayer(boundaryID: 4, boundaryHash: rows[3].rowHash)
        let decisions = rows.map { r.add(Receipt(row: $0), place: "p") }
        #expect(decisions == Array(repeating: .skip, count: 4) + Array(repeating: .insert, count: 6))
        #expect(r.inserted == 6 && r.lastID == 10 && r.lastTime == rows[9].occurredAt && r.stopped == nil)

        var other = ReceiptReplayer(boundaryID: 4, boundaryHash: rows[2].rowHash)
        #expect(other.add(Receipt(row: rows[3]), place: "b:4") == .stop(.boundaryMismatch(id: 4, place: "b:4")))
        // An empty table: the chain starts at genesis.
        var empty = ReceiptReplayer(boundaryID: 0, boundaryHash: [])
        #expect(rows.allSatisfy { empty.add(Receipt(row: $0), place: "p") == .insert })
    }

    @Test("replay stops at the first gap, duplicate, forged receipt or broken link, and refuses everything after it")
    func replayStops() {
        let rows = Self.chain(12)
        func run(_ list: [AuditRow]) -> (ReceiptReplayer, [ReceiptReplayer.Decision]) {
            var r = ReceiptReplayer(boundaryID: 2, boundaryHash: rows[1].rowHash)
            let d = list.enumerated().map { r.add(Receipt(row: $0.element), place: "line \($0.offset + 1)") }
            return (r, d)
        }
        // A gap: ids 6…8 missing.
        let (gap, gd) = run(Array(rows[0 ..< 5]) + Array(rows[8...]))
        #expect(gap.stopped == .gap(from: 6, to: 8, place: "line 6") && gap.inserted == 3 && gd.last == .stop(.gap(from: 6, to: 8, place: "line 6")))
        #expect(gap.stopped?.missing == 6 ... 8 && gap.stopped?.message.contains("ids 6…8 have no receipt (3 rows of data loss)") == true)
        // A duplicate id.
        let (dup, _) = run(Array(rows[0 ..< 6]) + [rows[5]] + Array(rows[6...]))
        #expect(dup.stopped == .duplicate(id: 6, place: "line 7") && dup.lastID == 6)
        // A forged receipt: a field changed, the hash left.
        var forged = rows
        forged[6].actor = "someone-else"
        let (f, _) = run(forged)
        #expect(f.stopped == .forged(id: 7, place: "line 7") && f.lastID == 6)
        // A forged receipt with its own hash recomputed: the next link breaks instead.
        forged[6].rowHash = ChainHash.rowHash(of: forged[6])
        let (relinked, _) = run(forged)
        #expect(relinked.stopped == .brokenLink(id: 8, place: "line 8") && relinked.lastID == 7)
        // --until: stops (not a failure) at the first receipt after it.
        var u = ReceiptReplayer(boundaryID: 2, boundaryHash: rows[1].rowHash, until: rows[6].occurredAt)
        for row in rows { _ = u.add(Receipt(row: row), place: "p") }
        #expect(u.stopped == .reachedUntil(id: 8) && u.stopped?.isFailure == false && u.lastID == 7 && u.inserted == 5)
        // An unreadable receipt stops the replay where it is.
        var bad = ReceiptReplayer(boundaryID: 0, boundaryHash: [])
        _ = bad.add(Receipt(row: rows[0]), place: "a")
        bad.unreadable(place: "b line 2", message: "not a JSON object")
        #expect(bad.add(Receipt(row: rows[1]), place: "c") == .stop(.unreadable(place: "b line 2", message: "not a JSON object")))
    }
}
