import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// What `ember-bench worker` prints on stdout: the raw samples of one process.
public struct WorkerReport: Codable, Sendable {
    public var protocolVersion: Int
    public var benchmarks: [BenchmarkSamples]

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol"
        case benchmarks
    }

    public init(protocolVersion: Int = Worker.protocolVersion, benchmarks: [BenchmarkSamples]) {
        self.protocolVersion = protocolVersion
        self.benchmarks = benchmarks
    }
}

/// The worker side: measures the named benchmarks once each in this (fresh) process.
public enum Worker {
    /// Bumped when the worker's command line or output changes; a base build that
    /// speaks another version is refused with a message.
    public static let protocolVersion = 1

    public static func run(names: [String], options: RunnerOptions, batches: [String: Int]) async throws -> WorkerReport {
        let all = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: [])
        var byName = Dictionary(all.map { ($0.name, $0.benchmark) }, uniquingKeysWith: { a, _ in a })
        byName[BenchmarkRegistry.machineProbeName] = BenchmarkRegistry.machineProbe
        let runner = BenchmarkRunner(options: options, slowdowns: try BenchmarkRunner.slowdownsFromEnvironment())
        var out: [BenchmarkSamples] = []
        let parent = getppid()
        for name in names {
            // A worker whose gate was killed stops instead of measuring on for nobody.
            if getppid() != parent { throw BenchError("worker: the parent process is gone") }
            guard let benchmark = byName[name] else { throw BenchError("worker: no benchmark named \(name)") }
            do {
                out.append(try await runner.measure(benchmark, fullName: name, batch: batches[name]))
            } catch let e as BenchError {
                throw e
            } catch {
                throw BenchError("benchmark \(name) failed: \(error)")
            }
        }
        return WorkerReport(benchmarks: out)
    }
}

/// Launches `ember-bench worker` processes of one build and collects their samples.
public struct WorkerPool: Sendable {
    /// The ember-bench executable whose suites are measured.
    public var executable: String
    public var options: RunnerOptions
    /// Extra environment for the workers (`EMBER_BENCH_SLOWDOWN` in tests).
    public var environment: [String: String]

    public init(executable: String, options: RunnerOptions, environment: [String: String] = [:]) {
        self.executable = executable
        self.options = options
        self.environment = environment
    }

    /// The benchmark names this build knows.
    public func list() throws -> [String] {
        let data = try launchRaw(["worker", "--list"])
        guard let names = try? JSONDecoder().decode([String].self, from: data) else {
            throw BenchError(
                "\(executable) worker --list printed no list of benchmark names; is it an ember-bench build with worker protocol \(Worker.protocolVersion)?")
        }
        return names
    }

    /// One fresh process measuring `names` once each; `batches` fixes inner-loop counts.
    public func measure(_ names: [String], batches: [String: Int]) throws -> WorkerReport {
        var args = [
            "worker", "--samples", String(options.iterations), "--warmup", String(options.warmup), "--min-sample-ns",
            String(options.minimumSampleNs), "--max-process-ns", String(options.maximumProcessNs),
        ]
        for name in names {
            args += ["--benchmark", name]
            if let b = batches[name] { args += ["--batch", "\(name)=\(b)"] }
        }
        let data = try launchRaw(args)
        let report: WorkerReport
        do {
            report = try JSONDecoder().decode(WorkerReport.self, from: data)
        } catch {
            throw BenchError(
                "\(executable) worker printed something that is not a worker report (\(error)); is it an ember-bench build?")
        }
        guard report.protocolVersion == Worker.protocolVersion else {
            throw BenchError(
                "\(executable) speaks worker protocol \(report.protocolVersion), this ember-bench \(Worker.protocolVersion); build both from compatible commits")
        }
        return report
    }

