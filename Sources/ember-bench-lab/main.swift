// ember-bench-lab: measurements about ember-bench itself, for its documentation (not a
// product, not released): the gate-quality simulation and synthetic stores for scale
// figures. `swift run -c release ember-bench-lab simulate-gate` prints the table of
// docs/ember-bench.md.
import ArgumentParser
import EmberBench
import EmberCommandLine
import EmberUtils
import Foundation

struct Lab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember-bench-lab",
        abstract: "Measurements about ember-bench itself (development tool).",
        subcommands: [SimulateGate.self, SyntheticStore.self])
}

struct SimulateGate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-gate",
        abstract: "Gate-quality simulation: A/A failure rate and detection per compare of many benchmarks.")
    @Option(help: "A/A compares per row.") var aaTrials = 500
    @Option(help: "Compares per slowdown per row.") var detectionTrials = 300
    @Option(help: "Benchmarks per compare.") var benchmarks = 200
    @Option(help: "Samples per process.") var samples = 50
    @Option(help: "Processes per run.") var processes = 5
    @Option(help: "Seed.") var seed: UInt64 = 2026
    @Option(help: "Ratio beyond which a significant change counts.") var threshold = 1.2
    @Option(help: "Error rate over all benchmarks of a compare.") var alpha = 0.01

    func run() throws {
        var policy = GatePolicy()
        policy.threshold = threshold
        policy.alpha = alpha
        let table = GateSimulation.run(
            aaTrials: aaTrials, detectionTrials: detectionTrials, benchmarks: benchmarks, samplesPerProcess: samples,
            processes: processes, policy: policy, seed: seed,
            progress: { FileHandle.standardError.write(Data("simulating \($0)\n".utf8)) })
        print(table.markdown)
    }
}

struct SyntheticStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth-store", abstract: "Write synthetic runs into a store (for scale measurements).")
    @Option(help: "The store to write (created if missing).") var db: String
    @Option var runs = 2
    @Option var benchmarks = 10_000
    @Option var processes = 5
    @Option(help: "Samples per process.") var samples = 10
    @Option var seed: UInt64 = 7

    func run() throws {
        let store = try BenchStore(path: db, mode: .create)
        for r in 0..<runs {
            let results = Workflow.syntheticRun(
                benchmarks: benchmarks, processes: processes, samplesPerProcess: samples, seed: seed &+ UInt64(r))
            let id = try store.insert(
                NewRun(
                    revision: SourceRevision(commit: String(format: "%040x", r + 1), branch: "main", dirty: false),
                    machine: .current(), source: "synthetic", results: results))
            print("run \(id): \(benchmarks) benchmarks × \(processes) processes × \(samples) samples")
        }
    }
}

ToolCommandLine.main(Lab.self, tool: "ember-bench-lab")
