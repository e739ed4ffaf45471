import Common
/// Time budgets of the recovery objective (the runbook's defaults): download < 1 min, decrypt < 1 min,
/// restore < 10 min per database, verify (the checks) < 3 min, total < 15 min from start until the
/// checks pass. A drill that passes over a budget stays a pass, flagged as a budget breach (exit 3).
public struct DrillBudgets: Sendable, Codable, Equatable {
    public var download: Double = 60
    public var decrypt: Double = 60
    public var restorePerDatabase: Double = 600
    public var verify: Double = 180
    public var total: Double = 900

    public init() {}

    public static let names = ["download", "decrypt", "restore", "verify", "total"]

    /// Applies `name=duration[,name=duration…]` (`DurationText`: `90s`, `1.5m`, `1h30m`, `500ms`, or bare seconds).
    public func applying(_ text: String) throws(DrillError) -> DrillBudgets {
        var out = self
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let seconds = DurationText.positiveSeconds(kv[1]) else {
                throw DrillError(.configuration, "--budget \(part): expected name=duration, e.g. restore=10m (names: \(Self.names.joined(separator: ", ")))")
            }
            switch kv[0] {
            case "download": out.download = seconds
            case "decrypt": out.decrypt = seconds
            case "restore": out.restorePerDatabase = seconds
            case "verify": out.verify = seconds
            case "total": out.total = seconds
            default: throw DrillError(.configuration, "--budget: unknown budget \(kv[0]) (names: \(Self.names.joined(separator: ", ")))")
            }
        }
        return out
    }
}

/// A drill that could not be set up or run (the checks' failures are results, not errors).
public struct DrillError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// Bad flag, missing variable or tool: exit 2.
        case configuration
        /// No backup set could be chosen (none complete, none in the window, the given one absent).
        case noBackupSet = "no_backup_set"
        /// The repository could not be read.
        case source
        /// The set's manifest is unsafe to act on (a key or database name that is a path).
        case unsafeManifest = "unsafe_manifest"
        /// The set's manifest was read but is not a manifest (damaged or altered: acp-drill writes it last
        /// and atomically, so a half-written one cannot occur).
        case damagedManifest = "damaged_manifest"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
