#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which stored runs a candidate is compared against.
///
/// One naming everywhere (`--baseline`, `report --baseline`, `baseline set`): a bare
/// word is a name, looked up first among the names given with `ember-bench baseline set`
/// and then among the branches with runs; the prefixes `name:`, `branch:`, `commit:` and
/// `run:` say which one is meant. The default is `main`.
public enum BaselineSpec: Sendable, Equatable, CustomStringConvertible {
    /// A bare word: a baseline name if one is set, else a branch.
    case auto(String)
    /// Only a name set with `ember-bench baseline set NAME`.
    case named(String)
    /// The last K matching runs of a branch.
    case branch(String)
    /// The latest run whose commit starts with this prefix.
    case commit(String)
    /// One run by id.
    case run(Int64)

    public static let defaultText = "main"

    /// `run:12`, `commit:abc123`, `branch:main`, `name:release`; anything else is `auto`.
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
        if text.hasPrefix("branch:") {
            let b = String(text.dropFirst(7))
            guard !b.isEmpty else { throw BenchError("baseline \"\(text)\": after branch: give a branch name") }
            return .branch(b)
        }
        if text.hasPrefix("name:") {
            let n = String(text.dropFirst(5))
            try validateName(n)
            return .named(n)
        }
        guard !text.isEmpty else { throw BenchError("--baseline: give a name, branch:NAME, commit:SHA or run:ID") }
        return .auto(text)
    }

    /// Baseline names are plain words: no `:` (it would read as a prefix), no spaces.
    public static func validateName(_ name: String) throws {
        guard !name.isEmpty, !name.contains(":"), !name.contains(where: \.isWhitespace) else {
            throw BenchError("baseline name \"\(name)\": use a word without ':' or spaces, e.g. main or release-1.2")
        }
    }

    public var description: String {
        switch self {
        case .auto(let n): n
        case .named(let n): "name:\(n)"
        case .commit(let c): "commit:\(c)"
        case .branch(let b): "branch:\(b)"
        case .run(let id): "run:\(id)"
        }
    }
}

/// The baseline samples for a comparison, or why there are none.
public enum BaselineResolution: Sendable {
    case found(BaselineData)
    case noBaseline(String)
    case incomparable(String)
}

