public import Common

/// One check of the drill: adding a check is adding one file under `Checks/` with a type that conforms,
/// and one line in `CheckRegistry.afterRestore` (docs/DESIGN.md §5). The registry gives `--help`, the
/// report schema doc and JUnit their list of check names.
///
/// A check declares what it needs; the runner (`CheckRegistry.run`) meets the needs it can: a check that
/// needs a table nobody restored is reported `skipped` (or `failed`, when the set holds the platform
/// database that should have it) without being run. A check that could not run is a failure: the verdict
/// fails closed.
public protocol DrillCheck: Sendable {
    /// How the check appears in reports, its needs and what it proves.
    var descriptor: CheckDescriptor { get }

    /// Runs the check; returns its results (a family such as `row_counts.<db>` returns one per item). Only
    /// cancellation is thrown: every other failure is a `failed` result with its evidence.
    func run(_ context: CheckContext) async throws -> [CheckResult]
}

/// What a check needs before it can run.
public enum CheckNeed: Sendable, Equatable, CustomStringConvertible {
    /// At least one restored database.
    case restoredDatabases
    /// A restored database with this table (`public.<table>`), normally the platform database named.
    case table(String, platformDatabase: String)
    /// The audit chain as verify_chain read it (its roots and rows, read once for every check that needs them).
    case auditChain
    /// The stack's running services.
    case services
    /// The team's own checks (`--checks FILE`).
    case userChecks
    /// Customer-archived roots (`--customer-roots FILE`).
    case customerRoots
    /// Job checks (`--checks FILE` entries with an `image`).
    case jobChecks

    public var description: String {
        switch self {
        case .restoredDatabases: "a restored database"
        case .table(let t, let db): "a restored database with table \(t) (normally \(db))"
        case .auditChain: "the audit chain as verify_chain read it"
        case .services: "the stack's services"
        case .userChecks: "--checks FILE"
        case .customerRoots: "--customer-roots FILE"
        case .jobChecks: "job checks in --checks FILE"
        }
    }
}

/// A check as the registry lists it.
public struct CheckDescriptor: Sendable, Equatable {
    /// The check's name, or a family's pattern (`row_counts.<db>`).
    public var name: String
    public var kind: CheckResult.Kind
    /// What a pass proves, in one line.
    public var summary: String
    public var needs: [CheckNeed]

    public init(_ name: String, kind: CheckResult.Kind, needs: [CheckNeed] = [], _ summary: String) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.needs = needs
    }

    /// The table this check needs, if any.
    var table: (name: String, platformDatabase: String)? {
        for need in needs { if case .table(let t, let db) = need { return (t, db) } }
        return nil
    }

    /// Whether a reported check name belongs to this descriptor (`row_counts.acp_audit` to `row_counts.<db>`).
    public func matches(_ checkName: String) -> Bool {
        guard let open = name.firstIndex(of: "<") else { return checkName == name }
        return checkName.hasPrefix(name[..<open]) && checkName.count > name.distance(from: name.startIndex, to: open)
    }
}
