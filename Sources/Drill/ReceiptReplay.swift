public import AuditChain
import Common
import Foundation
public import Repository
import Sandbox
import Synchronization

/// Point-in-time recovery of the audit chain (docs/RECEIPTS.md): the receipts mirrored after the dump was
/// taken are replayed on top of the restored `audit_logs`, in id order, each verified before it is inserted
/// (`ReceiptReplayer`): it is the next id, it links to the previous `row_hash`, and its own `row_hash`
/// recomputes. The replay stops at the first receipt it cannot insert, names it, and inserts nothing past it.
///
/// Batches are listed by day from the dump's last row on (one listing per day), fetched up to `window` at
/// a time while earlier ones are verified, and the verified rows stream into one `COPY … FROM STDIN` in
/// the sandbox, run as the database's restore role: memory stays bounded by the window, whatever the
/// number of receipts.
struct ReceiptReplay: Sendable {
    let store: any ObjectStore
    /// Receipts written after this time (UTC microseconds) are not replayed (`--until`).
    let until: Int64?
    /// The restored audit database, as the superuser; the rows go in as `role`.
    let target: PostgresTarget
    let role: String
    var window = 16

    /// What a replay did.
    struct Outcome: Sendable {
        /// The dump's last row: its id (0 when the table is empty) and time.
        var boundaryID: Int64 = 0
        var boundaryTime: Int64?
        var replayed = 0
        /// The last inserted row's id and time (nil when none was).
        var lastID: Int64?
        var lastTime: Int64?
        var batches = 0
        var stop: ReceiptReplayer.Stop?
        /// The COPY failed in the database (nothing of this replay is in the table then).
        var insertError: String?
        var seconds: Double = 0

        var failed: Bool { insertError != nil || stop?.isFailure == true }
    }

    static let columns = "id, tenant_id, occurred_at, actor, action, resource, payload, prev_hash, row_hash"

