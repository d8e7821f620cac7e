import EmberBench
import Testing

/// The gate's behaviour on synthetic compares with a per-process offset, at fixed seeds
/// (deterministic: same samples, same verdicts, every run; no clock involved). The full
/// grid with 500/300 compares per row: `swift run -c release ember-bench-lab simulate-gate`,
/// figures in docs/ember-bench.md.
@Suite struct GateSimulationTests {
    /// 200 benchmarks, σ = 0.10 between processes, stored history of 5 runs.
    @Test func storedHistoryHoldsAtTheGateLevel() {
        let s = GateSimulation.Setting(body: .noisy, mode: .stored(runs: 5), between: 0.10, benchmarks: 200, samplesPerProcess: 12)
        let row = GateSimulation.evaluate(s, aaTrials: 12, detectionTrials: 12, ratios: [1.3], policy: GatePolicy(), seed: 11)
        #expect(row.aaFailureRate <= 1.0 / 12, "A/A: \(row.aaFailureRate)")
        #expect(row.detection[0].rate >= 10.0 / 12, "1.3× caught: \(row.detection[0].rate)")
    }

    @Test func sameJobHoldsAtTheGateLevel() {
        let s = GateSimulation.Setting(body: .bimodal, mode: .sameJob, between: 0.05, benchmarks: 200, samplesPerProcess: 12)
        let row = GateSimulation.evaluate(s, aaTrials: 12, detectionTrials: 12, ratios: [1.3], policy: GatePolicy(), seed: 12)
        #expect(row.aaFailureRate <= 1.0 / 12, "A/A: \(row.aaFailureRate)")
        #expect(row.detection[0].rate >= 11.0 / 12, "1.3× caught: \(row.detection[0].rate)")
    }
}
