import ArgumentParser
import AuditChain
import Common
import Drill
import Foundation
import Repository

/// `acp-drill bench receipts`: how fast a replay reads and verifies receipts, against reading the same
/// receipts with no verification.
struct BenchReceiptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts",
        abstract: "Measure the receipts replay: receipts/s listed, fetched, parsed and verified, against reading them unverified.",
        discussion: prose("""
            A chain of --count receipts is written as the audit writer writes it, in batches of --batch (one
            batch a second: --batch is the audit service's rows per second), to a private folder and, with
            --s3-endpoint, to a bucket there (AWS_* credentials from the environment; moto on loopback in the
            tests). For each store, the replay's reader (docs/RECEIPTS.md) lists the batches by day, fetches
            them 16 at a time and verifies every receipt (the next id, its link, its row_hash recomputed),
            producing the COPY text the drill streams into the restored database; the floor is the same
            listing and fetching, the lines only split. Goals: ≥ 20,000 receipts/s from a folder, ≥ 5,000/s
            from S3. Peak RSS is printed: memory is bounded by the window of batches, not by --count. The
            insertion into the restored database is the drill's own `replay` check, whose evidence gives
            its rate. A measurement, not a test.
            """)
    )

    @Option(help: "Receipts in the chain.") var count = 200_000
    @Option(help: "Receipts per batch object (the audit service's rows per second).") var batch = 200
    @Option(help: ArgumentHelp("Also measure from a bucket at this S3-compatible endpoint.", valueName: "url")) var s3Endpoint: String?
    @Option(help: "Runs of each measurement (the median is printed).") var runs = 3

    func validate() throws {
        guard count >= 1000, batch >= 1, runs >= 1 else { throw ValidationError("--count ≥ 1000, --batch ≥ 1, --runs ≥ 1") }
    }

    func run() async throws {
        let environment = CommandEnvironment.read()
        let command = self
        try await interruptible {
            try await BenchDrillCommand.withWorkFolder("receipts") { work in
                let folder = LocalRepository(root: "\(work)/receipts")
                var s3: (any ObjectStore)?
                if let endpoint = command.s3Endpoint {
                    let bucket = "acp-bench-receipts-\(UUID().uuidString.prefix(8).lowercased())"
                    try S3Client(endpoint: endpoint, environment: environment, logger: .init(label: "bench")).createBucket(bucket)
                    s3 = try SetLayout.open(.s3(url: "s3://\(bucket)/receipts", endpoint: endpoint), environment: environment, logger: .init(label: "bench"),
                                            serverSideEncryption: RepositoryLocation.receiptsServerSideEncryption)
                }
                // The objects it wrote are removed; the bucket stays, empty.
                defer { if let s3 { for o in (try? s3.list(prefix: "")) ?? [] { try? s3.delete(o.key) } } }
                printError("writing \(command.count) receipts in batches of \(command.batch)…")
                let bytes = try await Self.write(count: command.count, batch: command.batch, to: [folder] + (s3.map { [$0] } ?? []))
                printError(String(format: "  %.1f MB of receipts (%.0f bytes each)", Double(bytes) / 1e6, Double(bytes) / Double(command.count)))
                let rssBefore = Self.peakRSS()
                var lines = [String]()
                for (name, store, goal) in [("folder", folder as any ObjectStore, 20_000.0)] + (s3.map { [("S3", $0, 5_000.0)] } ?? []) {
                    let (replay, floor) = try await Self.measure(store, count: command.count, runs: command.runs)
                    lines.append(String(format: "from %@: replay (list, fetch, parse, verify) %.0f receipts/s, goal ≥ %.0f/s — %.2f× the goal; floor (list, fetch, split lines) %.0f/s — the replay runs at %.2f× its floor",
                                        name, replay, goal, replay / goal, floor, replay / floor))
                }
                for line in lines { print(line) }
                print(String(format: "peak RSS %.1f MiB (%.1f MiB before the replays): bounded by 16 batches in flight, not by the %d receipts",
                             Self.peakRSS(), rssBefore, command.count))
            }
        }
    }

    /// Writes the chain's batches to every store concurrently (8 uploads at a time); returns the bytes of one copy.
    static func write(count: Int, batch: Int, to stores: [any ObjectStore]) async throws -> Int {
        var chain = ChainBuilder()
        let start = Int64(Date().timeIntervalSince1970 - 3600) * 1_000_000
        var total = 0
        var pending: [(String, Data)] = []
        func flush() async throws {
            let work = pending
            pending.removeAll()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (key, data) in work {
                    for store in stores { group.addTask { try await BlockingExecutor.run("bench") { try store.put(key, data: data) } } }
                }
                try await group.waitForAll()
            }
        }
        var i = 0
        while i < count {
            let n = min(batch, count - i)
            let rows = (0 ..< n).map { k in
                let j = i + k
                return chain.append(tenantID: "00000000-0000-4000-8000-0000000000\(String(format: "%02d", j % 7))", occurredAt: start + Int64(j) * 1_000_000 / Int64(batch),
                                    actor: "user\(j % 40)", action: j % 10 < 7 ? "tool.execute" : "user.login", resource: "tool/web.search",
                                    payload: #"{"tool": "web.search", "units": \#(j % 20 + 1), "latency_ms": \#(20 + j % 900)}"#)
            }
            let data = Data(rows.map { Receipt(row: $0).line() }.joined().utf8)
            total += data.count
            pending.append((ReceiptKey(batch: rows).description, data))
            if pending.count >= 8 { try await flush() }
            i += n
        }
        try await flush()
        return total
    }

    /// The medians of the replay's and the floor's receipts/s.
    static func measure(_ store: any ObjectStore, count: Int, runs: Int) async throws -> (Double, Double) {
        var replay: [Double] = [], floor: [Double] = []
        for _ in 0 ..< runs {
            let source = ReceiptSource(store: store)
            var t0 = ContinuousClock.now
            let (keys, _) = try await source.batches(after: 0, since: nil)
            var replayer = ReceiptReplayer(boundaryID: 0, boundaryHash: [])
            var copied = 0
            _ = try await source.replay(keys, into: &replayer) { copied += $0.count }
            guard replayer.stopped == nil, replayer.inserted == count else {
                throw ValidationError("the replay stopped: \(replayer.stopped?.message ?? "\(replayer.inserted) of \(count) receipts")")
            }
            replay.append(Double(count) / (ContinuousClock.now - t0).inSeconds)
            t0 = ContinuousClock.now
            let (again, _) = try await source.batches(after: 0, since: nil)
            let lines = try await source.readLines(again)
            guard lines == count else { throw ValidationError("the floor read \(lines) of \(count) receipts") }
            floor.append(Double(count) / (ContinuousClock.now - t0).inSeconds)
        }
        return (replay.sorted()[runs / 2], floor.sorted()[runs / 2])
    }

    /// This process's peak resident set, in MiB.
    static func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
