import Common
@testable import Drill
import Testing

/// The spread of a set's databases over Postgres instances (largest first, onto the least loaded).
struct InstancePlanTests {
    @Test("table: one instance takes all; more instances than databases give each its own; the largest is alone")
    func table() {
        let sizes: [String: Int64] = ["audit": 400, "usage": 150, "gateway": 120, "a": 10, "b": 10, "c": 5]
        #expect(Set(InstancePlan(sizes: sizes, instances: 1).assignment.values) == [0])
        let many = InstancePlan(sizes: sizes, instances: 9)
        #expect(Set(many.assignment.values).count == sizes.count, "each database its own instance")
        let three = InstancePlan(sizes: sizes, instances: 3)
        #expect(three.databases(on: three.assignment["audit"]!) == ["audit"], "the largest alone: \(three.assignment)")
        #expect(three.loads.max() == 400)
        #expect(InstancePlan(sizes: [:], instances: 3).assignment.isEmpty)
        #expect(InstancePlan(sizes: ["x": 1], instances: 0).assignment == ["x": 0], "at least one instance")
    }

    @Test("property: every database on exactly one instance, the loads add up, and the longest is within LPT's bound")
    func property() {
        var rng = SplitMix64(seed: 20261206)
        for _ in 0 ..< 500 {
            let count = Int(rng.next() % 20) + 1
            let instances = Int(rng.next() % 6) + 1
            var sizes: [String: Int64] = [:]
            for i in 0 ..< count { sizes["db\(i)"] = Int64(rng.next() % 1_000_000) }
            let plan = InstancePlan(sizes: sizes, instances: instances)
            #expect(Set(plan.assignment.keys) == Set(sizes.keys))
            #expect(plan.assignment.values.allSatisfy { (0 ..< instances).contains($0) })
            #expect(plan.loads.reduce(0, +) == sizes.values.reduce(0, +))
            for i in 0 ..< instances {
                #expect(plan.databases(on: i).reduce(0) { $0 + sizes[$1]! } == plan.loads[i])
            }
            // Graham's bound for greedy list scheduling: no instance exceeds the mean plus the largest database.
            let total = sizes.values.reduce(0, +), largest = sizes.values.max() ?? 0
            #expect(plan.loads.max()! <= total / Int64(instances) + largest)
            #expect(plan == InstancePlan(sizes: sizes, instances: instances), "deterministic")
        }
    }
}
