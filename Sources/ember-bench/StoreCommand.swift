import ArgumentParser
import EmberBench
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `ember-bench store copy --from SRC --to DST`: moves history between stores.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Manage stores: copy runs and baselines between SQLite and PostgreSQL stores.",
        subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every run and baseline of one store into another (idempotent: runs already there are skipped).",
            discussion: """
                A store is a path (or sqlite:PATH) for SQLite, or postgresql://… / postgres://… / \
                host=… dbname=… for PostgreSQL (libpq's settings and environment apply). The runs are \
                written in one transaction: all or none.
                """)
        @Option(help: "The store to read (it must exist; nothing in it is changed).") var from: String
        @Option(help: "The store to write (created and migrated when new).") var to: String

        func run() async throws {
            try await guarded {
                let source = try BenchStore(path: from, mode: .readOnly)
                let destination = try BenchStore(path: to, mode: .create)
                let s = try StoreCopy.copy(from: source, to: destination)
                print(
                    "copied \(s.copied) run\(s.copied == 1 ? "" : "s") from \(source.path) to \(destination.path) "
                        + "(\(s.present) already there); baselines: \(s.baselinesSet) set, \(s.baselinesUnchanged) unchanged")
            }
        }
    }
}
