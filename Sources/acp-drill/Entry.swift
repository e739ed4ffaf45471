import ArgumentParser
import DrillCommands
import Logging

/// The executable: bootstraps logging (libraries never do) and forwards to the command library.
@main
enum Entry {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        await AcpDrill.main()
    }
}
