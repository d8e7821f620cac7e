// ember-lint: checks import layers of Python and Swift sources. All logic is in EmberLint.
import EmberCommandLine
import EmberUtils
import EmberLint
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// `result` holds the run's working data until the process ends: exit() leaves it to the
// kernel instead of freeing it piece by piece.
let result = EmberLintCLI.run(Array(CommandLine.arguments.dropFirst()), progress: true)
StandardStream.writeAll(result.stdout, to: 1)
StandardStream.writeAll(result.stderr, to: 2)
exit(result.code.rawValue)
