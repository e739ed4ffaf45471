/// The outcome of one check, with the evidence an auditor reads.
public struct CheckResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case passed, failed, timedOut = "timed_out", skipped
    }

    public var name: String
    public var status: Status
    public var evidence: String

    public init(name: String, status: Status, evidence: String) {
        self.name = name
        self.status = status
        self.evidence = evidence
    }

    public static func passed(_ name: String, _ evidence: String) -> CheckResult { .init(name: name, status: .passed, evidence: evidence) }
    public static func failed(_ name: String, _ evidence: String) -> CheckResult { .init(name: name, status: .failed, evidence: evidence) }
    public static func skipped(_ name: String, _ evidence: String) -> CheckResult { .init(name: name, status: .skipped, evidence: evidence) }
}
