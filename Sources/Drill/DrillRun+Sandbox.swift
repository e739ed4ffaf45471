import Common
import Sandbox

/// The drill's sandbox: provisioned beside the transfer, isolation asserted beside the restore, app
/// services started after it.
extension DrillRun {
    func provision(_ project: SandboxProject) async throws -> Sandbox {
        var spec = options.spec
        if let pw = options.restorePassword, let i = spec.services.firstIndex(where: { $0.role == .postgres }) {
            spec.services[i].environment.append((name: "POSTGRES_PASSWORD", value: pw))
        }
        return try await backend.provision(spec, project: project, options: options.sandboxOptions,
                                           holdBack: Sandbox.appServicesToHoldBack(spec), logger: logger) { line in
            self.ledger.line("  \(line)")
        }
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
