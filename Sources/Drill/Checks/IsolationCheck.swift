public import Common
public import Sandbox

/// `isolation.*`: the sandbox's six isolation assertions (docs/DESIGN.md §3), probed by the backend from
/// inside the sandbox. The pipeline runs them beside the restore, and again once app services started.
public struct IsolationCheck: Sendable {
    public static let fix = "the sandbox is not isolated from production: do not use its results; see acp-drill up --help for the isolation contract"

    public let descriptors: [CheckDescriptor] = [
        CheckDescriptor("isolation.dns", kind: .isolation, needs: [.services], "no production host name resolves from inside the sandbox, and no DNS forwarder answers"),
        CheckDescriptor("isolation.tcp", kind: .isolation, needs: [.services], "no production container's address answers from inside the sandbox"),
        CheckDescriptor("isolation.network", kind: .isolation, needs: [.services], "the sandbox network is internal and holds only this project's containers"),
        CheckDescriptor("isolation.volumes", kind: .isolation, needs: [.services], "every data mount is a project-labelled volume no container outside the project uses"),
        CheckDescriptor("isolation.host", kind: .isolation, needs: [.services], "no container publishes a port, runs privileged, shares a host namespace or bind-mounts a host path"),
        CheckDescriptor("isolation.redis", kind: .isolation, needs: [.services], "the sandbox's Redis answers and holds no keys it did not create"),
    ]

    /// The assertions' results, each with the fix for a failure.
    public func run(_ sandbox: Sandbox) async -> [CheckResult] {
        await sandbox.assertIsolation().map { r in
            CheckResult(name: r.name, kind: .isolation, status: r.status, evidence: r.evidence, fix: Self.fix, seconds: r.seconds)
        }
    }
}
