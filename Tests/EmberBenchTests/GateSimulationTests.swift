import EmberBench
import Testing

/// The gate-quality targets, checked on the default rule with the simulation's fixed
/// seed (deterministic: same samples, same verdicts, every run). The full table with
/// every rule: `ember-bench simulate-gate` (release build), see docs/ember-bench.md.
@Suite struct GateSimulationTests {
    @Test func defaultRuleMeetsTheTargetsAtN50() {
        let table = GateSimulation.run(trials: 2000, samplesPerSide: 50, defaultRuleOnly: true)
        for cell in table.cells where cell.samplesPerSide == 50 {
            let flagRate = cell.rates[0]
            if cell.trueRatio == 1 {
                #expect(flagRate <= 0.005, "false positives \(flagRate) on \(cell.model)")
            } else if cell.model.hasPrefix("bimodal") {
                #expect(flagRate >= 0.90, "detection \(flagRate) on \(cell.model)")
            } else {
                #expect(flagRate >= 0.95, "detection \(flagRate) on \(cell.model)")
            }
        }
    }
}