extension BenchStore {
    /// Resolves `spec` for a candidate measured on `machineDigest`. Only runs from the
    /// same machine fingerprint are used; `ignoreMachine` lifts that.
    ///
    /// - `isDefault`: the spec was not given by the user; a default that matches nothing
    ///   is a first run (no baseline, exit 3). A name the user gave that matches nothing
    ///   is an error (exit 2) listing the names that exist.
    /// - `history`: runs (the baseline's own included) used for the run-to-run spread.
    public func resolveBaseline(
        _ spec: BaselineSpec, machineDigest: String, lastK: Int = 5, history: Int = 10, excludingRun: Int64? = nil,
        ignoreMachine: Bool = false, isDefault: Bool = false
    ) throws -> BaselineResolution {
        let digest = ignoreMachine ? nil : machineDigest
        /// Runs on the baseline run's branch and machine, for the spread only.
        func spreadRuns(like run: RunRecord, excluding used: Set<Int64>) throws -> ([[String: BenchmarkSamples]], [Int64]) {
            let extra = max(0, history - used.count)
            if extra == 0 { return ([], []) }
            let others = try runs(branch: run.revision.branch, machineDigest: run.machineDigest, limit: history + used.count + 2)
                .filter { !used.contains($0.id) && $0.id != excludingRun }.prefix(extra)
            return (try others.map { try samples(runID: $0.id) }, others.map(\.id))
        }
        func single(_ run: RunRecord, _ what: String) throws -> BaselineResolution {
            if !ignoreMachine && run.machineDigest != machineDigest {
                return .incomparable(
                    "\(what) is \(run.shortDescription), measured on another machine (\(run.machine.summary)); "
                        + "measure the baseline on this machine, use same-job A/B (`ember-bench ab`), or pass --ignore-machine")
            }
            let (spread, spreadIDs) = try spreadRuns(like: run, excluding: [run.id])
            let label = (what.hasPrefix("run ") ? run.shortDescription : "\(what) = \(run.shortDescription)")
                + (spreadIDs.isEmpty ? "" : "; run-to-run spread from \(spreadIDs.count + 1) runs")
            return .found(BaselineData(runs: [try samples(runID: run.id)], runIDs: [run.id], label: label, spread: spread))
        }
        func branchHistory(_ branch: String, what: String) throws -> BaselineResolution? {
            let matching = Array(
                try runs(branch: branch, machineDigest: digest, limit: lastK + 1).filter { $0.id != excludingRun }.prefix(lastK))
            if matching.isEmpty {
                let others = try runs(branch: branch, limit: 2).filter { $0.id != excludingRun }
                if others.isEmpty { return nil }
                return .incomparable(
                    "runs on branch \(branch) exist, none from the candidate's machine; "
                        + "measure the baseline here, use same-job A/B (`ember-bench ab`), or pass --ignore-machine")
            }
            let perRun = try matching.map { try samples(runID: $0.id) }
            let (spread, spreadIDs) = try spreadRuns(like: matching[0], excluding: Set(matching.map(\.id)))
            let ids = matching.map { String($0.id) }.joined(separator: ", ")
            return .found(
                BaselineData(
                    runs: perRun, runIDs: matching.map(\.id),
                    label: "\(what): last \(matching.count) run\(matching.count == 1 ? "" : "s") (\(ids))"
                        + (spreadIDs.isEmpty ? "" : "; run-to-run spread from \(matching.count + spreadIDs.count) runs"),
                    spread: spread))
        }
        switch spec {
        case .named(let name):
            guard let run = try baseline(named: name) else { throw try unknownName(name) }
            return try single(run, "baseline \(name)")
        case .auto(let name):
            if let run = try baseline(named: name) { return try single(run, "baseline \(name)") }
            if let found = try branchHistory(name, what: "branch \(name)") { return found }
            if isDefault {
                return .noBaseline(
                    "no baseline named \(name) and no run on branch \(name) in \(path) yet (a first run); "
                        + "`ember-bench baseline set \(name)` names a run, or runs recorded on branch \(name) become the baseline")
            }
            throw try unknownName(name)
        case .branch(let branch):
            if let found = try branchHistory(branch, what: "branch \(branch)") { return found }
            return .noBaseline("no run on branch \(branch) in \(path) yet")
        case .run(let id):
            guard let run = try run(id: id) else {
                throw BenchError("no run \(id) in \(path); `ember-bench history --db \(path)` lists the runs")
            }
            return try single(run, "run \(id)")
        case .commit(let prefix):
            let matching = try runs(machineDigest: digest, commitPrefix: prefix, limit: 2).filter { $0.id != excludingRun }
            guard let run = matching.first else {
                if try runs(commitPrefix: prefix, limit: 2).contains(where: { $0.id != excludingRun }) {
                    return .incomparable(
                        "runs of commit \(prefix) exist, but none from this machine; "
                            + "measure it here, use same-job A/B (`ember-bench ab`), or pass --ignore-machine")
                }
                return .noBaseline("no run of commit \(prefix) in \(path)")
            }
            return try single(run, "commit \(prefix)")
        }
    }

    /// The error for a baseline name that matches nothing, listing what exists.
    func unknownName(_ name: String) throws -> BenchError {
        let names = try baselines().map(\.name)
        let branches = try branchNames()
        var parts: [String] = []
        parts.append(names.isEmpty ? "no baseline names are set" : "baseline names: \(names.joined(separator: ", "))")
        parts.append(branches.isEmpty ? "no branch has runs" : "branches with runs: \(branches.joined(separator: ", "))")
        return BenchError(
            "unknown baseline \"\(name)\" in \(path): \(parts.joined(separator: "; ")); "
                + "or use run:ID or commit:SHA (`ember-bench history` lists runs)")
    }
}
