import Foundation

/// Two builds of the suites measured alternately in one job (A B A B …): each round runs
/// `A run --raw-json` then `B run --raw-json` and pools the samples per benchmark, so
/// machine drift during the job hits both sides alike.
public struct InterleavedBuilds: Sendable {
    public var binaryA: String
    public var binaryB: String
    public var rounds: Int
    public var iterations: Int
    public var warmup: Int
    public var filters: [String]

    public init(binaryA: String, binaryB: String, rounds: Int, iterations: Int, warmup: Int, filters: [String]) {
        self.binaryA = binaryA
        self.binaryB = binaryB
        self.rounds = rounds
        self.iterations = iterations
        self.warmup = warmup
        self.filters = filters
    }

    public func measure(progress: ProgressLine = ProgressLine(enabled: false)) throws -> (a: [String: BenchmarkSamples], b: [String: BenchmarkSamples]) {
        var a: [String: BenchmarkSamples] = [:]
        var b: [String: BenchmarkSamples] = [:]
        for round in 0..<rounds {
            progress.update(round, of: rounds, "A/B round \(round + 1)")
            for (binary, isA) in [(binaryA, true), (binaryB, false)] {
                for s in try runOnce(binary) {
                    if isA { a[s.name, default: BenchmarkSamples(name: s.name, unit: s.unit, direction: s.direction, samples: [], batch: s.batch)].samples += s.samples }
                    else { b[s.name, default: BenchmarkSamples(name: s.name, unit: s.unit, direction: s.direction, samples: [], batch: s.batch)].samples += s.samples }
                }
            }
        }
        progress.finish()
        return (a, b)
    }

    func runOnce(_ binary: String) throws -> [BenchmarkSamples] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", "--no-store", "--quiet", "--raw-json", "--iterations", String(iterations), "--warmup", String(warmup)]
            + filters.flatMap { ["--filter", $0] }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            throw BenchError("cannot run \(binary): \(error.localizedDescription); give the path of an ember-bench build")
        }
        // stderr is read on another thread so a chatty child cannot block on a full pipe.
        let stderrBox = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { stderrBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let stderr = stderrBox.data
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw BenchError(
                "\(binary) run exited with status \(p.terminationStatus): "
                    + String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        do {
            return try JSONDecoder().decode([BenchmarkSamples].self, from: data)
        } catch {
            throw BenchError("\(binary) run --raw-json printed something that is not a list of samples (\(error)); is it an ember-bench build?")
        }
    }
}

final class DataBox: @unchecked Sendable {
    var data = Data()
}
