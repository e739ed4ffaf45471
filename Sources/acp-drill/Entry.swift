import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import DrillCommands
import Logging

/// The executable: bootstraps logging (libraries never do) and forwards to the command library.
@main
enum Entry {
    static func main() async {
        // A reader that goes away (`acp-drill run | head`) must not kill a run before its teardown:
        // writes to a closed pipe fail quietly instead of raising SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        await AcpDrill.mainWithUsageExitCodes()
    }
}
