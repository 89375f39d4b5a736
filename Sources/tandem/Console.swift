import ArgumentParser
import Foundation

/// Operator-facing output: one clear line per problem, unbuffered.
enum Console {
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data(("tandem: error: " + line + "\n").utf8))
    }

    /// Prints `message` as the single error line and returns the exit code to throw.
    static func fail(_ message: String) -> ExitCode {
        error(message)
        return ExitCode(1)
    }
}
