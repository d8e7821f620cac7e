import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `ember-bench store copy`: runs and baselines from one store to another (SQLite to
/// PostgreSQL and back), idempotently.
public enum StoreCopy {
    public struct Summary: Sendable, Equatable {
        public var copied = 0
        /// Runs the destination had already (the same run by its identity below).
        public var present = 0
        public var baselinesSet = 0
        public var baselinesUnchanged = 0
    }

    /// What makes two stored runs the same run: ids differ between stores, so a run is
    /// known by when, where and what it measured.
    struct RunIdentity: Hashable {
        var createdNs: Int64
        var machineDigest: String
        var commit: String?
        var branch: String?
        var dirty: Bool
        var source: String
        var label: String?
        var benchmarkCount: Int

        init(_ r: RunRecord) {
            createdNs = r.createdNs
            machineDigest = r.machineDigest
            commit = r.revision.commit
            branch = r.revision.branch
            dirty = r.revision.dirty
            source = r.source
            label = r.label
            benchmarkCount = r.benchmarkCount
        }
    }

    /// Copies every run of `source` that `destination` lacks (oldest first, all in one
    /// transaction: all or none), then sets each baseline name of `source` to the same run
    /// in `destination`. Copying again copies nothing.
    public static func copy(from source: BenchStore, to destination: BenchStore) throws -> Summary {
        var summary = Summary()
        var existing: [RunIdentity: Int64] = [:]
        for r in try destination.runs() { existing[RunIdentity(r)] = existing[RunIdentity(r)] ?? r.id }
        let runs = try source.runs().reversed()
        var mapped: [Int64: Int64] = [:]
        let missing = runs.filter { r in
            if let id = existing[RunIdentity(r)] {
                mapped[r.id] = id
                summary.present += 1
                return false
            }
            return true
        }
        if !missing.isEmpty {
            let ids = try destination.write { () throws -> [(Int64, Int64)] in
                try missing.map { r in
                    let writer = try destination.beginRun(
                        NewRun(revision: r.revision, machine: r.machine, source: r.source, label: r.label, createdNs: r.createdNs, results: []))
                    let samples = try source.samples(runID: r.id)
                    for name in samples.keys.sorted() { try writer.add(samples[name]!) }
                    try writer.finish(revision: r.revision, machine: r.machine, createdNs: r.createdNs, source: r.source)
                    return (r.id, writer.runID)
                }
            }
            for (from, to) in ids { mapped[from] = to }
            summary.copied = ids.count
        }
        for (name, run) in try source.baselines() {
            guard let target = mapped[run.id] else { continue }
            if try destination.baseline(named: name)?.id == target {
                summary.baselinesUnchanged += 1
            } else {
                try destination.setBaseline(name, runID: target)
                summary.baselinesSet += 1
            }
        }
        return summary
    }
}
