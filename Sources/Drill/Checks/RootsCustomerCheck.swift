import AuditChain
import Common

/// `roots.customer`: the restored `transparency_roots` match the roots a customer archived
/// (`--customer-roots FILE`). Uses the roots verify_chain read; silent when it could not read.
struct RootsCustomerCheck: DrillCheck {
    let descriptor = CheckDescriptor("roots.customer", kind: .platform, needs: [.auditChain, .customerRoots],
                                     "the restored transparency_roots match the customer-archived roots given with --customer-roots")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let customer = context.options.customerRoots,
              let db = context.locate("audit_logs", platformDatabase: "acp_audit").db,
              let roots = try? await context.auditChain(in: db).roots else { return [] }
        let source = context.options.customerRootsSource
        if let f = ChainVerifier.compare(restored: roots, reference: customer, kind: .archivedRootMismatch) {
            return [.failed("roots.customer", "\(source ?? "customer roots"): \(f.message)", kind: .platform, fix: VerifyChainCheck.fix)]
        }
        return [.passed("roots.customer", "\(customer.count) customer-archived root(s) (\(source ?? "file")) match the restored transparency_roots", kind: .platform)]
    }
}
