public import Foundation

/// The drill's private (0700) scratch folder on the host, named after its process so that a killed
/// drill's folder can be told from a live one: it holds ciphertext downloads and, briefly, plaintext
/// dumps, and is removed on every exit path (a SIGKILLed drill's by the next drill's `sweep`).
struct ScratchFolder: Sendable {
    static let prefix = "acp-drill-scratch-"
    let path: String

    /// Creates a new folder under `parent`.
    static func create(in parent: String) throws(DrillError) -> ScratchFolder {
        let path = "\(parent)/\(prefix)\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw DrillError(.configuration, "cannot create the scratch folder \(path): \(error)") }
        return ScratchFolder(path: path)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Removes the folders of drills that were killed (SIGKILL): their process is gone. Returns their paths.
    @discardableResult
    static func sweep(parent: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
        var removed: [String] = []
        for e in entries where e.hasPrefix(prefix) {
            let pid = e.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) }
            let path = (parent as NSString).appendingPathComponent(e)
            if let pid, pid != getpid(), kill(pid, 0) != 0, errno == ESRCH, (try? FileManager.default.removeItem(atPath: path)) != nil {
                removed.append(path)
            }
        }
        return removed
    }
}

extension DrillRun {
    /// Removes the scratch folders of killed drills under `parent` (`acp-drill gc` and every drill call it);
    /// returns their paths.
    @discardableResult
    public static func sweepScratchFolders(in parent: String = NSTemporaryDirectory()) -> [String] {
        ScratchFolder.sweep(parent: parent)
    }
}
