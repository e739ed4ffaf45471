public import Foundation

/// Runs `first | second`, handing `second`'s standard output to `onChunk` as it arrives (on the calling
/// thread, which blocks). Environment values reach the children through their environment, never their
/// argument lists. Each child's standard error is kept (bounded) for the error message.
public struct ProcessPipeline {
    public struct Step: Sendable {
        public var executable: String
        public var arguments: [String]
        public var environment: [String: String] = [:]

        public init(executable: String, arguments: [String], environment: [String: String] = [:]) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var tool: String
        public var status: Int32
        public var stderr: String
        public var description: String { "\(tool) exited with status \(status): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))" }

        public init(tool: String, status: Int32, stderr: String) {
            self.tool = tool
            self.status = status
            self.stderr = stderr
        }
    }

    /// Runs the steps, each one's standard output into the next's input, and hands the last one's output
    /// to `onChunk` as it arrives. A chunk is valid only during the call: its bytes are reused.
    public static func run(_ steps: [Step], onChunk: (Data) throws -> Void) throws {
        var processes: [Process] = []
        var errPipes: [Pipe] = []
        var previous: Pipe?
        let output = Pipe()
        for (i, step) in steps.enumerated() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [step.executable] + step.arguments
            p.environment = ProcessInfo.processInfo.environment.merging(step.environment) { $1 }
            if let previous { p.standardInput = previous } else { p.standardInput = FileHandle.nullDevice }
            let next = i == steps.count - 1 ? output : Pipe()
            p.standardOutput = next
            let err = Pipe()
            p.standardError = err
            errPipes.append(err)
            try p.run()
            processes.append(p)
            // The parent's copies of the inner pipe must close, or the next process never sees EOF.
            if let previous {
                try? previous.fileHandleForReading.close()
                try? previous.fileHandleForWriting.close()
            }
            previous = next === output ? nil : next
        }
        try? output.fileHandleForWriting.close()
        // Drain stderr concurrently so a chatty tool cannot block on a full pipe.
        let errors = errPipes.map { pipe -> (Thread, ErrBox) in
            let box = ErrBox()
            let t = Thread { box.data = pipe.fileHandleForReading.readDataToEndOfFile().prefix(8192) }
            t.start()
            return (t, box)
        }
        var thrown: (any Error)?
        // Large reads: FileHandle.availableData returns a few KiB at a time, which costs a bulk stream
        // (a COPY of hundreds of MB) measurable CPU in calls and allocations.
        let fd = output.fileHandleForReading.fileDescriptor
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            do { try onChunk(Data(bytesNoCopy: buffer.baseAddress!, count: n, deallocator: .none)) } catch {
                thrown = error
                for p in processes where p.isRunning { p.terminate() }
                break
            }
        }
        for p in processes { p.waitUntilExit() }
        while errors.contains(where: { $0.0.isExecuting }) { Thread.sleep(forTimeInterval: 0.005) }
        if let thrown { throw thrown }
        for (i, p) in processes.enumerated() where p.terminationStatus != 0 {
            throw Failure(tool: steps[i].executable, status: p.terminationStatus, stderr: String(decoding: errors[i].1.data, as: UTF8.self))
        }
    }

    final class ErrBox: @unchecked Sendable { var data = Data() }

    /// Whether an executable of this name is on PATH.
    public static func onPath(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    /// The first line a tool prints for `--version`.
    public static func version(_ tool: String) -> String {
        var text = ""
        try? run([Step(executable: tool, arguments: ["--version"])]) { text += String(decoding: $0, as: UTF8.self) }
        return text.split(separator: "\n").first.map(String.init) ?? "unknown"
    }
}
