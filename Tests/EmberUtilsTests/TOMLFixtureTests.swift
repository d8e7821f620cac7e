import EmberUtils
import Foundation
import Testing

/// The package root, found from this file's path (Tests/EmberUtilsTests/...).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Every document under fixtures/toml/ against what tomllib said of it
/// (scripts/toml-oracle.py check --record): NAME.json, the canonical JSON of an accepted
/// document, or NAME.error for a rejected one.
@Suite struct TOMLFixtureTests {
    static let root = packageRoot + "/fixtures/toml"

    static func documents(under folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root + "/" + folder) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".toml") }.sorted().map { folder + "/" + $0 }
    }

    static func check(_ folder: String) throws -> (accepted: Int, rejected: Int) {
        let docs = documents(under: folder)
        #expect(!docs.isEmpty, "no documents in fixtures/toml/\(folder)")
        var accepted = 0, rejected = 0
        for doc in docs {
            let path = root + "/" + doc
            let stem = String(path.dropLast(".toml".count))
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let result: Result<TOMLTable, TOMLError>
            do { result = .success(try TOML.parse(bytes: bytes)) } catch { result = .failure(error) }
            if let expected = try? String(contentsOfFile: stem + ".json", encoding: .utf8) {
                accepted += 1
                switch result {
                case .success(let table):
                    let json = TOML.canonicalJSON(table)
                    let want = expected.trimmingCharacters(in: .newlines)
                    if json != want {
                        Issue.record("\(doc): differs from tomllib \(Self.firstDifference(json, want))")
                    }
                case .failure(let error):
                    Issue.record("\(doc): tomllib accepts it, we reject it: \(error)")
                }
            } else if let why = try? String(contentsOfFile: stem + ".error", encoding: .utf8) {
                rejected += 1
                if case .success = result {
                    Issue.record("\(doc): tomllib rejects it (\(why.trimmingCharacters(in: .newlines))), we accept it")
                }
            } else {
                Issue.record("\(doc): no .json or .error beside it (run scripts/toml-oracle.py check --record)")
            }
        }
        print("fixtures/toml/\(folder): \(docs.count) documents, \(accepted) accepted, \(rejected) rejected, all compared with tomllib")
        return (accepted, rejected)
    }

    /// Where two texts first differ, with a little context of each.
    static func firstDifference(_ ours: String, _ theirs: String) -> String {
        let a = Array(ours.utf8), b = Array(theirs.utf8)
        var k = 0
        while k < a.count && k < b.count && a[k] == b[k] { k += 1 }
        func around(_ x: [UInt8]) -> String {
            String(decoding: x[max(0, k - 40)..<min(x.count, k + 40)], as: UTF8.self)
        }
        return "at byte \(k):\n  ours:    …\(around(a))…\n  tomllib: …\(around(b))…"
    }

    @Test func pyprojectFilesOfPopularPackages() throws {
        let (accepted, rejected) = try Self.check("pyproject")
        #expect(accepted >= 50 && rejected == 0)
    }

    @Test func handWrittenEdgeCases() throws {
        let (accepted, rejected) = try Self.check("edge")
        #expect(accepted >= 50 && rejected >= 50)
    }

    @Test func generatedDocuments() throws {
        let (accepted, rejected) = try Self.check("generated")
        #expect(accepted >= 100 && rejected >= 100)
    }
}
