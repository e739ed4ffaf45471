public import Foundation
import Common

/// The identity of one sandbox project and the labels every resource of it carries (docs/DESIGN.md §3).
public struct SandboxProject: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case drill, backupVerify = "backup-verify", env, test, demo }

    /// Label keys.
    public enum Label {
        public static let project = "dev.acp-drill.project"
        public static let expiresAt = "dev.acp-drill.expires-at"
        public static let kind = "dev.acp-drill.kind"
        public static let version = "dev.acp-drill.version"
        public static let service = "dev.acp-drill.service"
        public static let role = "dev.acp-drill.role"
        /// The process that made the project (`ProjectOwner`); absent on projects that live to their expiry.
        public static let owner = "dev.acp-drill.owner"
        /// What a drill's project holds (the set and its databases), named when an orphan is reclaimed.
        public static let holds = "dev.acp-drill.holds"
        /// On a swarm, a service that is not one of the stack's: a job (`job`) or a workspace (`workspace`).
        public static let helper = "dev.acp-drill.helper"
        public static let composeProject = "com.docker.compose.project"
        public static let composeService = "com.docker.compose.service"
        public static let composeNumber = "com.docker.compose.container-number"
        public static let composeOneoff = "com.docker.compose.oneoff"
        public static let composeNetwork = "com.docker.compose.network"
        public static let composeVersion = "com.docker.compose.version"
    }

    /// The tool version in every label (`ToolVersion.current`).
    public static var toolVersion: String { ToolVersion.current }

    public var name: String
    public var kind: Kind
    public var expiresAt: Date
    /// A fixed network name instead of `<project>_net` (the demo's production stand-in, `acp_prod_net`).
    public var networkNameOverride: String?
    /// The process whose end makes the project an orphan; nil for a project that lives to its expiry.
    public var owner: ProjectOwner?
    /// What the project holds, for the record of a reclaimed orphan (e.g. `set 20261127T020000Z: acp_audit, …`).
    public var holds: String?

    public init(name: String, kind: Kind, expiresAt: Date, networkName: String? = nil, owner: ProjectOwner? = nil) {
        self.name = name
        self.kind = kind
        self.expiresAt = expiresAt
        self.networkNameOverride = networkName
        self.owner = owner
    }

    /// A new project `<prefix>_<UTC yyyyMMdd'T'HHmmss'Z'>_<6 random [a-z0-9]>`: collision-safe across
    /// parallel CI jobs started in the same second. `ownedByThisProcess`: the project is an orphan once this
    /// process is gone (reclaimed by the next `gc` at once); false for one handed over (`up`, `--keep`),
    /// which lives to its expiry.
    public static func new(prefix: String = "acp_drill", kind: Kind, ttl: Duration, ownedByThisProcess: Bool = true, now: Date = Date()) -> SandboxProject {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var rng = SystemRandomNumberGenerator()
        let suffix = String((0 ..< 6).map { _ in alphabet[Int.random(in: 0 ..< alphabet.count, using: &rng)] })
        return SandboxProject(name: "\(prefix)_\(timestamp(now))_\(suffix)", kind: kind, expiresAt: now.addingTimeInterval(ttl.inSeconds),
                              owner: ownedByThisProcess ? ProjectOwner.current : nil)
    }

    /// `yyyyMMddTHHmmssZ` in UTC: the timestamp of project names, backup sets and drill reports.
    public static func timestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: date)
    }

    public var networkName: String { networkNameOverride ?? "\(name)_net" }

    /// The project as Compose names it: Compose lowercases `-p` (and v2 accepts only lowercase), so its label
    /// carries this form for `docker-compose -p <project> ps/logs/down` to find the containers.
    public var composeName: String { name.lowercased() }

    public func containerName(_ service: String) -> String { "\(name)-\(service)-1" }

    /// The labels on the network and volumes (and, with the service labels, on containers).
    public var labels: [String: String] {
        var l = [
            Label.project: name, Label.expiresAt: Self.rfc3339(expiresAt), Label.kind: kind.rawValue,
            Label.version: Self.toolVersion, Label.composeProject: composeName,
        ]
        if let owner { l[Label.owner] = owner.description }
        if let holds { l[Label.holds] = String(holds.prefix(1000)) }
        return l
    }

    /// Container labels: ours plus Compose's, so that `docker-compose -p <project> ps/logs/down` work.
    public func containerLabels(service: String, role: ServiceRole) -> [String: String] {
        labels.merging([
            Label.service: service, Label.role: role.rawValue, Label.composeService: service, Label.composeNumber: "1",
            Label.composeOneoff: "False", Label.composeVersion: "1.29.2",
        ]) { $1 }
    }

    public var description: String { name }

    public static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    public static func parseRFC3339(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
