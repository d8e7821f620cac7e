// ember-lint: checks import layers of Python and Swift sources. All logic is in EmberLint.
import EmberLint
import Foundation

let result = EmberLintCLI.run(Array(CommandLine.arguments.dropFirst()))
FileHandle.standardOutput.write(Data(result.stdout.utf8))
FileHandle.standardError.write(Data(result.stderr.utf8))
exit(result.code.rawValue)
