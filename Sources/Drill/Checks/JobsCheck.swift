import Common
import Foundation
import Sandbox
import Synchronization

/// `job.<name>`: the team's job checks (`--checks FILE` entries with an `image`), run one after another as
/// one-off containers on the sandbox network once every other check is done (a scenario may write, and
/// nothing else should read what it wrote). Each gets the stack's connection settings in its environment;
/// each is hardened like the services and vetted by the isolation rules before it starts, and runs only in
/// a sandbox whose isolation assertions held. A drill with jobs is an exercise: the report lists every job
/// with the image it ran.
struct JobsCheck: DrillCheck {
    let descriptor = CheckDescriptor("job.<name>", kind: .user, needs: [.jobChecks, .services],
                                     "your job (a scenario, a smoke suite) exits as expected and, if given, its output matches, within its timeout")

    /// The output kept for judging and evidence: the last 64 KiB.
    static let keep = 64 << 10

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        let jobs = context.options.jobChecks
        guard !jobs.isEmpty else { return [] }
        let isolationHeld = context.ledger.isolationHeld
        var out: [CheckResult] = []
        for job in jobs {
            guard isolationHeld else {
                out.append(.failed("job.\(job.name)", "not run: the sandbox's isolation assertions failed", kind: .user))
                context.ledger.addJob(.init(name: job.name, image: job.image, imageID: nil, exitCode: nil, seconds: 0, status: .failed))
                continue
            }
            out.append(try await run(job, context))
        }
        return out
    }

    func run(_ job: JobSpec, _ context: CheckContext) async throws -> CheckResult {
        let name = "job.\(job.name)"
        let sandbox = context.sandbox
        let output = OutputTail(keep: Self.keep)
        let t0 = ContinuousClock.now
        var record = DrillReport.JobRecord(name: job.name, image: job.image, imageID: nil, exitCode: nil, seconds: 0, status: .failed)
        defer { record.seconds = (ContinuousClock.now - t0).inSeconds; context.ledger.addJob(record) }
        let environment = sandbox.connectionEnvironment + job.environment
        context.ledger.line("running job \(job.name) (\(job.image))")
        let outcome: JobOutcome?
        do {
            outcome = try await withThrowingTaskGroup(of: JobOutcome?.self) { group in
                group.addTask {
                    try await sandbox.backend.runJob(image: job.image, command: job.command, environment: environment, user: job.user, in: sandbox) { _, bytes in
                        output.append(bytes)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(job.timeoutSeconds))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            let fix = (error as? SandboxError)?.code == .imageMissing
                ? "build or pull \(job.image) onto the engine before the exercise (acp-drill never pulls)" : nil
            return .timed(name, .user, .failed, "\(job.image): \(error)", fix: fix, since: t0)
        }
        // A job may print its environment: the sandbox's password never reaches the evidence.
        var text = output.text
        if let password = sandbox.service(role: .postgres)?.postgresPassword, !password.isEmpty {
            text = text.replacingOccurrences(of: password, with: "<password>")
        }
        guard let outcome else {
            if Task.isCancelled { throw CancellationError() }
            record.status = .timedOut
            return .timed(name, .user, .timedOut, "\(job.image): over its \(DrillReport.humanDuration(job.timeoutSeconds)) timeout; the container was removed; output so far: \(JobSpec.tail(text))", since: t0)
        }
        record.imageID = outcome.imageID
        record.exitCode = outcome.exitCode
        let (passed, evidence) = job.judge(exitCode: outcome.exitCode, output: text)
        record.status = passed ? .passed : .failed
        let ran = "\(job.image)" + (outcome.imageID.map { " (\($0.prefix(19))…)" } ?? "")
        return .timed(name, .user, passed ? .passed : .failed, "\(ran): \(evidence)",
                      fix: "the scenario failed against the restored stack: keep the sandbox (--keep) and rerun it with acp-drill run-in PROJECT --image \(job.image) -- …",
                      since: t0)
    }
}

/// The last `keep` bytes of a job's output (stdout and stderr as they arrived), in bounded memory.
final class OutputTail: Sendable {
    let keep: Int
    private let bytes = Mutex<[UInt8]>([])

    init(keep: Int) { self.keep = keep }

    func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.withLock { b in
            b.append(contentsOf: chunk)
            if b.count > 2 * keep { b.removeFirst(b.count - keep) }
        }
    }

    var text: String { String(decoding: bytes.withLock { $0.suffix(keep) }, as: UTF8.self) }
}
