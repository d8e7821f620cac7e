import EmberProject
import EmberUtils
import Foundation
import Testing
@testable import EmberLint

/// CLI output of the fixture projects in every format, compared with fixtures/lint/golden/.
/// Re-record with `EMBER_RECORD=1 swift test --filter GoldenTests`.
@Suite struct GoldenTests {
    static let cases: [(name: String, arguments: [String], code: ToolExit)] = [
        ("layered.txt", ["fixtures/lint/layered"], .failure),
        ("layered.explain.txt", ["fixtures/lint/layered", "--explain"], .failure),
        ("layered.json", ["fixtures/lint/layered", "--format", "json"], .failure),
        ("layered.sarif", ["fixtures/lint/layered", "--format", "sarif"], .failure),
        ("layered.github.txt", ["fixtures/lint/layered", "--format", "github"], .failure),
        ("layered.graph.json", ["fixtures/lint/layered", "--graph"], .success),
        ("namespace.txt", ["fixtures/lint/namespace"], .failure),
        ("namespace.json", ["fixtures/lint/namespace", "--format", "json"], .failure),
        ("swift-package.txt", ["fixtures/lint/swift-package"], .failure),
        ("swift-package.sarif", ["fixtures/lint/swift-package", "--format", "sarif"], .failure),
        ("swift-package.github.txt", ["fixtures/lint/swift-package", "--format", "github"], .failure),
        ("bad-input.txt", ["fixtures/lint/bad-input"], .failure),
        ("bad-input.json", ["fixtures/lint/bad-input", "--format", "json"], .failure),
    ]

    /// Absolute fixture paths keep the test independent of the working directory; the
    /// package root and the run time are masked so the output is stable.
    static func run(_ arguments: [String]) -> EmberLintCLI.Result {
        let absolute = arguments.map { $0.hasPrefix("fixtures/") ? packageRoot + "/" + $0 : $0 }
        var result = EmberLintCLI.run(absolute + ["--no-cache"])
        result.stdout = normalise(result.stdout)
        return result
    }

    static func normalise(_ text: String) -> String {
        var s = text.replacingOccurrences(of: packageRoot + "/", with: "")
        s = s.replacingOccurrences(of: #" in [0-9]+\.[0-9]+ s\n"#, with: " in TIME s\n", options: .regularExpression)
        return s
    }

    @Test(arguments: cases.indices)
    func goldenOutput(_ index: Int) throws {
        let c = GoldenTests.cases[index]
        let result = GoldenTests.run(c.arguments)
        #expect(result.code == c.code, "\(c.name): \(result.stderr)")
        let goldenPath = packageRoot + "/fixtures/lint/golden/" + c.name
        if ProcessInfo.processInfo.environment["EMBER_RECORD"] == "1" {
            try FileManager.default.createDirectory(atPath: packageRoot + "/fixtures/lint/golden", withIntermediateDirectories: true)
            try result.stdout.write(toFile: goldenPath, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOfFile: goldenPath, encoding: .utf8)
        #expect(result.stdout == golden, "\(c.name) differs from its golden file; re-record with EMBER_RECORD=1 if the change is intended")
    }
}
