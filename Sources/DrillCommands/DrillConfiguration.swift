import AuditChain
import Common
import Drill
import Foundation
import Logging
import Repository
import Sandbox

/// The drill's configuration, read once from `run`'s flags and the runbook's environment: every problem
/// is collected and named (exit 2), nothing is half-applied.
enum DrillConfiguration {
    struct Problems: Error {
        var messages: [String]
    }

    static func read(_ flags: RunCommand, environment env: [String: String], logger: Logger) -> Result<DrillOptions, Problems> {
        func value(_ name: String) -> String? { CommandEnvironment.value(name, in: env) }
        var problems: [String] = []

        // The repository.
        var store: (any ObjectStore)?
        do {
            if let location = try RepositoryLocation.from(repo: flags.repo, environment: env) {
                store = try SetLayout.open(location, environment: env, logger: logger)
            } else {
                problems.append(RepositoryLocation.missing)
            }
        } catch { problems.append("\(error)") }
        // The key that opens the set.
        var decryption: Decryption?
        if let identity = value("ACP_BACKUP_AGE_IDENTITY") {
            if !FileManager.default.isReadableFile(atPath: identity) { problems.append("ACP_BACKUP_AGE_IDENTITY=\(identity): no readable file there") }
            decryption = .age(identity: identity)
            if !ProcessPipeline.onPath("age") { problems.append("age is not installed (apt-get install age)") }
        } else if let home = value("ACP_BACKUP_GPG_HOMEDIR") {
            decryption = .gpg(home: home)
            if !ProcessPipeline.onPath("gpg") { problems.append("gpg is not installed (apt-get install gnupg)") }
        } else if !flags.dryRun {
            problems.append("ACP_BACKUP_AGE_IDENTITY (path to the age identity file) or ACP_BACKUP_GPG_HOMEDIR must be set")
        }
        var budgets = DrillBudgets()
        for b in flags.budget {
            do { budgets = try budgets.applying(b) } catch { problems.append(error.message) }
        }
        var checksFile = ChecksFile(sql: [], jobs: [])
        if let checks = flags.checks {
            do {
                guard let text = try? String(contentsOfFile: checks, encoding: .utf8) else { throw DrillError(.configuration, "--checks \(checks): cannot read the file") }
                checksFile = try ChecksFile.parse(yaml: text, file: checks)
            } catch { problems.append("\(error)") }
        }
        var customer: [TransparencyRoot]?
        if let customerRoots = flags.customerRoots {
            do {
                guard let data = FileManager.default.contents(atPath: customerRoots) else { throw DrillError(.configuration, "--customer-roots \(customerRoots): cannot read the file") }
                customer = try RootsFile.parse(data, source: customerRoots)
            } catch { problems.append("\(error)") }
        }
        // The keys trusted to sign sets: with them, an unsigned or badly signed set is refused.
        var trusted: TrustedKeys?
        if let path = flags.trustedKeys ?? value("ACP_DRILL_TRUSTED_KEYS") {
            do {
                guard let data = FileManager.default.contents(atPath: path) else { throw DrillError(.configuration, "--trusted-keys \(path): cannot read the file") }
                trusted = try TrustedKeys.parse(data, source: path)
            } catch { problems.append("\(error)") }
        }
        var pinnedKeys: [HistoricalKey]?
        if let path = flags.transparencyKeys ?? value("ACP_DRILL_TRANSPARENCY_KEYS") {
            do {
                guard let data = FileManager.default.contents(atPath: path) else { throw DrillError(.configuration, "--transparency-keys \(path): cannot read the file") }
                pinnedKeys = try TransparencyKeysFile.parse(data, source: path)
            } catch { problems.append("\(error)") }
        }
        // The receipts mirror, and the recovery target.
        var receipts: (any ObjectStore)?
        do {
            if let location = try RepositoryLocation.receipts(flags.receipts, environment: env) {
                receipts = try SetLayout.open(location, environment: env, logger: logger)
            }
        } catch { problems.append("receipts: \(error)") }
        let until = flags.until.flatMap { UTCTime.parse($0) }
        if flags.until != nil, receipts == nil {
            problems.append("--until needs --receipts (or ACP_RECEIPTS_S3_BUCKET): a dump alone restores to the moment it was taken")
        }
        var stack: StackSpec?
        do { stack = try flags.stack.stack(environment: env) } catch { problems.append("the stack file was refused (see above)") }
        guard problems.isEmpty, let store, let stack else { return .failure(Problems(messages: problems)) }

        var options = DrillOptions(source: store, decryption: decryption ?? .age(identity: "(not set)"), spec: stack,
                                   operatorName: flags.operatorName ?? value("ACP_DRILL_OPERATOR") ?? value("USER") ?? value("LOGNAME") ?? "system")
        if let backup = flags.backup { options.selection = .timestamp(backup) }
        if let w = flags.randomWithin, let seconds = DurationText.positiveSeconds(w) { options.selection = .randomWithin(seconds: seconds) }
        options.budgets = budgets
        options.keep = flags.keep
        options.keepTTL = DurationText.positiveSeconds(flags.keepTtl) ?? options.keepTTL
        options.maxAge = DurationText.positiveSeconds(flags.maxAge) ?? options.maxAge
        if let jobs = flags.jobs { options.jobs = jobs }
        options.instances = flags.instances
        options.customerRoots = customer
        options.receipts = receipts
        options.until = until
        options.trustedKeys = trusted
        options.transparencyKeys = pinnedKeys
        options.customerRootsSource = flags.customerRoots
        options.userChecks = checksFile.sql
        options.jobChecks = checksFile.jobs
        options.sandboxOptions = flags.stack.sandboxOptions
        options.restorePassword = value("RESTORE_DB_PASSWORD")
        if let pw = options.restorePassword { options.loginPassword = pw }
        return .success(options)
    }
}
