import EmberUtils
import Foundation
import Testing

@Suite struct VersionTests {
    /// VERSION (read by scripts/release.sh for the wheel) and the constant the tools print
    /// must never disagree.
    @Test func constantMatchesVersionFile() throws {
        let text = try String(contentsOfFile: packageRoot + "/VERSION", encoding: .utf8)
        let fileVersion = text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(EmberVersion.string == fileVersion, "Sources/EmberUtils/Version.swift says \(EmberVersion.string), VERSION says \(fileVersion)")
    }

    /// The pre-commit hooks package (pre-commit/pyproject.toml) is this version and installs
    /// the tools of this version.
    @Test func hooksPackagePinsThisVersion() throws {
        let text = try String(contentsOfFile: packageRoot + "/pre-commit/pyproject.toml", encoding: .utf8)
        #expect(text.contains("\nversion = \"\(EmberVersion.string)\"\n"), "pre-commit/pyproject.toml: version is not \(EmberVersion.string)")
        #expect(text.contains("\"ember-tools==\(EmberVersion.string)\""), "pre-commit/pyproject.toml does not pin ember-tools==\(EmberVersion.string)")
    }

    /// A release version is MAJOR.MINOR.PATCH (what the wheel's file name and pip expect).
    @Test func versionIsThreeNumbers() {
        let parts = EmberVersion.string.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }, "\(EmberVersion.string)")
    }
}