    func launchRaw(_ args: [String]) throws -> Data {
        let outcome: ChildProcess.Outcome
        do {
            // A path, never a name looked up on PATH: "ember-bench" means the file here.
            let path = executable.contains("/") ? executable : "./" + executable
            outcome = try ChildProcess.run([path] + args, environment: environment)
        } catch {
            throw BenchError("cannot run \(executable): \(error); give the path of an ember-bench build")
        }
        guard outcome.status == 0 else {
            let message = String(decoding: outcome.errors, as: UTF8.self).trimmingASCIIWhitespace()
            throw BenchError(
                "\(executable) \(args.first ?? "") exited with status \(outcome.status)"
                    + (message.isEmpty ? "" : ": \(message)"))
        }
        return Data(outcome.output)
    }
}

extension Workflow {
    /// Sets every selected benchmark up once in this process, before anything is
    /// measured: missing fixtures or a failing setup is an error (exit 2) at once, not
    /// after seconds of measuring.
    public static func preflight(_ selected: [(name: String, benchmark: Benchmark)]) async throws {
        for entry in selected {
            do {
                _ = try await entry.benchmark.make()
            } catch let e as BenchError {
                throw BenchError("benchmark \(entry.name) cannot be set up: \(e.message)")
            } catch {
                throw BenchError("benchmark \(entry.name) cannot be set up: \(error)")
            }
        }
    }

    /// Measures `names` in `processes` fresh worker processes of one build; the first
    /// worker calibrates the inner loops, the others reuse its counts.
    public static func measureInWorkers(
        _ names: [String], pool: WorkerPool, processes: Int, probe: Bool = true, progress: ProgressLine
    ) throws -> [BenchmarkSamples] {
        // The machine probe first in every process (see BenchmarkRegistry.machineProbe).
        let names = probe ? [BenchmarkRegistry.machineProbeName] + names : names
        var merged: [String: BenchmarkSamples] = [:]
        var batches: [String: Int] = [:]
        for p in 0..<processes {
            progress.update(p, of: processes, "process \(p + 1) of \(processes)")
            let report = try pool.measure(names, batches: batches)
            for b in report.benchmarks {
                if batches[b.name] == nil { batches[b.name] = b.batch }
                merged[b.name, default: BenchmarkSamples(name: b.name, unit: b.unit, direction: b.direction, samples: [], batch: b.batch)]
                    .appendProcess(b.samples)
            }
        }
        progress.finish()
        return names.compactMap { merged[$0] }
    }

    /// Same-job A/B: worker processes of the base and head builds alternate (A B, B A,
    /// A B, …, so a drift during the job hits both sides alike); every process's
    /// samples are kept. Benchmarks only one build knows are measured on that side.
    public static func measureAB(
        base: WorkerPool, head: WorkerPool, filters: [String], processes: Int, progress: ProgressLine
    ) throws -> (base: [String: BenchmarkSamples], head: [String: BenchmarkSamples]) {
        func pick(_ names: [String]) -> [String] {
            filters.isEmpty ? names : names.filter { n in filters.contains { n.contains($0) } }
        }
        let baseNames = pick(try base.list())
        let headNames = pick(try head.list())
        if baseNames.isEmpty && headNames.isEmpty {
            throw BenchError("no benchmark of either build matches --filter \(filters.joined(separator: ", "))")
        }
        var sides: [[String: BenchmarkSamples]] = [[:], [:]]
        var batches: [String: Int] = [:]
        let pools = [base, head]
        let names = [baseNames, headNames]
        for round in 0..<processes {
            let order = round % 2 == 0 ? [0, 1] : [1, 0]
            for side in order {
                progress.update(round * 2 + (side == order[0] ? 0 : 1), of: processes * 2, "\(side == 0 ? "base" : "head") process \(round + 1) of \(processes)")
                let report = try pools[side].measure(names[side], batches: batches)
                for b in report.benchmarks {
                    if batches[b.name] == nil { batches[b.name] = b.batch }
                    sides[side][b.name, default: BenchmarkSamples(name: b.name, unit: b.unit, direction: b.direction, samples: [], batch: b.batch)]
                        .appendProcess(b.samples)
                }
            }
        }
        progress.finish()
        return (sides[0], sides[1])
    }
}
