import EmberProject
import EmberUtils
import Foundation
import Testing
@testable import EmberLint

/// The issue "ember-lint passes while checking nothing": each case below passed (exit 0 or
/// a wrong exit 1) before the shared project model, and must now be an error or a real check.
@Suite struct NoVacuousPassTests {
    static let acmeRules = """
        [[layers]]
        name = "utils"
        modules = ["acme.utlis"]
        may-import = ["stdlib"]
        """

    @Test func layerPatternMatchingNothingIsAConfigurationError() throws {
        try withScratch { dir in
            try write(NoVacuousPassTests.acmeRules, dir + "/ember-lint.toml")
            try write("import requests\n", dir + "/acme/utils/net.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .error, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("'acme.utlis' matches no module"), "\(r.stderr)")
            #expect(r.stderr.contains("the closest existing module is 'acme.utils'"), "\(r.stderr)")
            // Fixed, the violation is found.
            try write(NoVacuousPassTests.acmeRules.replacingOccurrences(of: "utlis", with: "utils"), dir + "/ember-lint.toml")
            #expect(EmberLintCLI.run(["--no-cache", dir]).code == .failure)
        }
    }

    @Test func ignoreImporterMatchingNothingIsAConfigurationError() throws {
        try withScratch { dir in
            try write(NoVacuousPassTests.acmeRules.replacingOccurrences(of: "utlis", with: "utils") + """

                [[ignore]]
                importer = "acme.utils.nett"
                imported = "requests"
                reason = "legacy"
                """, dir + "/ember-lint.toml")
            try write("import requests\n", dir + "/acme/utils/net.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .error)
            #expect(r.stderr.contains("'acme.utils.nett' matches no module; the closest existing module is 'acme.utils.net'"), "\(r.stderr)")
        }
    }

    @Test func mistypedSourceRootIsAConfigurationError() throws {
        try withScratch { dir in
            try write("source-roots = [\"scr\"]\n" + NoVacuousPassTests.acmeRules.replacingOccurrences(of: "utlis", with: "utils"), dir + "/ember-lint.toml")
            try write("import requests\nfrom .. import x\n", dir + "/src/acme/utils/net.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .error, "\(r.stdout)")
            #expect(r.stderr.contains("'scr' is not a folder"), "\(r.stderr)")
            #expect(r.stderr.contains("the closest existing folder is 'src'"))
            #expect(!r.stdout.contains("EL005"))
        }
    }

    @Test func missingPathIsAUsageErrorWithOrWithoutBaseline() throws {
        try withScratch { dir in
            try write("import os\n", dir + "/src/ember/core/a.py")
            let baseline = dir + "/b.json"
            #expect(EmberLintCLI.run(["--no-cache", dir, "--write-baseline", baseline]).code == .success)
            for arguments in [["--no-cache", dir + "/scr"], ["--no-cache", "--baseline", baseline, dir + "/scr/"]] {
                let r = EmberLintCLI.run(arguments)
                #expect(r.code == .error, "\(arguments): \(r.stdout)")
                #expect(r.stderr.contains("scr") && r.stderr.contains("no such file or directory"), "\(r.stderr)")
            }
        }
    }

    @Test func aRunThatChecksNoFileExitsTwo() throws {
        try withScratch { dir in
            try write("# nothing to lint\n", dir + "/notes.md")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .error)
            #expect(r.stderr.contains("0 files checked"), "\(r.stderr)")
        }
    }

    @Test func builtInRulesOnATreeWithoutEmberModulesAreAnError() throws {
        try withScratch { dir in
            try write("import os\n", dir + "/shop/cart.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .error)
            #expect(r.stderr.contains("no file of the run is in a layer of the built-in Ember rules"), "\(r.stderr)")
        }
    }

    /// `ember-lint Sources/` on a Swift package without --rules: the Swift rules apply.
    @Test func swiftPackageGetsTheSwiftRules() throws {
        // This package: its own layers, clean, and every target checked.
        let r = EmberLintCLI.run(["--no-cache", packageRoot + "/Sources"])
        #expect(r.code == .success, "\(r.stdout.suffix(600))\(r.stderr)")
        #expect(!r.stdout.hasPrefix("0 files"))
        try withScratch { dir in
            // Another Swift package: the built-in Swift rules name targets it does not have.
            try write("// swift-tools-version:6.0\n", dir + "/Package.swift")
            try write("import Foundation\n", dir + "/Sources/Shop/Cart.swift")
            let other = EmberLintCLI.run(["--no-cache", dir + "/Sources"])
            #expect(other.code == .error)
            #expect(other.stderr.contains("built-in rules/swift-package.toml") && other.stderr.contains("matches no module"), "\(other.stderr)")
            // A Swift layer breach in a package with the same targets is found.
            try write("import EmberCore\n", dir + "/Sources/EmberUtils/A.swift")
            for target in ["EmberCore", "EmberExecution", "EmberProviders", "EmberModels", "Ember", "EmberPython", "EmberProject", "EmberCommandLine", "EmberBench", "EmberLint", "EmberMigrate", "ember-lint", "toml-dump"] {
                try write("import Foundation\n", dir + "/Sources/\(target)/F.swift")
            }
            let breach = EmberLintCLI.run(["--no-cache", dir + "/Sources"])
            #expect(breach.code == .failure, "\(breach.stderr)")
            #expect(breach.stdout.contains("EmberUtils imports EmberCore"))
        }
    }
}

@Suite struct WorkspaceTests {
    /// A uv workspace without source-roots: each package is named below its own root and
    /// uses its own configuration.
    @Test func eachPackageIsNamedBelowItsRootAndUsesItsConfiguration() throws {
        try withScratch { dir in
            try write("[tool.uv.workspace]\nmembers = [\"packages/*\"]\n", dir + "/pyproject.toml")
            try write("""
                [project]
                name = "billing"
                [tool.ember-lint]
                [[tool.ember-lint.layers]]
                name = "core"
                modules = ["billing.core"]
                may-import = ["stdlib", "shared.money"]
                """, dir + "/packages/billing/pyproject.toml")
            try write("""
                [project]
                name = "shared"
                [tool.ember-lint]
                [[tool.ember-lint.layers]]
                name = "money"
                modules = ["shared.money"]
                may-import = ["stdlib"]
                """, dir + "/packages/shared/pyproject.toml")
            try write("", dir + "/packages/billing/src/billing/__init__.py")
            try write("from shared.money import Amount\nfrom shared.audit import log\nimport requests\n", dir + "/packages/billing/src/billing/core/invoice.py")
            try write("", dir + "/packages/shared/src/shared/__init__.py")
            try write("import decimal\nimport billing.core.invoice\n", dir + "/packages/shared/src/shared/money.py")
            try write("x = 1\n", dir + "/packages/shared/src/shared/audit.py")
            let graph = EmberLintCLI.run(["--no-cache", "--graph", dir])
            let edges = (try JSONSerialization.jsonObject(with: Data(graph.stdout.utf8)) as! [String: Any])["edges"] as! [[String: Any]]
            let pairs = Set(edges.map { "\($0["importer"]!) -> \($0["imported"]!) \($0["kind"]!)" })
            #expect(pairs.contains("billing.core.invoice -> shared.money internal"), "\(pairs)")
            #expect(pairs.contains("shared.money -> billing.core.invoice internal"), "\(pairs)")
            #expect(!graph.stdout.contains("packages.billing"))
            let r = EmberLintCLI.run(["--no-cache", "--format", "json", dir])
            #expect(r.code == .failure, "\(r.stderr)")
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let found = (doc["diagnostics"] as! [[String: Any]]).compactMap { d -> String? in
                guard let a = d["importer"] as? String, let b = d["imported"] as? String else { return nil }
                return "\(d["code"]!) \(a) -> \(b)"
            }
            // billing's rules: shared.audit is first-party and not allowed; requests is third-party.
            #expect(found.contains("EL001 billing.core.invoice -> shared.audit"), "\(found)")
            #expect(found.contains("EL002 billing.core.invoice -> requests"), "\(found)")
            // shared's own rules govern shared.money.
            #expect(found.contains("EL001 shared.money -> billing.core.invoice"), "\(found)")
        }
    }
}

@Suite struct DiscoveryTests {
    /// pip has `_internal/operations/build`: a package named like a build folder is code.
    @Test func packageNamedBuildIsCheckedAndExcludesAreConfigurable() throws {
        try withScratch { dir in
            try write("""
                [[layers]]
                name = "ops"
                modules = ["pip._internal.operations"]
                may-import = ["stdlib"]
                """, dir + "/ember-lint.toml")
            try write("", dir + "/pip/__init__.py")
            try write("", dir + "/pip/_internal/operations/build/__init__.py")
            try write("import requests\n", dir + "/pip/_internal/operations/build/wheel.py")
            // A setuptools build output folder (not a package) is left out by default.
            try write("import requests\n", dir + "/build/lib/pip/_internal/operations/x.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .failure)
            #expect(r.stdout.contains("operations/build/wheel.py:1:8: EL002"), "\(r.stdout)")
            #expect(!r.stdout.contains("build/lib"))
            // extend-exclude leaves it out; exclude = [] takes everything.
            try write("extend-exclude = [\"pip/_internal/operations/build\"]\n" + (try String(contentsOfFile: dir + "/ember-lint.toml", encoding: .utf8)), dir + "/ember-lint.toml")
            #expect(!EmberLintCLI.run(["--no-cache", dir]).stdout.contains("wheel.py"))
        }
    }

    @Test func gitignoreIsRespected() throws {
        try withScratch { dir in
            try FileManager.default.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)
            try write("""
                [[layers]]
                name = "app"
                modules = ["app"]
                may-import = ["stdlib"]
                """, dir + "/ember-lint.toml")
            try write("generated/\n/app/scratch.py\n*_pb2.py\n!keep_pb2.py\n", dir + "/.gitignore")
            for name in ["ok.py", "generated/g.py", "scratch.py", "deep/scratch.py", "m_pb2.py", "keep_pb2.py", "nested/a.py", "nested/b.py"] {
                try write("import requests\n", dir + "/app/" + name)
            }
            try write("a.py\n", dir + "/app/nested/.gitignore")
            let r = EmberLintCLI.run(["--no-cache", dir])
            let reported = Set(r.stdout.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: "/app/"), line.contains("EL002") else { return nil }
                return String(line[range.upperBound...].prefix { $0 != ":" })
            })
            #expect(reported == ["ok.py", "deep/scratch.py", "keep_pb2.py", "nested/b.py"], "\(r.stdout)")
            // respect-gitignore = false takes them all.
            try write("respect-gitignore = false\n" + (try String(contentsOfFile: dir + "/ember-lint.toml", encoding: .utf8)), dir + "/ember-lint.toml")
            #expect(EmberLintCLI.run(["--no-cache", dir]).stdout.contains("8 files"))
        }
    }
}
