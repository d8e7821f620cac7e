import EmberTestSupport
import EmberUtils
import Foundation
import Testing
@testable import EmberLint

/// The built `ember-lint`, wherever the build put it (runs that need their own working folder).
let emberLintBinary = ToolBinary.path("ember-lint")

/// Runs the `ember-lint` binary in `folder`: exit status, stdout, stderr.
func emberLint(_ arguments: [String], in folder: String) throws -> (status: Int32, stdout: String, stderr: String) {
    let r = try ToolBinary.run("ember-lint", arguments, in: folder)
    return (r.status, r.stdout, r.stderr)
}

/// A project with an ember-lint.toml at its root, a src layout, and four findings in one
/// file: a forbidden internal import (EL001) and a forbidden third-party module (EL002)
/// each imported twice.
func writeProject(_ dir: String, mayImport: String = "\"stdlib\"") throws {
    try write("""
        [[layers]]
        name = "core"
        modules = ["app.core"]
        may-import = [\(mayImport)]

        [[layers]]
        name = "api"
        modules = ["app.api"]
        may-import = ["*"]
        """, dir + "/ember-lint.toml")
    try write("", dir + "/src/app/__init__.py")
    try write("", dir + "/src/app/api/__init__.py")
    try write("", dir + "/src/app/api/models.py")
    try write("", dir + "/src/app/core/__init__.py")
    try write("""
        import numpy
        from app.api import models
        def later():
            import numpy
            from app.api import models
        """, dir + "/src/app/core/config.py")
}

@Suite struct FindingIdentityTests {
    /// Adding a module to a layer's may-import rewords every message of that layer: the
    /// findings are the same, and a baseline keeps them out (version 1 matched messages).
    @Test func ruleEditsThatKeepTheFindingKeepItBaselined() throws {
        try withScratch { dir in
            try writeProject(dir)
            let baseline = dir + "/baseline.json"
            let w = EmberLintCLI.run(["--no-cache", dir + "/src", "--write-baseline", baseline])
            #expect(w.stdout.contains("recorded 4 findings"), "\(w.stdout)")
            try writeProject(dir, mayImport: "\"stdlib\", \"attrs\"")
            let r = EmberLintCLI.run(["--no-cache", dir + "/src", "--baseline", baseline])
            #expect(r.code == .success, "\(r.stdout)")
            #expect(r.stdout.contains("4 in baseline"))
            // Allowing numpy removes two findings; forbidding something new adds one.
            try writeProject(dir, mayImport: "\"stdlib\", \"numpy\"")
            try write("import requests\n", dir + "/src/app/core/net.py")
            let later = EmberLintCLI.run(["--no-cache", dir + "/src", "--baseline", baseline])
            #expect(later.code == .failure)
            #expect(later.stdout.contains("net.py:1:8: EL002 app.core.net imports requests"))
            #expect(later.stdout.contains("2 in baseline"), "\(later.stdout)")
        }
    }

    /// The same findings whether the path is `src`, `./src/`, absolute, or `.` from inside
    /// `src`: paths are relative to the project root (the configuration file's folder).
    @Test func pathSpellingsAndSubfoldersGiveTheSameIdentities() throws {
        #expect(FileManager.default.isExecutableFile(atPath: emberLintBinary), "build ember-lint first: \(emberLintBinary)")
        try withScratch { dir in
            try writeProject(dir)
            let written = try emberLint(["--no-cache", "src", "--write-baseline", "baseline.json"], in: dir)
            #expect(written.status == 0, "\(written.stderr)")
            let text = try String(contentsOfFile: dir + "/baseline.json", encoding: .utf8)
            #expect(text.contains("\"path\" : \"src/app/core/config.py\""), "\(text)")
            for (arguments, folder) in [(["./src/"], dir), ([dir + "/src"], dir), (["."], dir + "/src"), ([".."], dir + "/src/app")] {
                let r = try emberLint(["--no-cache"] + arguments + ["--baseline", dir + "/baseline.json"], in: folder)
                #expect(r.status == 0, "\(arguments) in \(folder): \(r.stdout)")
                #expect(r.stdout.contains("4 in baseline"), "\(arguments) in \(folder): \(r.stdout)")
            }
            // SARIF fingerprints are the identities: the same from every folder.
            let fromRoot = try emberLint(["--no-cache", "--format", "sarif", "src"], in: dir)
            let fromSrc = try emberLint(["--no-cache", "--format", "sarif", "."], in: dir + "/src")
            #expect(fingerprints(fromRoot.stdout) == fingerprints(fromSrc.stdout))
            #expect(fingerprints(fromRoot.stdout).contains("EL001|src/app/core/config.py|app.core.config|app.api.models|1"))
        }
    }

