import Common

/// How the set's databases are restored under one job budget for the machine: largest first, so that the
/// long restore starts at once; a database holding a quarter or more of the data gets `-j jobs` over its
/// tables and indexes, the others one job; the small ones (< 5 %) go to a light lane beside the heavy ones.
public struct RestorePlan: Sendable, Equatable {
    /// One database of the plan.
    public struct Item: Sendable, Equatable {
        public var database: String
        /// `pg_restore -j`: more than one only for a database holding a quarter or more of the data.
        public var jobs: Int
        /// Under 5 % of the data: restored in the light lane, where time goes to process and connection
        /// start-up rather than CPU.
        public var light: Bool
    }

    public var items: [Item]
    public var jobs: Int

    /// The plan for databases of these plaintext sizes.
    public init(sizes: [String: Int64], jobs: Int) {
        let total = sizes.values.reduce(0, +)
        self.jobs = jobs
        items = sizes.keys.sorted { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }.map { db in
            let share = total > 0 ? Double(sizes[db] ?? 0) / Double(total) : 0
            return Item(database: db, jobs: share >= 0.25 ? max(1, jobs) : 1, light: share < 0.05 && sizes.count > 1)
        }
    }

    /// Runs the plan: the heavy restores `jobs` at a time, and beside them the light lane, `jobs` small
    /// databases at a time (they would otherwise queue behind the large ones and finish the restore with a
    /// tail of start-ups, which cost latency rather than CPU).
    public func run(_ body: @escaping @Sendable (Item) async throws -> Void) async throws {
        async let light: Void = Concurrently.forEach(items.filter(\.light), limit: max(1, jobs), body)
        try await Concurrently.forEach(items.filter { !$0.light }, limit: max(1, jobs), body)
        try await light
    }
}
