// ember-lint: checks import layers of Python and Swift sources. All logic is in EmberLint.
import EmberLint
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc

// glibc's mallopt (malloc.h is not in the Glibc module map).
@_silgen_name("mallopt") func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3

// Token arrays of large files exceed glibc's mmap threshold, so each file would map,
// fault in and unmap fresh pages; keeping freed memory in the heap avoids that churn.
_ = glibcMallopt(mMmapThreshold, 256 << 20)
_ = glibcMallopt(mTrimThreshold, 512 << 20)
#endif

let result = EmberLintCLI.run(Array(CommandLine.arguments.dropFirst()), keepMemoryAtExit: true)
EmberLintCLI.writeAll(result.stdout, to: 1)
EmberLintCLI.writeAll(result.stderr, to: 2)
exit(result.code.rawValue)
