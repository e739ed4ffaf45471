/// One check's outcome: the single shape of every check acp-drill runs (a drill's checks, the sandbox's
/// isolation assertions, the backup's throw-away verify), in reports, JUnit, `up --json` and logs.
public struct CheckResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case passed, failed, timedOut = "timed_out", skipped

        /// Failed or timed out: the verdict fails (fail closed).
        public var isFailure: Bool { self == .failed || self == .timedOut }
    }

    /// What a check is about: `core` (the set, the restore, counts, health), `platform` (the audit chain,
    /// roots, reconcile: skipped where their tables are absent), `isolation` (the sandbox's assertions),
    /// `user` (the team's own checks).
    public enum Kind: String, Sendable, Codable, CaseIterable { case core, platform, isolation, user }

    public var name: String
    public var kind: Kind
    public var status: Status
    public var evidence: String
    /// What to do about a failure (the runbook's fix column), when known; never set on a pass or a skip.
    public var fix: String?
    public var seconds: Double

    public init(name: String, kind: Kind = .core, status: Status, evidence: String, fix: String? = nil, seconds: Double = 0) {
        self.name = name
        self.kind = kind
        self.status = status
        self.evidence = evidence
        self.fix = status.isFailure ? fix : nil
        self.seconds = seconds
    }

    public static func passed(_ name: String, _ evidence: String, kind: Kind = .core) -> CheckResult {
        .init(name: name, kind: kind, status: .passed, evidence: evidence)
    }

    public static func failed(_ name: String, _ evidence: String, kind: Kind = .core, fix: String? = nil) -> CheckResult {
        .init(name: name, kind: kind, status: .failed, evidence: evidence, fix: fix)
    }

    public static func skipped(_ name: String, _ evidence: String, kind: Kind = .core) -> CheckResult {
        .init(name: name, kind: kind, status: .skipped, evidence: evidence)
    }
}

extension CheckResult {
    enum CodingKeys: String, CodingKey { case name, kind, status, evidence, fix, seconds }

    /// Reads every report this tool has written: `kind` and `seconds` were absent from the sandbox's
    /// isolation results before they shared this type.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .core
        status = try c.decode(Status.self, forKey: .status)
        evidence = try c.decode(String.self, forKey: .evidence)
        fix = try c.decodeIfPresent(String.self, forKey: .fix)
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
    }
}
