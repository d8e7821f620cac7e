import Foundation

/// The package root, found from this file's path (tests read fixtures in place).
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func fixture(_ relative: String) -> URL { packageRoot.appendingPathComponent("fixtures/bench/\(relative)") }

/// A fresh directory under the system temp dir, removed by the caller when wanted.
func temporaryDirectory(_ tag: String = "ember-bench-test") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Relative closeness for floating-point oracles.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    if a == b { return true }
    return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-300)
}

/// A hyperfine JSON document of `commands` commands with ten times each: big enough that an
/// import's write transaction is still running when a test interrupts it.
func bigHyperfineDocument(commands: Int) -> String {
    var doc = "{\"results\": ["
    for i in 0..<commands {
        if i > 0 { doc += "," }
        doc += "{\"command\": \"cmd \(i)\", \"times\": [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}"
    }
    return doc + "]}"
}
