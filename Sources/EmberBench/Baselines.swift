import Foundation

/// Which stored runs a candidate is compared against.
public enum BaselineSpec: Sendable, Equatable, CustomStringConvertible {
    /// A name set with `ember-bench baseline set NAME`.
    case named(String)
    /// The latest run whose commit starts with this prefix.
    case commit(String)
    /// The last K matching runs on a branch (median of their medians per benchmark).
    case branch(String)
    /// One run by id.
    case run(Int64)

    /// `run:12`, `commit:abc123`, `branch:main`; anything else is a baseline name.
    public static func parse(_ text: String) throws -> BaselineSpec {
        if text.hasPrefix("run:") {
            guard let id = Int64(text.dropFirst(4)) else {
                throw BenchError("baseline \"\(text)\": after run: give a run id, e.g. run:12")
            }
            return .run(id)
        }
        if text.hasPrefix("commit:") {
            let sha = String(text.dropFirst(7))
            guard !sha.isEmpty, sha.allSatisfy(\.isHexDigit) else {
                throw BenchError("baseline \"\(text)\": after commit: give a hex commit prefix, e.g. commit:4026f02")
            }
            return .commit(sha)
        }
        if text.hasPrefix("branch:") { return .branch(String(text.dropFirst(7))) }
        return .named(text)
    }

    public var description: String {
        switch self {
        case .named(let n): "baseline \"\(n)\""
        case .commit(let c): "commit \(c)"
        case .branch(let b): "branch \(b)"
        case .run(let id): "run \(id)"
        }
    }
}

/// The baseline samples for a comparison, or why there are none.
public enum BaselineResolution: Sendable {
    case found(samples: [String: BenchmarkSamples], label: String)
    case noBaseline(String)
    case incomparable(String)
}

extension BenchStore {
    /// Resolves `spec` for a candidate measured on `machineDigest`. Only runs from the
    /// same machine fingerprint are used; `ignoreMachine` lifts that (interleaved or
    /// deliberate cross-machine comparisons).
    public func resolveBaseline(
        _ spec: BaselineSpec, machineDigest: String, lastK: Int = 5, excludingRun: Int64? = nil,
        ignoreMachine: Bool = false
    ) throws -> BaselineResolution {
        func single(_ run: RunRecord?, _ what: String) throws -> BaselineResolution {
            guard let run else { return .noBaseline("no \(what) in \(path)") }
            if !ignoreMachine && run.machineDigest != machineDigest {
                return .incomparable(
                    "\(what) is \(run.shortDescription), measured on another machine (\(run.machine.summary)); "
                        + "measure the baseline on this machine, use --interleave, or pass --ignore-machine")
            }
            let label = what.hasPrefix("run ") ? run.shortDescription : "\(what) = \(run.shortDescription)"
            return .found(samples: try samples(runID: run.id), label: label)
        }
        switch spec {
        case .named(let name):
            return try single(try baseline(named: name), "baseline \"\(name)\"")
        case .run(let id):
            return try single(try run(id: id), "run \(id)")
        case .commit(let prefix):
            let digest = ignoreMachine ? nil : machineDigest
            let matching = try runs(machineDigest: digest, commitPrefix: prefix, limit: 2).filter { $0.id != excludingRun }
            guard let run = matching.first else {
                if try runs(commitPrefix: prefix, limit: 2).contains(where: { $0.id != excludingRun }) {
                    return .incomparable(
                        "runs of commit \(prefix) exist, but none from this machine; "
                            + "measure it here, use --interleave, or pass --ignore-machine")
                }
                return .noBaseline("no run of commit \(prefix) in \(path)")
            }
            return .found(samples: try samples(runID: run.id), label: "commit \(prefix): \(run.shortDescription)")
        case .branch(let branch):
            let digest = ignoreMachine ? nil : machineDigest
            let matching = Array(
                try runs(branch: branch, machineDigest: digest, limit: lastK + 1).filter { $0.id != excludingRun }.prefix(lastK))
            if matching.isEmpty {
                let others = try runs(branch: branch, limit: 2).filter { $0.id != excludingRun }
                if others.isEmpty { return .noBaseline("no run on branch \(branch) in \(path)") }
                return .incomparable(
                    "runs on branch \(branch) exist, none from the candidate's machine; "
                        + "measure the baseline here, use --interleave, or pass --ignore-machine")
            }
            let perRun = try matching.map { try samples(runID: $0.id) }
            let ids = matching.map { String($0.id) }.joined(separator: ", ")
            return .found(
                samples: Self.medianOfRuns(perRun),
                label: "branch \(branch): median of last \(matching.count) runs (\(ids))")
        }
    }

    /// Per benchmark, the samples of the run whose median is the median of the runs'
    /// medians (the lower one for an even count): a real sample set, robust to one
    /// odd run.
    static func medianOfRuns(_ runs: [[String: BenchmarkSamples]]) -> [String: BenchmarkSamples] {
        var names = Set<String>()
        for r in runs { names.formUnion(r.keys) }
        var out: [String: BenchmarkSamples] = [:]
        for name in names {
            let candidates = runs.compactMap { $0[name] }.map { ($0, Statistics.median($0.samples)) }
                .sorted { $0.1 < $1.1 }
            out[name] = candidates[(candidates.count - 1) / 2].0
        }
        return out
    }
}
