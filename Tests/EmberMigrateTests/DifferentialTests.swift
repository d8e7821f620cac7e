import EmberMigrate
import Foundation
import Testing

/// Runs legacy programs with the stand-in `ember` package before and after migrating a
/// copy, and asserts identical output. All programs of a phase run in one interpreter
/// (scripts/migrate-run-programs.py) to keep the load low on shared CI cores.
extension MigrateTests {
    @Suite struct DifferentialTests {
        static var programs: [GoldenCase] { GoldenCase.all.filter { $0.root.lastPathComponent == "programs" } }

        struct Outcome: Decodable {
            var status: Int
            var output: String
        }

        /// A scratch folder with the stand-in package (its adapter written by --emit-adapter's code).
        func standIn(in scratch: URL) throws -> URL {
            let standIn = scratch.appendingPathComponent("standin")
            try MigrateFixture.copyTree(MigrateFixture.root.appendingPathComponent("legacy-ember"), to: standIn)
            try MigrationFiles.writeAtomically(Array(migrationAdapterModule.utf8), to: standIn.appendingPathComponent("ember/adapter.py").path)
            return standIn
        }

        func runAll(_ python: String, _ programs: [String], in folder: URL, standIn: URL) throws -> [String: Outcome] {
            let runner = MigrateFixture.packageRoot.appendingPathComponent("scripts/migrate-run-programs.py").path
            let (status, out, err) = try MigrateFixture.run(python, [runner] + programs, cwd: folder,
                                                            environment: ["PYTHONPATH": standIn.path, "PYTHONDONTWRITEBYTECODE": "1"])
            #expect(status == 0, "program runner failed: \(err)")
            return try JSONDecoder().decode([String: Outcome].self, from: Data(out.utf8))
        }

        @Test func thereAreAtLeastTenPrograms() {
            #expect(Self.programs.count >= 10)
        }

        /// Each program (with its package) is migrated as its own run, as a user would.
        @Test func migratedProgramsPrintTheSame() throws {
            guard let python = MigrateFixture.python3() else {
                Issue.record("python3 not found; the differential tests need it")
                return
            }
            let scratch = try MigrateFixture.scratch("differential")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let standIn = try standIn(in: scratch)
            let work = scratch.appendingPathComponent("programs")
            try MigrateFixture.copyTree(MigrateFixture.root.appendingPathComponent("programs"), to: work)
            let mains = Self.programs.map { $0.files[0] }
            let before = try runAll(python, mains, in: work, standIn: standIn)
            for program in Self.programs {
                let result = Migration.run(MigrateFixture.inputs(program.files, root: work), options: MigrationOptions())
                #expect(result.summary.filesSkipped == 0, "\(program.name): files skipped")
                #expect(result.summary.filesChanged > 0, "\(program.name): nothing was migrated")
                for file in result.files where file.status == .changed {
                    try MigrationFiles.writeAtomically(file.rewritten!, to: work.appendingPathComponent(file.path).path)
                }
            }
            let after = try runAll(python, mains, in: work, standIn: standIn)
            for main in mains {
                let b = try #require(before[main]), a = try #require(after[main])
                #expect(b.status == 0, "legacy \(main) fails before migration: \(b.output)")
                #expect(a.status == 0, "\(main) fails after migration: \(a.output)")
                #expect(a.output == b.output, "\(main) prints differently after migration")
            }
        }

        /// 25 random legacy programs (fixed seed; scripts/migrate-random-programs.py) migrated
        /// together must print exactly what they printed before, and a second run is empty.
        @Test func randomProgramsPrintTheSame() throws {
            guard let python = MigrateFixture.python3() else {
                Issue.record("python3 not found; the differential tests need it")
                return
            }
            let scratch = try MigrateFixture.scratch("random")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let standIn = try standIn(in: scratch)
            let work = scratch.appendingPathComponent("programs")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let generator = MigrateFixture.packageRoot.appendingPathComponent("scripts/migrate-random-programs.py").path
            let (genStatus, _, genErr) = try MigrateFixture.run(python, [generator, "20261126", "25", work.path])
            #expect(genStatus == 0, "\(genErr)")
            let files = MigrateFixture.pythonFiles(under: work)
            #expect(files.count == 25)
            let before = try runAll(python, files, in: work, standIn: standIn)
            let result = Migration.run(MigrateFixture.inputs(files, root: work), options: MigrationOptions())
            #expect(result.summary.filesSkipped == 0)
            #expect(result.summary.classesConverted >= 25, "too few conversions to prove anything")
            #expect(result.summary.classesAdapted >= 5, "the unsafe shapes were not exercised")
            for file in result.files where file.status == .changed {
                try MigrationFiles.writeAtomically(file.rewritten!, to: work.appendingPathComponent(file.path).path)
            }
            let after = try runAll(python, files, in: work, standIn: standIn)
            for file in files {
                let b = try #require(before[file]), a = try #require(after[file])
                #expect(b.status == 0, "\(file) fails before migration: \(b.output)")
                #expect(a.status == 0, "\(file) fails after migration: \(a.output)")
                #expect(a.output == b.output, "\(file) prints differently after migration")
            }
            let second = Migration.run(MigrateFixture.inputs(files, root: work), options: MigrationOptions())
            #expect(second.summary.filesChanged == 0)
        }
    }
}