    /// One file importing the same module twice has two findings; their fingerprints
    /// differ (they collided when a fingerprint was code, importer and imported).
    @Test func fingerprintsAreUniqueInARun() throws {
        try withScratch { dir in
            try writeProject(dir)
            let r = EmberLintCLI.run(["--no-cache", "--format", "sarif", dir + "/src"])
            let prints = fingerprints(r.stdout)
            #expect(prints.count == 4)
            #expect(Set(prints).count == prints.count, "\(prints)")
            #expect(prints.sorted() == [
                "EL001|src/app/core/config.py|app.core.config|app.api.models|0",
                "EL001|src/app/core/config.py|app.core.config|app.api.models|1",
                "EL002|src/app/core/config.py|app.core.config|numpy|0",
                "EL002|src/app/core/config.py|app.core.config|numpy|1",
            ])
        }
        // Every finding of the fixtures too, EL003, EL004, EL009 and EL101 included.
        for fixture in ["layered", "namespace", "swift-package", "bad-input"] {
            let r = EmberLintCLI.run(["--no-cache", "--format", "sarif", "--explain", packageRoot + "/fixtures/lint/" + fixture])
            let prints = fingerprints(r.stdout)
            #expect(!prints.isEmpty && Set(prints).count == prints.count, "\(fixture): \(prints)")
        }
    }

    /// A baseline entry absorbs one finding: a third import of the same module is new.
    @Test func occurrencesCountFindingsOfTheSameKind() throws {
        try withScratch { dir in
            try writeProject(dir)
            let baseline = dir + "/baseline.json"
            _ = EmberLintCLI.run(["--no-cache", dir + "/src", "--write-baseline", baseline])
            try write("import numpy\nfrom app.api import models\nimport numpy\nimport numpy\n", dir + "/src/app/core/config.py")
            let r = EmberLintCLI.run(["--no-cache", dir + "/src", "--baseline", baseline])
            #expect(r.code == .failure)
            #expect(r.stdout.contains("4 in baseline") == false)
            #expect(r.stdout.contains("3 in baseline"), "\(r.stdout)")
            #expect(r.stdout.components(separatedBy: ": EL002 ").count == 2, "one new numpy finding: \(r.stdout)")
        }
    }

    /// Version 1 files (code, path as typed, message) are read and matched as before, with
    /// a note on how to rewrite them; anything else is an error that says how to regenerate.
    @Test func oldBaselinesAreReadAndOthersExplained() throws {
        try withScratch { dir in
            try writeProject(dir)
            let src = dir + "/src"
            let old = """
                {
                  "entries" : [
                    {"code" : "EL002", "message" : "app.core.config imports numpy (third-party); layer 'core' may import: stdlib", "path" : "\(src)/app/core/config.py"},
                    {"code" : "EL002", "message" : "app.core.config imports numpy (third-party); layer 'core' may import: stdlib", "path" : "\(src)/app/core/config.py"}
                  ],
                  "version" : 1
                }
                """
            try write(old, dir + "/old.json")
            let r = EmberLintCLI.run(["--no-cache", src, "--baseline", dir + "/old.json"])
            #expect(r.stdout.contains("2 in baseline"), "\(r.stdout)")
            #expect(r.stdout.contains("EL001") && !r.stdout.contains("EL002"))
            #expect(r.stderr.contains("version 1 baseline") && r.stderr.contains("--write-baseline \(dir)/old.json"), "\(r.stderr)")
            try write("{\"version\": 7, \"entries\": []}", dir + "/future.json")
            let future = EmberLintCLI.run(["--no-cache", src, "--baseline", dir + "/future.json"])
            #expect(future.code == .error)
            #expect(future.stderr.contains("baseline version 7") && future.stderr.contains("regenerate it with: ember-lint --write-baseline"), "\(future.stderr)")
            try write("[1, 2]", dir + "/junk.json")
            let junk = EmberLintCLI.run(["--no-cache", src, "--baseline", dir + "/junk.json"])
            #expect(junk.code == .error && junk.stderr.contains("regenerate it with"), "\(junk.stderr)")
        }
    }

    @Test func projectRootIsTheConfigFolderElseAMarkerElseTheWorkingFolder() throws {
        try withScratch { dir in
            try write("", dir + "/a/b/c/m.py")
            // No configuration, no marker: the working directory.
            #expect(ProjectRoot.locate(rules: RuleSetParser.builtInDefault(), firstPath: dir + "/a/b/c", workingDirectory: "/w") == "/w")
            try FileManager.default.createDirectory(atPath: dir + "/a/.git", withIntermediateDirectories: true)
            #expect(ProjectRoot.locate(rules: RuleSetParser.builtInDefault(), firstPath: dir + "/a/b/c/m.py", workingDirectory: "/w") == dir + "/a")
            try write("[project]\nname = \"x\"\n", dir + "/a/b/pyproject.toml")
            #expect(ProjectRoot.locate(rules: RuleSetParser.builtInDefault(), firstPath: dir + "/a/b/c", workingDirectory: "/w") == dir + "/a/b")
            // A configuration file: its folder, wherever the first path is.
            try write("[[layers]]\nname = \"x\"\nmodules = [\"m\"]\n", dir + "/a/b/c/ember-lint.toml")
            let (rules, errors) = ConfigDiscovery.load(rulesFile: nil, firstPath: dir + "/a/b/c")
            #expect(errors.isEmpty)
            #expect(ProjectRoot.locate(rules: rules, firstPath: dir + "/a/b/c", workingDirectory: "/w") == dir + "/a/b/c")
        }
        #expect(ProjectRoot.relativePath(of: "./src//a/../b.py", root: "/p", workingDirectory: "/p") == "src/b.py")
        #expect(ProjectRoot.relativePath(of: "b.py", root: "/p", workingDirectory: "/p/src") == "src/b.py")
        #expect(ProjectRoot.relativePath(of: "/q/x.py", root: "/p/r", workingDirectory: "/") == "../../q/x.py")
        #expect(FindingIdentity(code: "EL003", path: "a|b", importer: "x", imported: "", occurrence: 2).fingerprint == "EL003|a\\|b|x||2")
    }
}

/// The `partialFingerprints` values of a SARIF document, in result order.
func fingerprints(_ sarif: String) -> [String] {
    guard let data = sarif.data(using: .utf8),
          let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let runs = doc["runs"] as? [[String: Any]], let results = runs.first?["results"] as? [[String: Any]] else { return [] }
    return results.compactMap { ($0["partialFingerprints"] as? [String: String])?["emberLint/v2"] }
}
