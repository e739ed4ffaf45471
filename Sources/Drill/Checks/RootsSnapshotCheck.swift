import AuditChain
import Common
import Foundation

/// `roots.snapshot`: the restored `transparency_roots` match the snapshot the backup stored separately
/// (`transparency_roots/<ts>.jsonl.age`). Uses the roots verify_chain read; silent when it could not read.
struct RootsSnapshotCheck: DrillCheck {
    let descriptor = CheckDescriptor("roots.snapshot", kind: .platform, needs: [.auditChain],
                                     "the restored transparency_roots match the separately stored roots snapshot of the set")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        guard let db = context.locate("audit_logs", platformDatabase: "acp_audit").db,
              let roots = try? await context.auditChain(in: db).roots else { return [] }
        guard let snapshot = context.snapshot else {
            if roots.isEmpty { return [.skipped("roots.snapshot", "no transparency_roots in the set", kind: .platform)] }
            return [.failed("roots.snapshot", "the set has \(roots.count) restored root(s) but no separately stored transparency_roots snapshot", kind: .platform,
                            fix: "back up with acp-drill backup, which writes transparency_roots/<ts>.jsonl.age beside the set")]
        }
        do {
            let reference = try RootsFile.parse(Data(snapshot), source: "transparency_roots snapshot")
            if let f = ChainVerifier.compare(restored: roots, reference: reference, kind: .snapshotMismatch) {
                return [.failed("roots.snapshot", f.message, kind: .platform, fix: VerifyChainCheck.fix)]
            }
            return [.passed("roots.snapshot", "\(reference.count) root(s) in the separately stored snapshot match the restored transparency_roots", kind: .platform)]
        } catch {
            return [.failed("roots.snapshot", "\(error)", kind: .platform)]
        }
    }
}
