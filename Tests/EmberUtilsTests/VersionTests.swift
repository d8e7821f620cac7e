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

    /// A release version is MAJOR.MINOR.PATCH (what the wheel's file name and pip expect).
    @Test func versionIsThreeNumbers() {
        let parts = EmberVersion.string.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }, "\(EmberVersion.string)")
    }
}
