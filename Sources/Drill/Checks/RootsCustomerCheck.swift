import AuditChain
import Common

/// `roots.customer`: the restored `transparency_roots` match the roots a customer archived
/// (`--customer-roots FILE`). Uses the roots verify_chain read. Asked for and not runnable (no restored
/// audit chain, or a chain that could not be read) is a failure: the operator asked for this proof.
struct RootsCustomerCheck: DrillCheck {
    let descriptor = CheckDescriptor("roots.customer", kind: .platform, needs: [.auditChain, .customerRoots],
                                     "the restored transparency_roots match the customer-archived roots given with --customer-roots")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let customer = context.options.customerRoots else { return [] }
        let source = context.options.customerRootsSource
        let fix = "--customer-roots needs the set's audit chain (audit_logs and transparency_roots, restored and readable): see verify_chain"
        guard let db = context.locate("audit_logs", platformDatabase: "acp_audit").db else {
            return [.failed("roots.customer", "\(source ?? "customer roots") given, but no restored database has audit_logs to compare them with", kind: .platform, fix: fix)]
        }
        let roots: [TransparencyRoot]
        do { roots = try await context.auditChain(in: db).roots } catch {
            if Task.isCancelled { throw CancellationError() }
            return [.failed("roots.customer", "\(source ?? "customer roots") given, but the restored roots could not be read: \(error)", kind: .platform, fix: fix)]
        }
        if let f = ChainVerifier.compare(restored: roots, reference: customer, kind: .archivedRootMismatch) {
            return [.failed("roots.customer", "\(source ?? "customer roots"): \(f.message)", kind: .platform, fix: VerifyChainCheck.fix)]
        }
        return [.passed("roots.customer", "\(customer.count) customer-archived root(s) (\(source ?? "file")) match the restored transparency_roots", kind: .platform)]
    }
}
