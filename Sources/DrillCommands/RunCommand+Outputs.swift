import Drill
import Foundation
import ReportPages

/// Where `acp-drill run` writes its evidence, checked before the drill starts and written after it.
extension RunCommand {
    struct Outputs {
        var reports: String, log: String?, junit: String?, metrics: String?, html: String?, json: Bool

        /// Every folder an output goes to, with the flag that names it.
        var folders: [(flag: String, path: String)] {
            var out = [(flag: "--reports", path: reports)]
            for (flag, file) in [("--log", log), ("--junit", junit), ("--metrics", metrics), ("--html", html)] {
                if let file { out.append((flag, (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent)) }
            }
            return out
        }

        /// The output folders that cannot be created or written, each as a sentence naming flag, folder and
        /// the system's reason. Creates missing folders (as the outputs would) and a probe file it removes;
        /// with `dryRun`, creates nothing and asks the nearest existing folder instead.
        func unwritable(dryRun: Bool = false) -> [String] {
            var seen = Set<String>()
            return folders.compactMap { flag, path in
                guard seen.insert(path).inserted else { return nil }
                if dryRun {
                    var folder = path
                    var isDir: ObjCBool = false
                    while !FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
                        let parent = (folder as NSString).deletingLastPathComponent
                        folder = parent.isEmpty ? "." : parent
                    }
                    if !isDir.boolValue { return "\(flag) \(path): \(folder) is not a folder" }
                    return access(folder, W_OK) == 0 ? nil : "\(flag) \(path): \(folder): \(String(cString: strerror(errno)))"
                }
                do { try DrillReport.writeFile(Data(), to: "\(path)/.acp-drill-probe") } catch { return "\(flag) \(path): \(error)" }
                unlink("\(path)/.acp-drill-probe")
                return nil
            }
        }
    }

    /// Writes every output, then the verdict line, last on stdout. Returns the outputs that could not be
    /// written: then the drill exits 1 and the last line says that its evidence is incomplete, whatever the
    /// restore's own verdict (the full reason is on stderr).
    static func writeOutputs(_ report: DrillReport, _ o: Outputs, loginPassword: String? = nil) -> [String] {
        if o.json, let text = try? jsonText(report) { print(text) }
        DrillProgress.summary(report, loginPassword: loginPassword)
        var unwritten: [String] = []
        func attempt(_ what: String, _ done: String?, _ body: () throws -> Void) {
            do {
                try body()
                if let done { print(done) }
            } catch {
                printError("error: \(what): \(error)")
                unwritten.append("\(what): \(error)")
            }
        }
        attempt("the report (--reports \(o.reports))", nil) { print("report: \(try report.write(toDirectory: o.reports))") }
        if let log = o.log { attempt("the drill log \(log)", "drill log: \(log)") { try report.appendRunbookRow(to: log) } }
        if let junit = o.junit { attempt("the JUnit file \(junit)", nil) { try report.writeJUnit(to: junit) } }
        if let metrics = o.metrics { attempt("the metrics file \(metrics)", nil) { try report.writePrometheus(to: metrics) } }
        if let html = o.html { attempt("the page \(html)", "page: \(html)") { try DrillReport.writeFile(Data(try DrillPage.render(report).utf8), to: html) } }
        if let failure = report.firstFailure, DrillReport.oneLine(failure) != failure {
            printError("the first failure, in full:\n\(failure)")
        }
        if let first = unwritten.first, report.verdict != .aborted {
            let restore = report.verdict == .passed ? "the restore passed (\(report.rowsVerified) rows verified)" : "the restore failed (\(report.firstFailure.map(DrillReport.oneLine) ?? "see stderr"))"
            print(DrillReport.oneLine("Restore drill FAILED — evidence not recorded: cannot write \(first.prefix { $0 != ":" }); \(restore)"))
        } else {
            print(report.lastLine)
        }
        return unwritten
    }
}
