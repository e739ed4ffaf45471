import Foundation
import Testing
@testable import Sandbox

@Suite struct ProjectOwnerTests {
    static let here = ProjectOwner(host: "m1-b1-4026531836", pid: 100, startTicks: 5000)

    @Test(arguments: [
        (nil as String?, "kept until expiry"),
        ("m1-b1-4026531836/100/5000", "alive"),
        ("m1-b1-4026531836/100/4999", "gone"),       // the PID was reused by another process
        ("m1-b1-4026531836/4242/1", "gone"),
        ("m1-b2-4026531836/100/5000", "another host"), // another boot: told apart by the host identity
        ("m9-b1-4026531836/100/5000", "another host"),
        ("garbage", "another host"),
    ])
    func states(label: String?, state: String) {
        let running: (Int32, UInt64) -> Bool = { pid, start in pid == 100 && start == 5000 }
        #expect(ProjectOwner.state(label: label, here: Self.here, isRunning: running).rawValue == state)
    }

    @Test func thisProcessIsAliveAndItsLabelRoundTrips() throws {
        let me = try #require(ProjectOwner.current, "this host has /proc and a boot id")
        #expect(ProjectOwner(label: me.description) == me)
        #expect(ProjectOwner.state(label: me.description) == .alive)
        #expect(me.pid == getpid())
        // A process that has ended: its start time no longer reads.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        #expect(!ProjectOwner.isRunning(p.processIdentifier, 1))
        #expect(ProjectOwner.state(label: ProjectOwner(host: me.host, pid: p.processIdentifier, startTicks: 1).description) == .gone)
    }

    @Test func projectsOwnedOrHandedOver() {
        let owned = SandboxProject.new(kind: .drill, ttl: .seconds(60))
        #expect(owned.labels[SandboxProject.Label.owner] == ProjectOwner.current?.description)
        let kept = SandboxProject.new(kind: .env, ttl: .seconds(60), ownedByThisProcess: false)
        #expect(kept.labels[SandboxProject.Label.owner] == nil)
        var held = owned
        held.holds = "set 20261127T020000Z: acp_audit"
        #expect(held.labels[SandboxProject.Label.holds] == "set 20261127T020000Z: acp_audit")
    }

    @Test func gcReasons() {
        let now = Date()
        var p = ProjectSummary(name: "p", kind: "drill", expiresAt: now.addingTimeInterval(3600), containers: [], networks: 0, volumes: 0)
        #expect(p.collectReason(now: now) == nil)
        p.ownerState = .gone
        #expect(p.collectReason(now: now) == "its owner process is gone")
        p.ownerState = .alive
        p.expiresAt = now.addingTimeInterval(-1)
        #expect(p.collectReason(now: now) == "expired")
        p.expiresAt = now.addingTimeInterval(3600)
        p.ownerState = .otherHost
        #expect(p.collectReason(now: now) == nil, "another host's project keeps the TTL rule")
    }
}

@Suite struct ZombieOwnerTests {
    @Test func aKilledButUnreapedProcessOwnsNothing() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["30"]
        try p.run()
        let start = try #require(ProjectOwner.startTicks(of: p.processIdentifier))
        #expect(ProjectOwner.isRunning(p.processIdentifier, start))
        // SIGKILL without reaping: the process is a zombie until waited for.
        kill(p.processIdentifier, SIGKILL)
        var zombie = false
        for _ in 0 ..< 100 where !zombie {
            zombie = ProjectOwner.stat(of: p.processIdentifier)?.state == "Z"
            if !zombie { usleep(10_000) }
        }
        #expect(!ProjectOwner.isRunning(p.processIdentifier, start), "a zombie is gone")
        p.waitUntilExit()
    }
}
