import Common

/// Which Postgres instance restores which database, when a drill spreads the set over several (one per
/// swarm node): largest first, each onto the instance with the least data so far (LPT). The largest
/// database starts at once and is alone as long as the others can be placed beside one another, so the
/// restore approaches `max(largest database, total / instances)`; a database is never split.
public struct InstancePlan: Sendable, Equatable {
    /// Database → instance index (0-based).
    public var assignment: [String: Int]
    /// Bytes of the databases on each instance.
    public var loads: [Int64]

    public init(sizes: [String: Int64], instances: Int) {
        let n = max(1, instances)
        var loads = [Int64](repeating: 0, count: n)
        var assignment: [String: Int] = [:]
        for db in sizes.keys.sorted(by: { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }) {
            let i = loads.indices.min { (loads[$0], $0) < (loads[$1], $1) }!
            assignment[db] = i
            loads[i] += max(0, sizes[db] ?? 0)
        }
        self.assignment = assignment
        self.loads = loads
    }

    /// The databases of instance `i`, by name.
    public func databases(on i: Int) -> [String] { assignment.filter { $0.value == i }.map(\.key).sorted() }
}
