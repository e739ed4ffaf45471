import ArgumentParser
import Common
import DockerEngine
import Drill
import Foundation
import Repository
import Sandbox

/// `acp-drill bench reclaim`: how long a SIGKILLed drill's sandbox (which holds decrypted data) outlives its
/// drill: from the kill until the next `gc` has removed it.
struct BenchReclaimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reclaim",
        abstract: "Measure the reclaim latency: from a drill's SIGKILL until the next gc has removed its sandbox.",
        discussion: prose("""
            A throw-away source (the platform fixture at scale 1) is backed up with a fresh age key. Then, --runs
            times: acp-drill run (this binary, as its own process) drills the set, is SIGKILLed while it
            restores (the sandbox then holds decrypted data and has no one to tear it down), and acp-drill gc
            runs as the next cron job would. The figure is the time from the kill until gc has returned with the
            sandbox gone, against the baselines: the 2-hour expiry an orphan used to wait for, and the ~10 s
            after which Testcontainers' Ryuk removes a dead client's containers. A measurement, not a test.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "How many drills to kill.") var runs = 3

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    func run() async throws {
        let client = try await engine.connect()
        let logger = engine.logger
        let me = try ownExecutable()
        let command = self
        try await interruptible {
            try await BenchDrillCommand.withWorkFolder("reclaim") { work in
                let repo = "\(work)/repo"
                _ = try await BenchDrillCommand.makeBackup(scale: 1, repo: repo, identity: "\(work)/id.txt", client: client, logger: logger) { printError($0) }
                guard let set = try LocalRepository(root: repo).completeSets().first else { throw ValidationError("the benchmark backup wrote no set") }
                var latencies: [Double] = []
                for i in 1 ... command.runs {
                    let seconds = try await Self.killAndReclaim(me: me, repo: repo, identity: "\(work)/id.txt", set: set, work: work, client: client)
                    printError(String(format: "run %d: reclaimed %.2f s after the SIGKILL", i, seconds))
                    latencies.append(seconds)
                }
                let sorted = latencies.sorted()
                let median = sorted[sorted.count / 2]
                print(String(format: "reclaim latency (SIGKILL during the restore → gc has removed the sandbox), %d run(s): median %.2f s, range %.2f–%.2f s",
                             latencies.count, median, sorted.first!, sorted.last!))
                print(String(format: "  against the 2 h expiry an orphan used to wait for: %.4f×", median / 7200))
                print(String(format: "  against Testcontainers' Ryuk (~10 s after its client's connection drops): %.2f×", median / 10))
            }
        }
    }

    /// One drill killed during its restore; returns the seconds from the kill until gc removed its project.
    static func killAndReclaim(me: String, repo: String, identity: String, set: String, work: String, client: DockerClient) async throws -> Double {
        let holds = "set \(set):"
        let drill = Process()
        drill.executableURL = URL(fileURLWithPath: me)
        drill.arguments = ["run", "--repo", repo, "--reports", "\(work)/reports", "--no-log"]
        drill.environment = ProcessInfo.processInfo.environment.merging(["ACP_BACKUP_AGE_IDENTITY": identity]) { $1 }
        let err = Pipe()
        drill.standardError = err
        drill.standardOutput = FileHandle.nullDevice
        try drill.run()
        // Killed once it restores: the sandbox holds decrypted data by then.
        let reached = try await BlockingExecutor.run("bench") { () -> Bool in
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("restoring acp_") {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                seen += chunk
            }
            return true
        }
        kill(drill.processIdentifier, SIGKILL)
        let killedAt = ContinuousClock.now
        drill.waitUntilExit()
        guard reached else { throw ValidationError("the drill ended before its restore began") }
        let orphans = try await Reaper.projects(client: client).filter { $0.holds?.hasPrefix(holds) == true }
        guard !orphans.isEmpty else { throw ValidationError("the killed drill left no project to reclaim") }
        try await runProgramAsync([me, "gc"])
        let seconds = (ContinuousClock.now - killedAt).inSeconds
        let left = try await Reaper.projects(client: client).filter { $0.holds?.hasPrefix(holds) == true }
        guard left.isEmpty else { throw ValidationError("gc left \(left.map(\.name).joined(separator: ", "))") }
        return seconds
    }

    /// This process's own executable (so that the drills measured are this build's).
    func ownExecutable() throws -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("cannot find this acp-drill's executable (\(path))") }
        return path
    }
}
