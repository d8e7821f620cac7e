import EmberMigrate
import Foundation
import Testing

/// Runs legacy programs with the legacy-ember stand-in (checked against the real legacy
/// package: fixtures/migrate/legacy-ember/README.md) before and after migrating a copy of
/// them in one run, with the shipped runtime beside them, and asserts the same stdout, exit
/// status and exception type. All programs of a phase run in one interpreter
/// (scripts/migrate-run-programs.py) to keep the load low on shared CI cores.
/// scripts/migrate-differential.py does the same through the binary.
extension MigrateTests {
    @Suite struct DifferentialTests {
        struct Outcome: Decodable, Equatable {
            var status: Int
            var output: String
            var exception: String?
        }

        static let programsFolder = MigrateFixture.root.appendingPathComponent("programs")

        /// The programs' main files (a `pNNpkg/` folder beside one is its package).
        static var mains: [String] {
            MigrateFixture.pythonFiles(under: programsFolder).filter { !$0.contains("/") }
        }

        func runAll(_ python: String, _ programs: [String], in folder: URL) throws -> [String: Outcome] {
            let runner = MigrateFixture.packageRoot.appendingPathComponent("scripts/migrate-run-programs.py").path
            let results = folder.appendingPathComponent(".outcomes.json")
            let standIn = MigrateFixture.root.appendingPathComponent("legacy-ember").path
            let (status, _, err) = try MigrateFixture.run(python, [runner, "--out", results.path] + programs, cwd: folder,
                                                          environment: ["PYTHONPATH": standIn, "PYTHONDONTWRITEBYTECODE": "1"])
            #expect(status == 0, "program runner failed: \(err)")
            defer { try? FileManager.default.removeItem(at: results) }
            return try JSONDecoder().decode([String: Outcome].self, from: Data(contentsOf: results))
        }

        /// Migrates every file under `folder` in one run (as `ember-migrate --write folder`),
        /// writes the runtime beside them, and returns the run.
        func migrate(_ folder: URL) throws -> MigrationResult {
            let files = MigrateFixture.pythonFiles(under: folder)
            let result = Migration.run(MigrateFixture.inputs(files, root: folder), options: MigrationOptions())
            for file in result.files where file.status == .changed {
                try MigrationFiles.writeAtomically(file.rewritten!, to: folder.appendingPathComponent(file.path).path)
            }
            try MigrationFiles.writeAtomically(Array(runtimeModuleText(rules: .builtIn()).utf8),
                                               to: folder.appendingPathComponent("ember_runtime.py").path)
            return result
        }

        func assertSame(_ before: [String: Outcome], _ after: [String: Outcome], _ mains: [String]) throws {
            for main in mains {
                let b = try #require(before[main], "\(main) did not run before migration")
                let a = try #require(after[main], "\(main) did not run after migration")
                #expect(a.status == b.status, "\(main): exit \(b.status) before, \(a.status) after\n\(a.output)")
                #expect(a.exception == b.exception, "\(main): \(b.exception ?? "no exception") before, \(a.exception ?? "no exception") after")
                #expect(a.output == b.output, "\(main) prints differently after migration")
            }
        }

        @Test func thereAreAtLeastFortyPrograms() {
            #expect(Self.mains.count >= 40)
        }

        /// The 50 programs in the style of the real code, migrated together.
        @Test func migratedProgramsBehaveTheSame() throws {
            let python = try #require(MigrateFixture.python3(), "python3 not found; the differential tests need it")
            let scratch = try MigrateFixture.scratch("differential")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let work = scratch.appendingPathComponent("programs")
            try MigrateFixture.copyTree(Self.programsFolder, to: work)
            let mains = Self.mains
            let before = try runAll(python, mains, in: work)
            let result = try migrate(work)
            #expect(result.summary.filesSkipped == 0, "files skipped: \(result.report.filter { $0.kind == .skipped || $0.kind == .abandoned }.map(\.text))")
            #expect(result.summary.classesConverted >= 50, "only \(result.summary.classesConverted) classes converted")
            let after = try runAll(python, mains, in: work)
            try assertSame(before, after, mains)
            let second = Migration.run(MigrateFixture.inputs(MigrateFixture.pythonFiles(under: work).filter { $0 != "ember_runtime.py" }, root: work),
                                       options: MigrationOptions())
            #expect(second.summary.filesChanged == 0, "a second run changes \(second.files.filter { $0.status == .changed }.map(\.path))")
        }

        /// Random legacy programs of the real shapes (fixed seed; scripts/migrate-random-programs.py).
        @Test func randomProgramsBehaveTheSame() throws {
            let python = try #require(MigrateFixture.python3(), "python3 not found; the differential tests need it")
            let scratch = try MigrateFixture.scratch("random")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let work = scratch.appendingPathComponent("programs")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let generator = MigrateFixture.packageRoot.appendingPathComponent("scripts/migrate-random-programs.py").path
            let (genStatus, _, genErr) = try MigrateFixture.run(python, [generator, "20261206", "40", work.path])
            #expect(genStatus == 0, "generator failed: \(genErr)")
            let mains = MigrateFixture.pythonFiles(under: work).filter { !$0.contains("/") }
            #expect(mains.count == 40)
            let before = try runAll(python, mains, in: work)
            for main in mains { #expect(before[main]?.status == 0, "random program \(main) fails before migration") }
            let result = try migrate(work)
            #expect(result.summary.filesSkipped == 0)
            #expect(result.summary.classesConverted > result.summary.classesAdapted, "converted \(result.summary.classesConverted), adapted \(result.summary.classesAdapted)")
            let after = try runAll(python, mains, in: work)
            try assertSame(before, after, mains)
        }
    }
}
