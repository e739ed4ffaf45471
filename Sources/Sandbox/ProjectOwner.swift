import Foundation

/// The process that made a project, recorded in its `dev.acp-drill.owner` label: this host's identity
/// (machine id, boot id and PID namespace, so that a PID means the same process here), the process id and
/// the process's start time (so that a reused PID is not taken for the owner). `gc` removes at once a
/// project whose owner is gone on this host (a SIGKILLed drill's sandbox, which may hold decrypted
/// production data), instead of waiting for it to expire. Projects handed to a person or a later command
/// (`up`, `run --keep`, the demo's stand-in) carry no owner and live to their expiry.
public struct ProjectOwner: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    public var startTicks: UInt64

    public init(host: String, pid: Int32, startTicks: UInt64) {
        self.host = host
        self.pid = pid
        self.startTicks = startTicks
    }

    /// This process, or nil where its identity cannot be read (no /proc, no boot id).
    public static let current: ProjectOwner? = {
        guard let host = hostIdentity(), let start = startTicks(of: getpid()) else { return nil }
        return ProjectOwner(host: host, pid: getpid(), startTicks: start)
    }()

    /// The label value: `<host>/<pid>/<start ticks>`.
    public var description: String { "\(host)/\(pid)/\(startTicks)" }

    public init?(label: String) {
        let parts = label.split(separator: "/")
        guard parts.count == 3, let pid = Int32(parts[1]), let start = UInt64(parts[2]), !parts[0].isEmpty else { return nil }
        self.init(host: String(parts[0]), pid: pid, startTicks: start)
    }

    /// What `ls` says of a project's owner, and what `gc` acts on.
    public enum State: String, Sendable, Codable {
        /// Its process runs on this host.
        case alive
        /// Its process is gone from this host: the project is an orphan, reclaimed by the next `gc`.
        case gone
        /// Made from another host (or container): only its expiry can tell.
        case otherHost = "another host"
        /// Handed over on purpose (`up`, `run --keep`): it lives to its expiry.
        case untilExpiry = "kept until expiry"
    }

    /// The state of a project whose owner label is `label` (nil: none), seen from `here`.
    public static func state(label: String?, here: ProjectOwner? = .current, isRunning: (Int32, UInt64) -> Bool = ProjectOwner.isRunning) -> State {
        guard let label else { return .untilExpiry }
        guard let owner = ProjectOwner(label: label), let here, owner.host == here.host else { return .otherHost }
        return isRunning(owner.pid, owner.startTicks) ? .alive : .gone
    }

    /// Whether process `pid` runs and started at `startTicks`. A zombie (killed, not yet reaped by its
    /// parent) has ended: it owns nothing any more.
    public static func isRunning(_ pid: Int32, _ startTicks: UInt64) -> Bool {
        guard let (state, start) = stat(of: pid) else { return false }
        return start == startTicks && state != "Z" && state != "X"
    }

    /// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
    static func startTicks(of pid: Int32) -> UInt64? { stat(of: pid)?.start }

    /// The state (field 3) and start time (field 22) of `/proc/<pid>/stat`.
    static func stat(of pid: Int32) -> (state: Character, start: UInt64)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After the command name (which may hold spaces and parentheses): state is field 3, start time 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        return (state, start)
    }

    /// `<machine id>-<boot id>-<pid namespace>`, each read from the system; nil when the boot id is unknown.
    static func hostIdentity() -> String? {
        func read(_ path: String) -> String? {
            (try? String(contentsOfFile: path, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let boot = read("/proc/sys/kernel/random/boot_id") else { return nil }
        let machine = read("/etc/machine-id") ?? ProcessInfo.processInfo.hostName
        let namespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid"))
            .map { $0.filter(\.isNumber) } ?? "0"
        return "\(machine.filter { $0.isLetter || $0.isNumber })-\(boot.filter { $0.isLetter || $0.isNumber })-\(namespace)"
    }
}
