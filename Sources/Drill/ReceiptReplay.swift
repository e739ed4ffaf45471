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
/// The receipts are read and verified by `ReceiptSource`; the verified rows stream into one
/// `COPY … FROM STDIN` in the sandbox, run as the database's restore role: memory stays bounded by the
/// source's window, whatever the number of receipts.
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

        let receipts = ReceiptSource(store: store, until: until, window: window)
        let (keys, unreadable) = try await receipts.batches(after: outcome.boundaryID, since: outcome.boundaryTime)
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
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "SET ROLE \"\(role)\"", "-c", "COPY public.audit_logs (\(AuditRow.copyColumns)) FROM STDIN"],
                in: target.service, env: sessionEnv, stdin: FileDescriptorInput(fd: readEnd))
        }
        let writer = PipeWriter(fd: writeEnd)
        do {
            outcome.batches = try await receipts.replay(keys, into: &replayer) { chunk in try await writer.write(chunk) }
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
