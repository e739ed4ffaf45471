public import Common
public import Foundation

/// The evidence of one drill: `reports/restore_drill/<id>.json`. The schema is versioned
/// (`schema`, `schemaVersion`) and documented in docs/report-schema.md; fields are only ever added
/// within a version.
public struct DrillReport: Codable, Sendable {
    public static let schemaName = "acp-drill/restore-drill-report"
    public static let currentVersion = 1

    public enum Verdict: String, Codable, Sendable { case passed = "PASSED", failed = "FAILED", aborted = "ABORTED" }

    /// The set that was restored.
    public struct BackupSet: Codable, Sendable {
        public var timestamp: String
        public var location: String
        public var selection: String
        public var manifestFormat: Int
        public var createdAt: String
        public var encryption: String
        public var recipientFingerprint: String
        public var pgDumpVersion: String
        public var serverVersion: String
        public var backupToolVersion: String
        public var objects: [Object]
        /// Databases the backup itself recorded as failed (their objects are missing from the set).
        public var backupFailures: [String]

        public struct Object: Codable, Sendable {
            public var key: String
            public var database: String?
            public var kind: String
            public var size: Int64
            public var sha256: String
        }
    }

    /// How a stage ended.
    public enum StageStatus: String, Codable, Sendable { case done, failed, aborted }

    /// One timed stage of the pipeline. `offsetSeconds` is when it started, from the drill's start.
    public struct Stage: Codable, Sendable {
        public var name: String
        public var offsetSeconds: Double
        public var seconds: Double
        public var budgetSeconds: Double?
        public var overBudget: Bool
        public var status: StageStatus
        public var detail: String?
    }

    /// One check (the one shape every check has: `CheckResult`, with its `Kind` and `Status`). The names
    /// a report can hold are `CheckRegistry.all`'s.
    public typealias Check = CheckResult

    /// One restored database.
    public struct Database: Codable, Sendable {
        public var name: String
        public var dumpBytes: Int64
        public var plaintextBytes: Int64?
        public var jobs: Int?
        public var restoreSeconds: Double?
        public var restored: Bool
        /// Exact `count(*)` of every table, `schema.table` → rows.
        public var rowCounts: [String: Int64]
        /// The database the dump itself says it was taken from (its archive header's `dbname:`), when its
        /// table of contents could be read.
        public var archiveDatabase: String?
        /// The Postgres instance (service) it was restored on, when the set was spread over several.
        public var instance: String?
        /// The swarm node that instance ran on (a swarm backend only).
        public var node: String?
    }

    public struct Versions: Codable, Sendable {
        public var tool: String
        public var pgRestore: String
        public var server: String?
        public var engine: String?
        public var engineAPI: String?
        public var decryptor: String?
    }

    public struct SandboxInfo: Codable, Sendable {
        public var project: String
        public var kept: Bool
        public var keptUntil: String?
        public var tornDown: Bool
        public var teardownError: String?
    }

    public var schema = DrillReport.schemaName
    public var schemaVersion = DrillReport.currentVersion
    /// The drill's own timestamp (`yyyyMMddTHHmmssZ`), also the report's file name.
    public var id: String
    public var verdict: Verdict
    public var budgetExceeded: Bool
    public var firstFailure: String?
    /// Rows counted exactly across every restored table.
    public var rowsVerified: Int64
    /// Audit rows whose chain was verified (nil when there is no audit chain).
    public var chainRowsVerified: Int64?
    /// From the drill's start until the checks passed (teardown excluded); nil unless passed.
    public var recoveryTimeSeconds: Double?
    public var durationSeconds: Double
    public var startedAt: String
    public var finishedAt: String
    public var `operator`: String
    public var host: String
    public var set: BackupSet?
    public var budgets: DrillBudgets
    public var stages: [Stage]
    public var checks: [Check]
    public var databases: [Database]
    public var versions: Versions
    public var sandbox: SandboxInfo?
    /// `drill`, or `exercise` when the run had job checks (the quarterly DR exercise); absent in reports
    /// written before it was recorded, which were drills.
    public var kind: RunKind?
    /// Every job of an exercise, with the image it ran.
    public var jobs: [JobRecord]?
    /// Projects this drill's `gc` removed before it began: orphans of killed runs (with what they held) and
    /// expired ones. Absent when there were none.
    public var reclaimed: [Reclaimed]?

