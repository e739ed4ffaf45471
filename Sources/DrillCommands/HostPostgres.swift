import ArgumentParser
import Foundation
import Sandbox

/// A throw-away PostgreSQL server on the host, with no container: the floor of `bench drill`.
/// It listens on a unix socket in its own folder only (no TCP), runs as the `postgres` user when we are
/// root (the server refuses root), and carries the sandbox's throw-away settings. The server is our own
/// child (not daemonized by `pg_ctl`): a daemon would inherit Foundation's process-monitoring socket and
/// keep `pg_ctl` from ever being seen to exit.
final class HostPostgres: @unchecked Sendable {
    let bin: String
    let dir: String
    let process = Process()
    var data: String { "\(dir)/data" }
    static let port = "5439"

    private init(bin: String, dir: String) {
        self.bin = bin
        self.dir = dir
    }

    /// The server binaries of the same major version as the host's `pg_restore`, or nil.
    static func findBinaries() -> String? {
        let major = (try? runProgram(["pg_restore", "--version"]))?.split(separator: " ").last?.split(separator: ".").first.map(String.init)
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted(by: >)
        let preferred = major.map { m in candidates.filter { $0 == m } + candidates.filter { $0 != m } } ?? candidates
        return preferred.map { "/usr/lib/postgresql/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
    }

    /// `initdb` in a fresh private folder, the settings of `SandboxOptions.throwAwayPostgresSettings`, then
    /// the server, ready when this returns.
    static func start(bin: String) throws -> HostPostgres {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-bench-floor-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let server = HostPostgres(bin: bin, dir: dir)
        if geteuid() == 0 { try runProgram(["chown", "postgres:postgres", dir]) }
        try runProgram(asServerUser + ["\(bin)/initdb", "-D", server.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        var conf = ["listen_addresses = ''", "unix_socket_directories = '\(dir)'", "port = \(port)"]
        conf += SandboxOptions.throwAwayPostgresSettings.map { setting in
            let parts = setting.split(separator: "=", maxSplits: 1)
            return "\(parts[0]) = '\(parts[1])'"
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(server.data)/postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + conf.joined(separator: "\n") + "\n").utf8))
        try handle.close()

        _ = FileManager.default.createFile(atPath: "\(dir)/server.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/server.log"))
        server.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.process.arguments = asServerUser + ["\(bin)/postgres", "-D", server.data]
        server.process.standardInput = FileHandle.nullDevice
        server.process.standardOutput = log
        server.process.standardError = log
        try server.process.run()
        for _ in 0 ..< 600 {
            if (try? runProgram(["pg_isready", "-q"] + server.connection)) != nil { return server }
            guard server.process.isRunning else { break }
            usleep(100_000)
        }
        let text = (try? String(contentsOfFile: "\(dir)/server.log", encoding: .utf8)) ?? ""
        server.stop()
        throw ValidationError("the host PostgreSQL did not start: \(text.suffix(1000))")
    }

    /// Immediate shutdown (SIGQUIT: nothing to keep), then the folder goes.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGQUIT)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Arguments that make the host's client tools talk to this server.
    var connection: [String] { ["-h", dir, "-p", Self.port, "-U", "postgres"] }

    /// `setpriv` to the `postgres` user when we are root (it execs: the server stays our direct child).
    static var asServerUser: [String] {
        geteuid() == 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
    }
}
