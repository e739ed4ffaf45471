import Foundation
import Repository

/// One psql session on the source that holds a REPEATABLE READ, READ ONLY transaction open and exports its
/// snapshot, so that `pg_dump --snapshot` dumps exactly what this session's evidence queries read
/// (docs/EVIDENCE.md). Statements go to psql's standard input and each answers one line; the password
/// reaches psql through its environment only. Blocking: use it from a thread of its own.
final class SnapshotSession: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let errorText = ErrorBuffer()
    private var buffer: [UInt8] = []
    let database: String
    /// The exported snapshot's id, for `pg_dump --snapshot`.
    private(set) var snapshot = ""
    /// When the snapshot was taken (the exporting statement's start, UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`).
    private(set) var takenAt = ""

    init(database: String, environment: [String: String]) throws {
        self.database = database
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "--no-password", "--dbname", database]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let (handle, box) = (errors.fileHandleForReading, errorText)
        Thread {
            box.set(handle.readDataToEndOfFile().prefix(8192))
            box.done.signal()
        }.start()
        // Timeouts the role may carry would end an idle-in-transaction session while pg_dump runs.
        let opened = try line(for: EvidenceSessionSQL.open).split(separator: "|", maxSplits: 1).map(String.init)
        snapshot = opened.first ?? ""
        takenAt = opened.count > 1 ? opened[1] : ""
    }

    /// Sends one statement and returns the one line it prints.
    func line(for sql: String) throws -> String {
        try send(sql)
        return try readLine()
    }

    private func send(_ sql: String) throws {
        do { try input.fileHandleForWriting.write(contentsOf: Data((sql + "\n").utf8)) } catch {
            throw failure("psql stopped reading")
        }
    }

    private func readLine() throws -> String {
        let fd = output.fileHandleForReading.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("psql ended before answering") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    /// Ends the transaction (nothing was written) and the session.
    func close() {
        try? send("COMMIT;")
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func failure(_ what: String) -> ProcessPipeline.Failure {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        // psql has exited: its stderr is at its end, and the reader thread is done with it.
        errorText.done.wait()
        errorText.done.signal()
        return ProcessPipeline.Failure(tool: "psql (\(what), database \(database))", status: process.terminationStatus, stderr: errorText.text)
    }

    private final class ErrorBuffer: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        let done = DispatchSemaphore(value: 0)
        func set(_ d: Data) { lock.withLock { data = d } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }
}

enum EvidenceSessionSQL {
    static let open = """
        SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0; \
        BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path = pg_catalog; SET LOCAL row_security = off; \
        SELECT pg_export_snapshot(), to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
        """
}