    func run() async throws -> Outcome {
        let t0 = ContinuousClock.now
        let pinned = ChainCheck.pinned(target)
        try await ChainCheck.checkKinds(pinned)
        var outcome = Outcome()
        let tail = try await pinned.query("""
            SELECT id, encode(row_hash, 'hex'), to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') \
            FROM public.audit_logs ORDER BY id DESC LIMIT 1
            """).first
        outcome.boundaryID = tail.flatMap { Int64($0[0]) } ?? 0
        outcome.boundaryTime = tail.flatMap { UTCTime.parse($0[2]) }
        let boundaryHash = tail.flatMap { ChainHash.bytes(hex: $0[1]) } ?? ChainHash.genesis
        var replayer = ReceiptReplayer(boundaryID: outcome.boundaryID, boundaryHash: boundaryHash, until: until)

        let (keys, unreadable) = try await listBatches(after: outcome.boundaryID, since: outcome.boundaryTime)
        if let unreadable { replayer.unreadable(place: unreadable, message: "not a receipts batch name (<YYYY-MM-DD>/<first id>-<last id>.jsonl)") }

        // The COPY reads a pipe; verified rows are written to it as each batch is checked.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw QueryError(database: target.database, message: "replay: pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // No child process started meanwhile may hold the write end open (the COPY would never end).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        let sessionEnv = pinned.env
        let copy = Task {
            defer { close(readEnd) }
            return try await target.backend.run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "SET ROLE \"\(role)\"", "-c", "COPY public.audit_logs (\(Self.columns)) FROM STDIN"],
                in: target.service, env: sessionEnv, stdin: FileDescriptorInput(fd: readEnd))
        }
        let writer = PipeWriter(fd: writeEnd)
        do {
            try await forEachBatch(keys) { key, data in
                outcome.batches += 1
                var chunk: [UInt8] = []
                chunk.reserveCapacity(data.count + data.count / 4)
                var lineNumber = 0
                var stopped = false
                data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    var start = 0
                    while start < bytes.count, !stopped {
                        let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
                        lineNumber += 1
                        defer { start = end + 1 }
                        guard end > start else { continue }
                        let place = "\(key) line \(lineNumber)"
                        let receipt: Receipt
                        do { receipt = try Receipt.parse(ArraySlice(UnsafeBufferPointer(rebasing: bytes[start ..< end]))) } catch let error as ReceiptParseError {
                            replayer.unreadable(place: place, message: error.message)
                            stopped = true
                            return
                        } catch {
                            replayer.unreadable(place: place, message: "\(error)")
                            stopped = true
                            return
                        }
                        switch replayer.add(receipt, place: place) {
                        case .skip: continue
                        case .insert: Self.appendCopyLine(receipt.row, to: &chunk)
                        case .stop: stopped = true
                        }
                    }
                }
                if !chunk.isEmpty { try await writer.write(chunk) }
                return !stopped && replayer.stopped == nil
            }
        } catch {
            writer.close()
            _ = try? await copy.value
            throw error
        }
        writer.close()
        let result = try await copy.value
        if result.exitCode != 0 || writer.brokenPipe {
            outcome.insertError = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            if outcome.insertError?.isEmpty != false { outcome.insertError = "psql exited \(result.exitCode) before it read every row" }
        } else {
            outcome.replayed = replayer.inserted
        }
        outcome.stop = replayer.stopped
        if replayer.inserted > 0 {
            outcome.lastID = replayer.lastID
            outcome.lastTime = replayer.lastTime
        }
        outcome.seconds = (ContinuousClock.now - t0).inSeconds
        return outcome
    }

    /// The batches that can hold a receipt beyond `boundaryID` (and its own, to compare), in id order: the
    /// days from the dump's last row's (a day earlier, for a batch that began before midnight) up to
    /// `--until`'s, each listed on its own. Also the first name in a day folder that is not a batch's.
    func listBatches(after boundaryID: Int64, since: Int64?) async throws -> ([ReceiptKey], String?) {
        let store = self.store
        let firstDay = since.map { UTCTime.day(micros: $0 - 86_400_000_000) }
        let lastDay = until.map { UTCTime.day(micros: $0) }
        let days = try await BlockingExecutor.run("receipts") { try store.folders() }
            .filter { day in ReceiptKey.isDay(Substring(day)) && (firstDay.map { day >= $0 } ?? true) && (lastDay.map { day <= $0 } ?? true) }.sorted()
        var keys: [ReceiptKey] = []
        var unreadable: String?
        for day in days {
            let listed = try await BlockingExecutor.run("receipts") { try store.list(prefix: day + "/") }
            for object in listed {
                guard let key = ReceiptKey.parse(object.key) else {
                    if object.key.hasSuffix(ReceiptKey.suffix), unreadable == nil { unreadable = object.key }
                    continue
                }
                if key.lastID >= boundaryID { keys.append(key) }
            }
        }
        return (keys.sorted(), unreadable)
    }

    /// Fetches the batches `window` at a time and hands them to `body` in order; stops when it returns false.
    func forEachBatch(_ keys: [ReceiptKey], _ body: (String, Data) async throws -> Bool) async throws {
        let store = self.store
        try await withThrowingTaskGroup(of: (Int, Data).self) { group in
            var started = 0
            var ready: [Int: Data] = [:]
            func startMore(upTo limit: Int) {
                while started < keys.count, started < limit {
                    let (i, key) = (started, keys[started].description)
                    group.addTask { (i, try await BlockingExecutor.run("receipts") { try store.read(key) }) }
                    started += 1
                }
            }
            for next in keys.indices {
                startMore(upTo: next + window)
                while ready[next] == nil {
                    guard let (i, data) = try await group.next() else { break }
                    ready[i] = data
                }
                guard let data = ready.removeValue(forKey: next) else { break }
                if try await !body(keys[next].description, data) {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// One COPY text line of a verified row.
    static func appendCopyLine(_ row: AuditRow, to out: inout [UInt8]) {
        out += String(row.id).utf8
        out.append(9)
        out += row.tenantID.utf8
        out.append(9)
        out += UTCTime.canonical(micros: row.occurredAt).utf8
        for field in [row.actor, row.action, row.resource, row.payload] {
            out.append(9)
            out += CopyText.escape(field).utf8
        }
        out += "\t\\\\x".utf8
        out += ChainHash.hex(row.prevHash).utf8
        out += "\t\\\\x".utf8
        out += ChainHash.hex(row.rowHash).utf8
        out.append(10)
    }
}

/// The write end of the replay's pipe: each write on a thread of its own (a pipe blocks when the COPY reads
/// slower), EPIPE remembered rather than thrown (the COPY ended; its own error says why).
final class PipeWriter: Sendable {
    let fd: Int32
    private let state = Mutex((closed: false, broken: false))

    init(fd: Int32) { self.fd = fd }

    var brokenPipe: Bool { state.withLock { $0.broken } }

    func write(_ bytes: [UInt8]) async throws {
        guard !state.withLock({ $0.closed || $0.broken }) else { return }
        let fd = self.fd
        let broken = try await BlockingExecutor.run("replay") { () -> Bool in
            do { try bytes.withUnsafeBytes { try LocalWriteError.writeAll($0, to: fd, file: "the replay's pipe") } } catch let e as LocalWriteError where e.errno == EPIPE {
                return true
            }
            return false
        }
        if broken { state.withLock { $0.broken = true } }
    }

    func close() {
        let first = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        if first { Foundation.close(fd) }
    }
}