    /// The recovery point this drill reached (absent when no set was restored).
    public var rpo: RecoveryPoint?

    /// The recovery point: how far the restored data reaches, and how much a recovery from this set (and
    /// the receipts, when given) would lose (docs/RECEIPTS.md).
    public struct RecoveryPoint: Codable, Sendable, Equatable {
        /// When the set was taken (its timestamp): the databases are restored as of then, or a little later.
        public var dumpTakenAt: String
        /// The newest point the restored data reaches: the last replayed receipt's time, else the set's.
        public var recoveredUntil: String
        /// What the loss is measured to: `--until`, else the drill's start (the moment a recovery began).
        public var target: String
        /// `target − recoveredUntil`, at least 0.
        public var dataLossSeconds: Double
        /// Audit rows recovered beyond the dump from receipts.
        public var receiptsReplayed: Int
        /// Ids with no receipt, where the replay stopped (data loss in the audit chain).
        public var gaps: [Gap]
        /// The dump's last audit id, and the last id recovered (absent without an audit chain).
        public var dumpLastID: Int64?
        public var recoveredLastID: Int64?
        /// The receipts mirror, when one was replayed.
        public var receipts: String?

        public struct Gap: Codable, Sendable, Equatable {
            public var from: Int64
            public var to: Int64

            public init(from: Int64, to: Int64) {
                self.from = from
                self.to = to
            }
        }
    }

    /// A project `gc` removed.
    public struct Reclaimed: Codable, Sendable, Equatable {
        public var project: String
        public var kind: String
        /// `its owner process is gone` or `expired`.
        public var reason: String
        /// What it held, e.g. `set 20261127T020000Z: acp_audit, acp_usage`.
        public var holds: String?
        public var containers: Int
        public var volumes: Int
    }

    public enum RunKind: String, Codable, Sendable { case drill, exercise }

    /// One job of an exercise.
    public struct JobRecord: Codable, Sendable, Equatable {
        public var name: String
        public var image: String
        /// The engine's ID of the image that ran (`sha256:…`), when it ran.
        public var imageID: String?
        public var exitCode: Int?
        public var seconds: Double
        public var status: CheckResult.Status
    }

    /// The drill's last line, always one line (cron and CI read it): `Restore drill PASSED — N rows verified`
    /// or `Restore drill FAILED — <first failure>`, a failure's text folded onto one line (`oneLine`); the
    /// full text is in the report and on stderr.
    public var lastLine: String {
        switch verdict {
        case .passed:
            let breach = budgetExceeded ? " (over budget: \(stages.filter(\.overBudget).map(\.name).joined(separator: ", ")))" : ""
            return Self.oneLine("Restore drill PASSED — \(rowsVerified) rows verified\(breach)\(authenticityNotVerified ? " (authenticity not verified: no trusted keys)" : "")")
        case .failed: return Self.oneLine("Restore drill FAILED — \(firstFailure ?? "unknown failure")")
        case .aborted: return Self.oneLine("Restore drill ABORTED — \(firstFailure ?? "interrupted")")
        }
    }

    /// The set's signature was not checked (no trusted keys): the verdict line says so.
    public var authenticityNotVerified: Bool { checks.contains { $0.name == "manifest.signature" && $0.status == .skipped } }

    /// The longest verdict line, in characters.
    public static let lineLimit = 400

    /// `text` on one line: its lines trimmed and joined with " / " (blank ones dropped), cut to `lineLimit`
    /// characters with "…".
    public static func oneLine(_ text: String) -> String {
        let folded = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " / ")
        return folded.count > lineLimit ? String(folded.prefix(lineLimit - 1)) + "…" : folded
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
