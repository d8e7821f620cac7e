// ember-lint: checks import layers of Python and Swift sources. All logic is in EmberLint.
import EmberCommandLine
import EmberLint
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let result = EmberLintCLI.run(Array(CommandLine.arguments.dropFirst()), progress: true)
ToolCommandLine.writeAll(result.stdout, to: 1)
ToolCommandLine.writeAll(result.stderr, to: 2)
exit(result.code.rawValue)
