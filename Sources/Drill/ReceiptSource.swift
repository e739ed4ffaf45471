public import AuditChain
import Common
public import Foundation
public import Repository

/// The receipts of a mirror, read for a replay (docs/RECEIPTS.md): the batches that can hold receipts beyond
/// a dump, listed by day (one listing per day), fetched `window` at a time while earlier ones are verified,
/// each receipt decided by a `ReceiptReplayer`, the verified rows handed on as COPY text. Memory is bounded
/// by the window, whatever the number of receipts.
public struct ReceiptSource: Sendable {
    public let store: any ObjectStore
    /// Receipts written after this time (UTC microseconds) are not replayed (`--until`).
    public let until: Int64?
    /// Batches fetched ahead of the one being verified.
    public var window: Int

    public init(store: any ObjectStore, until: Int64? = nil, window: Int = 16) {
        self.store = store
        self.until = until
        self.window = max(1, window)
    }

    /// The batches that can hold a receipt beyond `boundaryID` (and its own, to compare), in id order: the
    /// days from the dump's last row's (`since`; a day earlier, for a batch that began before midnight) up to
    /// `--until`'s, each listed on its own. Also the first name in a day folder that is not a batch's.
    public func batches(after boundaryID: Int64, since: Int64?) async throws -> (keys: [ReceiptKey], unreadable: String?) {
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

    /// Reads `keys` in order, each receipt decided by `replayer`; the rows it inserts go to `emit` as COPY
    /// text lines, one call per batch. Stops at the replayer's first stop. Returns how many batches it read.
    public func replay(_ keys: [ReceiptKey], into replayer: inout ReceiptReplayer, emit: ([UInt8]) async throws -> Void) async throws -> Int {
        var read = 0
        try await forEachBatch(keys) { key, data in
            read += 1
            var chunk: [UInt8] = []
            chunk.reserveCapacity(data.count + data.count / 4)
            Self.decide(data, key: key, replayer: &replayer) { Self.appendCopyLine($0, to: &chunk) }
            if !chunk.isEmpty { try await emit(chunk) }
            return replayer.stopped == nil
        }
        return read
    }

    /// Every receipt of one batch, in order, through `replayer`; `insert` gets the rows to insert.
    static func decide(_ data: Data, key: String, replayer: inout ReceiptReplayer, insert: (AuditRow) -> Void) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            var line = 0
            while start < bytes.count, replayer.stopped == nil {
                let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
                line += 1
                defer { start = end + 1 }
                guard end > start else { continue }
                let receipt: Receipt
                do throws(ReceiptParseError) { receipt = try Receipt.parse(ArraySlice(UnsafeBufferPointer(rebasing: bytes[start ..< end]))) } catch {
                    replayer.unreadable(place: "\(key) line \(line)", message: error.message)
                    return
                }
                if case .insert = replayer.add(receipt, place: "\(key) line \(line)") { insert(receipt.row) }
            }
        }
    }

    /// The floor a replay is measured against (`bench receipts`): the same batches fetched the same way and
    /// split into lines, nothing parsed or verified. Returns the lines read.
    public func readLines(_ keys: [ReceiptKey]) async throws -> Int {
        var lines = 0
        try await forEachBatch(keys) { _, data in
            lines += data.reduce(into: 0) { n, b in if b == 10 { n += 1 } }
            return true
        }
        return lines
    }

    /// Fetches the batches `window` at a time and hands them to `body` in order; stops when it returns false.
    func forEachBatch(_ keys: [ReceiptKey], _ body: (String, Data) async throws -> Bool) async throws {
        let store = self.store
        let window = self.window
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
        out += row.copyLine.utf8
        out.append(10)
    }
}
