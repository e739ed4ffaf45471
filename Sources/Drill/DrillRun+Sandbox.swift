import Common
import Repository
import Sandbox

/// The drill's sandbox: provisioned beside the transfer, isolation asserted beside the restore, app
/// services started after it.
extension DrillRun {
    func provision(_ project: SandboxProject, instances: Int = 1) async throws -> Sandbox {
        var spec = options.spec
        if let pw = options.restorePassword, let i = spec.services.firstIndex(where: { $0.role == .postgres }) {
            spec.services[i].environment.append((name: "POSTGRES_PASSWORD", value: pw))
        }
        spec = Self.spread(spec, instances: instances)
        return try await backend.provision(spec, project: project, options: options.sandboxOptions,
                                           holdBack: Sandbox.appServicesToHoldBack(spec), logger: logger) { line in
            self.ledger.line("  \(line)")
        }
    }

    /// How many Postgres instances the set is restored on: `--instances`, else one per machine the backend
    /// places on, at most one per database; one for a stack whose apps or jobs expect every database at
    /// the service `postgres`.
    func instanceCount(databases: Int) async -> Int {
        if let n = options.instances { return max(1, min(n, databases)) }
        let apps = options.spec.services.contains { $0.role == .app } || !options.jobChecks.isEmpty
        if apps { return 1 }
        return max(1, min(await backend.placementSlots(), databases))
    }

    /// The stack with its Postgres service repeated as `<name>-2 … <name>-N` (same image and settings, one
    /// password for all, generated here when the stack gives none), for the backend to place apart.
    static func spread(_ spec: StackSpec, instances: Int) -> StackSpec {
        guard instances > 1, let i = spec.services.firstIndex(where: { $0.role == .postgres }) else { return spec }
        var spec = spec
        if (spec.services[i].env("POSTGRES_PASSWORD") ?? "").isEmpty {
            spec.services[i].environment.append((name: "POSTGRES_PASSWORD", value: Sandbox.randomPassword()))
        }
        let base = spec.services[i]
        for k in 2 ... instances {
            var copy = base
            copy.name = "\(base.name)-\(k)"
            copy.containerName = nil
            spec.services.append(copy)
        }
        return spec
    }

    /// Each database's instance, by the plan over the set's sizes.
    static func placement(_ manifest: Manifest, sandbox: Sandbox) -> [String: Sandbox.Service] {
        let instances = sandbox.services.filter { $0.role == .postgres }
        guard instances.count > 1 else { return [:] }
        let sizes = manifest.dumpSizes
        let plan = InstancePlan(sizes: sizes, instances: instances.count)
        return plan.assignment.mapValues { instances[$0] }
    }

    /// The isolation assertions, recorded as checks. A second run (after app services started) replaces
    /// the first's results: the report describes the stack as it was checked last.
    func assertIsolation(_ sandbox: Sandbox) async {
        ledger.replace(kind: .isolation, with: await CheckRegistry.isolation.run(sandbox))
    }

    /// The stack's app services start once the data is restored, and only in a sandbox whose isolation
    /// held; then isolation is asserted again over the whole stack.
    func startHeldServices(_ sandbox: Sandbox) async throws {
        let held = Sandbox.appServicesToHoldBack(options.spec)
        guard !held.isEmpty else { return }
        let names = held.sorted().joined(separator: ", ")
        guard ledger.isolationHeld else {
            ledger.check("services.start", .core, .failed, "\(names) not started: the sandbox's isolation assertions failed")
            return
        }
        do {
            try await stage("services") {
                try await sandbox.start(held, from: options.spec) { line in self.ledger.line("  \(line)") }
            }
            ledger.check("services.start", .core, .passed, "started after the restore: \(names)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            ledger.check("services.start", .core, .failed, "\(error)", fix: "see the service's logs: keep the sandbox (--keep) and run acp-drill exec PROJECT SERVICE -- …, or docker logs")
            return
        }
        await assertIsolation(sandbox)
    }
}
