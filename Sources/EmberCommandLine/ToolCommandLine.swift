// The command-line contract ember-lint, ember-migrate and ember-bench share (docs/cli.md):
// one error format, one exit-code table (ToolExit), --version from one source, progress
// on a terminal. Each tool's front end goes through here instead of ArgumentParser's own
// `main()`, whose messages start with a bare "Error:" and whose usage errors exit 64.
import ArgumentParser
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ToolCommandLine {
    /// `<tool>: error: <message>`, one line per line of `message`.
    public static func errorText(_ tool: String, _ message: String) -> String {
        "\(tool): error: \(message)\n"
    }

    /// `<tool> <version>`, what `--version` prints.
    public static func versionText(_ tool: String) -> String { "\(tool) \(EmberVersion.string)" }

    /// What a command line that did not parse, or a run that threw, prints and exits with:
    /// help and `--version` go to stdout with 0; an `ExitCode` thrown by a run is its code
    /// and prints nothing; anything else is `<tool>: error: ...` on stderr (with the usage
    /// for a command-line mistake) and exit 2.
    public static func failure<C: ParsableCommand>(_ type: C.Type, tool: String, error: any Error) -> (code: Int32, stdout: String, stderr: String) {
        if let code = error as? ExitCode { return (code.rawValue, "", "") }
        let message = type.fullMessage(for: error)
        if type.exitCode(for: error) == .success {
            return (ToolExit.success.rawValue, message.isEmpty ? "" : message + "\n", "")
        }
        var text = message
        for prefix in ["Error: ", "error: "] where text.hasPrefix(prefix) {
            text.removeFirst(prefix.count)
            break
        }
        return (ToolExit.error.rawValue, "", errorText(tool, text.isEmpty ? "\(error)" : text))
    }

    /// Parses the process's arguments (or `arguments`), runs the command and exits with the
    /// contract's code.
    public static func main<C: ParsableCommand>(_ type: C.Type, tool: String, arguments: [String]? = nil) -> Never {
        do {
            var command = try type.parseAsRoot(arguments)
            try command.run()
            exit(ToolExit.success.rawValue)
        } catch {
            finish(type.self, tool: tool, error: error)
        }
    }

    /// `main` for commands with asynchronous subcommands.
    public static func main<C: AsyncParsableCommand>(_ type: C.Type, tool: String, arguments: [String]? = nil) async -> Never {
        do {
            var command = try type.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(ToolExit.success.rawValue)
        } catch {
            finish(type.self, tool: tool, error: error)
        }
    }

    static func finish<C: ParsableCommand>(_ type: C.Type, tool: String, error: any Error) -> Never {
        let (code, out, err) = failure(type, tool: tool, error: error)
        StandardStream.writeAll(out, to: 1)
        StandardStream.writeAll(err, to: 2)
        exit(code)
    }
}
