import EmberMigrate
import Foundation
import Testing

/// Runs every legacy program with the stand-in `ember` package before and after migrating
/// a copy of it, and asserts identical output.
@Suite(.serialized) struct DifferentialTests {
    static var programs: [GoldenCase] { GoldenCase.all.filter { $0.root.lastPathComponent == "programs" } }

    @Test func thereAreAtLeastTenPrograms() {
        #expect(Self.programs.count >= 10)
    }

    @Test(arguments: DifferentialTests.programs)
    func migratedProgramPrintsTheSame(_ program: GoldenCase) throws {
        guard let python = MigrateFixture.python3() else {
            Issue.record("python3 not found; the differential tests need it")
            return
        }
        let scratch = try MigrateFixture.scratch("differential")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let standIn = scratch.appendingPathComponent("standin")
        try MigrateFixture.copyTree(MigrateFixture.root.appendingPathComponent("ember-standin"), to: standIn)
        // The stand-in imports the adapter that --emit-adapter writes.
        try MigrationFiles.writeAtomically(Array(migrationAdapterModule.utf8), to: standIn.appendingPathComponent("ember/adapter.py").path)
        let work = scratch.appendingPathComponent("program")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        for file in program.files {
            let to = work.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: program.root.appendingPathComponent(file), to: to)
        }
        let environment = ["PYTHONPATH": standIn.path, "PYTHONDONTWRITEBYTECODE": "1"]
        let main = program.files[0]
        let (beforeStatus, before, beforeErr) = try MigrateFixture.run(python, [main], cwd: work, environment: environment)
        #expect(beforeStatus == 0, "legacy \(main) fails before migration: \(beforeErr)")

        let result = Migration.run(MigrateFixture.inputs(program.files, root: work), options: MigrationOptions())
        #expect(result.summary.filesSkipped == 0)
        #expect(result.summary.filesChanged > 0, "\(main): nothing was migrated")
        for file in result.files where file.status == .changed {
            try MigrationFiles.writeAtomically(file.rewritten!, to: work.appendingPathComponent(file.path).path)
        }
        let (afterStatus, after, afterErr) = try MigrateFixture.run(python, [main], cwd: work, environment: environment)
        #expect(afterStatus == 0, "\(main) fails after migration: \(afterErr)")
        #expect(after == before, "\(main) prints differently after migration")
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
        let standIn = scratch.appendingPathComponent("standin")
        try MigrateFixture.copyTree(MigrateFixture.root.appendingPathComponent("ember-standin"), to: standIn)
        try MigrationFiles.writeAtomically(Array(migrationAdapterModule.utf8), to: standIn.appendingPathComponent("ember/adapter.py").path)
        let work = scratch.appendingPathComponent("programs")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let generator = MigrateFixture.packageRoot.appendingPathComponent("scripts/migrate-random-programs.py").path
        let (genStatus, _, genErr) = try MigrateFixture.run(python, [generator, "20261126", "25", work.path])
        #expect(genStatus == 0, "\(genErr)")
        let files = MigrateFixture.pythonFiles(under: work)
        #expect(files.count == 25)
        let environment = ["PYTHONPATH": standIn.path, "PYTHONDONTWRITEBYTECODE": "1"]
        var before: [String: String] = [:]
        for file in files {
            let (status, out, err) = try MigrateFixture.run(python, [file], cwd: work, environment: environment)
            #expect(status == 0, "\(file) fails before migration: \(err)")
            before[file] = out
        }
        let result = Migration.run(MigrateFixture.inputs(files, root: work), options: MigrationOptions())
        #expect(result.summary.filesSkipped == 0)
        #expect(result.summary.classesConverted >= 25, "too few conversions to prove anything")
        #expect(result.summary.classesAdapted >= 5, "the unsafe shapes were not exercised")
        for file in result.files where file.status == .changed {
            try MigrationFiles.writeAtomically(file.rewritten!, to: work.appendingPathComponent(file.path).path)
        }
        for file in files {
            let (status, out, err) = try MigrateFixture.run(python, [file], cwd: work, environment: environment)
            #expect(status == 0, "\(file) fails after migration: \(err)")
            #expect(out == before[file], "\(file) prints differently after migration")
        }
        let second = Migration.run(MigrateFixture.inputs(files, root: work), options: MigrationOptions())
        #expect(second.summary.filesChanged == 0)
    }
}
