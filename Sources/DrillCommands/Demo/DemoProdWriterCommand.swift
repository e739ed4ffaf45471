import ArgumentParser
import AuditChain
import Common
import Dispatch
import Fixture
import Foundation
import Repository
import Sandbox
import Synchronization

/// `acp-drill demo prod writer`: the audit service in the production stand-in, in the foreground.
struct DemoProdWriterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writer",
        abstract: "Keep appending chained audit rows to the production stand-in, mirroring each row's receipt.",
        discussion: prose("""
            What the platform's audit service does, for the RPO story (docs/RECEIPTS.md): once a second, RATE
            audit rows chained to the newest one are committed to acp_audit, their receipts are stored as one
            batch in the receipts mirror (a folder, or s3://bucket/prefix with server-side encryption), then
            the billable rows' usage events go to acp_usage. A batch the mirror refuses is offered again before
            the next one. SIGINT or SIGTERM stops it after the second in flight. `demo prod up --writer-rate N`
            starts it in the background and `demo prod down` stops it.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Audit rows a second (1…10000).") var rate = 20
    @Option(help: ArgumentHelp("The receipts mirror: a folder or s3://bucket/prefix (else ACP_RECEIPTS_S3_BUCKET).", valueName: "location"))
    var receipts: String?
    @Option(help: ArgumentHelp("The project whose Postgres is written to.", visibility: .hidden)) var project = ProdStack.project

    func validate() throws {
        guard (1 ... 10_000).contains(rate) else { throw ValidationError("--rate must be between 1 and 10000") }
    }

    func run() async throws {
        let environment = CommandEnvironment.read()
        guard let location = try RepositoryLocation.receipts(receipts, environment: environment) else {
            throw ValidationError(RepositoryLocation.receiptsMissing)
        }
        let store = try SetLayout.open(location, environment: environment, logger: engine.logger, creating: true,
                                       serverSideEncryption: RepositoryLocation.receiptsServerSideEncryption)
        let backend = try await engine.sandboxBackend()
        let sandbox = try await backend.attach(project: project, networkName: project == ProdStack.project ? ProdStack.network : nil, logger: engine.logger)
        guard let pg = sandbox.service(role: .postgres), let password = pg.postgresPassword else {
            throw ValidationError("project \(project) has no Postgres service: start it with `acp-drill demo prod up`")
        }
        let writer = AuditWriter(sandbox: sandbox, postgres: pg, password: password, rate: rate) { key, data in
            try await BlockingExecutor.run("receipts") { try store.put(key.description, data: data) }
        }
        // SIGINT/SIGTERM: finish the second in flight, then stop.
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { writer.stop() }
            source.resume()
            sources.append(source)
        }
        defer { for s in sources { s.cancel() } }
        Self.say("audit writer: \(rate) rows/s into \(project), receipts mirrored to \(store)")
        let said = Mutex(ContinuousClock.now)
        let final = try await writer.run { p in
            let due = said.withLock { t -> Bool in
                guard ContinuousClock.now - t >= .seconds(10) || p.rowsWritten == rate else { return false }
                t = ContinuousClock.now
                return true
            }
            if due { Self.say(Self.describe(p)) }
        }
        Self.say("audit writer stopped: " + Self.describe(final))
    }

    /// A line to stdout, flushed at once: in the background stdout is a log file, read while the writer runs.
    static func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    static func describe(_ p: AuditWriter.Progress) -> String {
        var text = "\(p.rowsWritten) rows written, \(p.receiptsMirrored) receipts mirrored"
        if p.lastMirroredID > 0 { text += " (newest id \(p.lastMirroredID) at \(UTCTime.canonical(micros: p.lastMirroredAt)))" }
        text += ", \(p.usageEvents) usage events"
        if p.pendingBatches > 0 || p.mirrorErrors > 0 { text += "; \(p.pendingBatches) batch(es) waiting for the mirror, \(p.mirrorErrors) refusal(s)" }
        return text
    }
}

/// The writer `demo prod up --writer-rate` leaves running in the background: its pid file and log in the
/// temporary folder, found again by `demo prod down`.
enum WriterProcess {
    static var pidFile: String { (NSTemporaryDirectory() as NSString).appendingPathComponent("acp-drill-prod-writer.pid") }
    static var logFile: String { (NSTemporaryDirectory() as NSString).appendingPathComponent("acp-drill-prod-writer.log") }

    /// Starts `acp-drill demo prod writer …` to outlive this process (SIGHUP ignored, every descriptor but its
    /// log closed, so that no caller's pipe stays open), and waits for its first mirrored second.
    static func start(arguments: [String], environment: [String: String]) async throws {
        if let pid = running() { throw ValidationError("an audit writer is already running (pid \(pid)): `acp-drill demo prod down` stops it") }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        try? FileManager.default.removeItem(atPath: logFile)
        FileManager.default.createFile(atPath: logFile, contents: nil, attributes: [.posixPermissions: 0o600])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        // bash, not sh: dash cannot close a descriptor above 9. A closed terminal (SIGHUP) does not stop it.
        let closeAll = #"trap '' HUP; for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null; done; exec "$@""#
        p.arguments = ["-c", closeAll, "bash", exe, "demo", "prod", "writer"] + arguments
        p.environment = environment
        p.standardInput = FileHandle.nullDevice
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        p.standardOutput = log
        p.standardError = log
        try p.run()
        try "\(p.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            if text.contains("receipts mirrored") { return }
            if !p.isRunning {
                try? FileManager.default.removeItem(atPath: pidFile)
                throw ValidationError("the audit writer stopped at once: " + text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError("the audit writer mirrored nothing within 30 s; see \(logFile)")
    }

    /// The writer's pid, when the pid file names a live `demo prod writer`.
    static func running() -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
        else { return nil }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains("writer") && args.contains("prod") ? pid : nil
    }

    /// Stops the writer (SIGTERM: the second in flight completes; SIGKILL after 20 s) and returns its last
    /// line; nil when none runs.
    static func stop() async -> String? {
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        guard let pid = running() else { return nil }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(20)
        while running() != nil, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        if running() != nil { kill(pid, SIGKILL) }
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? "stopped"
    }
}
