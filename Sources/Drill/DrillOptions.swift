public import AuditChain
public import Foundation
public import Repository
public import Sandbox

/// What a drill is asked to do. DrillCommands builds it from flags and the runbook's environment, read
/// once (`DrillConfiguration`); nothing in this module reads the process environment.
public struct DrillOptions: Sendable {
    /// Where the sets are (`SetLayout.open`).
    public var source: any ObjectStore
    public var selection: SetSelection = .newest
    /// `--max-age`: the newest complete set must be younger (`freshness`); 24 h, the runbook's RPO target.
    public var maxAge: Double = 86400
    /// Opens the set; must match the manifest's encryption kind.
    public var decryption: Decryption
    public var budgets = DrillBudgets()
    public var keep = false
    /// How long a kept sandbox lives before `gc` may remove it.
    public var keepTTL: Double = 86400
    /// The job budget shared by every concurrent `pg_restore -j` (default: the machine's cores).
    public var jobs: Int = DrillOptions.defaultJobs
    /// Postgres instances the set is spread over (`InstancePlan`); nil: one per machine the backend can
    /// place them on (`placementSlots`: a swarm's ready nodes), one when the stack has app services or
    /// job checks (they reach the databases at the service `postgres`).
    public var instances: Int?
    /// The machine's cores, at least 2.
    public static let defaultJobs = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// The keys trusted to sign sets (`--trusted-keys`): with them the manifest's signature must verify
    /// before anything it says is acted on. Without them the set's authenticity is not verified, and the
    /// report and the verdict line say so.
    public var trustedKeys: TrustedKeys?
    /// The transparency keys the operator pins (`--transparency-keys`): roots verify with these only, and a
    /// key the restored database carries but the file does not fails verify_chain.
    public var transparencyKeys: [HistoricalKey]?
    /// The receipts mirror (`--receipts`): receipts beyond the dump are replayed onto the restored audit chain.
    public var receipts: (any ObjectStore)?
    /// `--until`: the recovery target (UTC microseconds); receipts written after it are not replayed, and the
    /// data loss is measured to it. Without it, to the drill's start.
    public var until: Int64?
    public var customerRoots: [TransparencyRoot]?
    public var customerRootsSource: String?
    public var userChecks: [UserCheck] = []
    /// Job checks (`--checks FILE` entries with an `image`): a drill with jobs is an exercise.
    public var jobChecks: [JobSpec] = []
    public var spec: StackSpec
    public var sandboxOptions = SandboxOptions()
    /// `RESTORE_DB_PASSWORD`: the sandbox Postgres password (generated per drill when nil). Never printed.
    public var restorePassword: String?
    /// The password every login role of the set gets in the sandbox (`RESTORE_DB_PASSWORD`, else generated
    /// per drill). Shown only where a kept sandbox is announced; never in a log or report.
    public var loginPassword: String = DrillOptions.generatedPassword()
    public var operatorName: String
    public var hostName: String = ProcessInfo.processInfo.hostName
    /// Where the private scratch folder (ciphertext downloads, plaintext dumps) is created.
    public var scratchParent: String = NSTemporaryDirectory()

    public init(source: any ObjectStore, decryption: Decryption, spec: StackSpec, operatorName: String) {
        self.source = source
        self.decryption = decryption
        self.spec = spec
        self.operatorName = operatorName
    }

    /// 32 hex digits from the system's random source.
    public static func generatedPassword() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0 ..< 16).map { _ in String(format: "%02x", UInt8.random(in: 0 ... 255, using: &rng)) }.joined()
    }
}

/// Progress of a drill, for a terminal or a log (nothing below DrillCommands prints).
public enum DrillEvent: Sendable {
    case stageStarted(String)
    case stageFinished(DrillReport.Stage)
    /// Bytes of one item (an object being hashed, downloaded or decrypted).
    case bytes(stage: String, item: String, done: Int64, total: Int64?)
    case line(String)
    case check(DrillReport.Check)
}
