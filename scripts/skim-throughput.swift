// Throughput of PythonImportSkimmer.skim over every .py file of a tree, single thread.
// Built and run by scripts/measure-skim.sh (against the release build's objects).
import EmberPython
import Foundation

let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/tmp/lintscratch/trees/stdlib"
let passes = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 15 : 15
let starters = ["if", "for", "def", "try", "from", "elif", "else", "with", "case", "while", "class", "async",
                "match", "import", "except", "finally"]
// The filter of EmberLint's TokenPythonImportExtractor.skimFilter.
let filter = PythonImportSkimmer.Filter(
    lineStarters: starters, namesAnywhere: ["import_module", "__import__", "TYPE_CHECKING"], commentMarker: "ember-lint",
    headerWords: starters.filter { $0 != "import" && $0 != "from" }, structureNeedsAnywhereName: true)

var texts: [[UInt8]] = []
let walker = FileManager.default.enumerator(atPath: root)!
var paths: [String] = []
while let rel = walker.nextObject() as? String {
    if rel.hasSuffix(".py") { paths.append(root + "/" + rel) }
}
paths.sort()
for path in paths {
    guard let data = FileManager.default.contents(atPath: path), let source = try? PythonSource(bytes: Array(data)) else { continue }
    texts.append(source.text)
}
let totalBytes = texts.reduce(0) { $0 + $1.count }

// A fingerprint of the output, to compare builds: FNV-1a over kinds and offsets, and nil counts.
var hash: UInt64 = 0xcbf2_9ce4_8422_2325
var nils = 0, tokenCount = 0
func mix(_ v: Int) { hash = (hash ^ UInt64(truncatingIfNeeded: v)) &* 0x100_0000_01b3 }
for t in texts {
    if let tokens = PythonImportSkimmer.skim(text: t, filter: filter) {
        tokenCount += tokens.count
        for k in tokens { mix(Int(k.kind.rawValue)); mix(k.start); mix(k.end) }
        mix(-1)
    } else {
        nils += 1
        mix(-2)
    }
}

var seconds: [Double] = []
var sink = 0
for _ in 0..<passes {
    let start = DispatchTime.now().uptimeNanoseconds
    for t in texts { sink &+= PythonImportSkimmer.skim(text: t, filter: filter)?.count ?? 1 }
    seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
seconds.sort()
let mb = Double(totalBytes) / 1e6
print(String(format: "%d files, %.1f MB; %d nil, %d tokens, fingerprint %016llx", texts.count, mb, nils, tokenCount, hash))
print(String(format: "best %.1f MB/s (%.1f ms), median %.1f MB/s (%.1f ms) over %d passes  [%d]",
             mb / seconds[0], seconds[0] * 1e3, mb / seconds[passes / 2], seconds[passes / 2] * 1e3, passes, sink & 1))
