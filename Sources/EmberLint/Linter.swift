import EmberProject
import Dispatch
import EmberUtils
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One resolved import edge of the module graph.
public struct ImportEdge: Encodable, Sendable, Hashable {
    public var importer: String
    public var imported: String
    public var path: String
    public var line: Int
    public var column: Int
    public var kind: ImportTargetKind
    public var typeChecking: Bool
    public var dynamic: Bool
    var startOffset: Int
    var endOffset: Int
    /// Importer's and imported module's numbers in the run's `ModuleTable` (-1: none).
    var importerNode: Int32 = -1
    var importedNode: Int32 = -1

    enum CodingKeys: String, CodingKey { case importer, imported, path, line, column, kind, typeChecking, dynamic }
}

public struct LintOptions: Sendable {
    public var paths: [String]
    public var rules: RuleSet
    /// Adds indirect-violation chains (EL007) and the allowed list to findings.
    public var explain = false
    /// Parallel workers for reading and scanning files.
    public var jobs: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Folder for the per-file analysis cache; nil: no cache.
    public var cacheDirectory: String?
    /// Called from the workers with the number of files analysed so far.
    public var progress: (@Sendable (Int) -> Void)?
    /// The project model of the run: its files, their modules and configurations. nil:
    /// `rules` governs every file (a project is made from the paths).
    public var project: LintProject?

    public init(paths: [String], rules: RuleSet) {
        self.paths = paths
        self.rules = rules
    }
}

public struct LintReport: Sendable {
    public var diagnostics: [Diagnostic]
    public var fileCount: Int
    public var importCount: Int
    /// Every resolved import edge, file by file in path order.
    public var edges: [ImportEdge] { edgeLists.flatMap { $0 } }
    /// The edges in one list per file (joined only when asked for: most runs never are).
    var edgeLists: [[ImportEdge]]
    public var elapsedSeconds: Double
    public var suppressedCount: Int = 0
    public var baselinedCount: Int = 0
    /// Configuration problems found by the run itself: a layer pattern, `[[ignore]]`
    /// importer or source root that matches nothing (nothing can be trusted: exit 2).
    public var configurationErrors: [ConfigError] = []
    /// The folder finding identities are relative to (see `ProjectRoot`): baselines and
    /// SARIF fingerprints.
    public var projectRoot: String = ProjectRoot.workingDirectory()
    /// The run's per-file working data (analyses, outcomes, graph), owned by the report so
    /// that it is freed with it: a command that exits while it still holds the report
    /// leaves the freeing to the process's end instead of doing it piece by piece.
    let workingData: RunWorkingData?

    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
}

/// What a run worked with, kept by its report (see `LintReport.workingData`).
final class RunWorkingData: Sendable {
    let analyses: ResultSlots<FileAnalysis>
    let outcomes: ResultSlots<Linter.FileOutcome>
    let graph: ModuleGraph
    init(analyses: ResultSlots<FileAnalysis>, outcomes: ResultSlots<Linter.FileOutcome>, graph: ModuleGraph) {
        self.analyses = analyses
        self.outcomes = outcomes
        self.graph = graph
    }
}

/// Sets of module names that `stdlib` means, per language (compiled in from rules/).
public enum StandardLibraries {
    public static let python: Set<String> = parseList(EmbeddedRules.pythonStdlibModulesText)
    public static let swift: Set<String> = parseList(EmbeddedRules.swiftStdlibModulesText)
    /// `python` for lookups on bytes.
    static let pythonTable = ModuleTable(python)

    static func parseList(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingSpaces() }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}

/// Sorting names as `String <` does, faster: ASCII strings (paths, module names) compare
/// as bytes with memcmp, which is the same order; anything else falls back to `<`.
enum StringOrder {
    static func permutation(_ strings: [String]) -> [Int] {
        // All the strings' bytes in one buffer (one allocation), each at its offset.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(strings.reduce(0) { $0 + $1.utf8.count })
        var starts: [Int] = [0]
        starts.reserveCapacity(strings.count + 1)
        for s in strings {
            bytes.append(contentsOf: s.utf8)
            starts.append(bytes.count)
        }
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return strings.indices.sorted { strings[$0] < strings[$1] } }
        return bytes.withUnsafeBufferPointer { all in
            starts.withUnsafeBufferPointer { starts in
                strings.indices.sorted { a, b in
                    let la = starts[a + 1] - starts[a], lb = starts[b + 1] - starts[b]
                    let common = min(la, lb)
                    let c = common == 0 ? 0 : memcmp(all.baseAddress! + starts[a], all.baseAddress! + starts[b], common)
                    return c != 0 ? c < 0 : la < lb
                }
            }
        }
    }

    static func sorted(_ strings: [String]) -> [String] { permutation(strings).map { strings[$0] } }
}

/// Hands out indices to the workers of the parallel phase.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)
    /// Adds `n` and returns the value before.
    func add(_ n: Int) -> Int { value.wrappingAdd(n, ordering: .relaxed).oldValue }
}

typealias FileAnalysisCacheEntry = (FileStamp, FileAnalysis)

/// What the run knows once the walk is over, worked out while the files are analysed:
/// the files in path order and the module index they make.
struct RunPlan: Sendable {
    /// The files in path order; a path reached twice is kept once.
    let found: [ProjectFile]
    /// rank[i]: where walked file i goes in `found` (-1: a second copy of a path).
    let rank: [Int]
    let index: PythonModuleIndex
    let swiftModules: Set<String>

    /// Reports are ordered by path: files in path order let every later step keep that
    /// order by concatenating per-file results. The module index (what `from x import y`
    /// resolves against) holds every module found, read or not.
    init(walked: [ProjectFile]) {
        var rank = [Int](repeating: -1, count: walked.count)
        var found: [ProjectFile] = []
        found.reserveCapacity(walked.count)
        var pythonModules: Set<String> = []
        var swiftModules: Set<String> = []
        pythonModules.reserveCapacity(walked.count)
        for i in StringOrder.permutation(walked.map(\.path)) where found.last?.path != walked[i].path {
            rank[i] = found.count
            found.append(walked[i])
            if walked[i].language == .python { pythonModules.insert(walked[i].module) } else { swiftModules.insert(walked[i].module) }
        }
        self.found = found
        self.rank = rank
        self.swiftModules = swiftModules
        // Python and Swift modules share one numbering (the graph's nodes).
        index = PythonModuleIndex(modules: pythonModules, otherModules: swiftModules)
    }
}

/// Files found by the walk, handed to the workers in chunks as they arrive, and what
/// the workers made of them.
final class FileFeed: Sendable {
    private struct State: Sendable {
        var cache: AnalysisCache?
        var cacheLoading = false
        var cacheLoaded = false
        var files: [ProjectFile] = []
        var plan: RunPlan?
        /// The analyses in path order, placed by the workers once the plan exists.
        var analyses: ResultSlots<FileAnalysis>?
        var next = 0
        var walkDone = false
        var problems: [DiscoveryProblem] = []
        var results: [(Int, FileAnalysis)] = []
    }
    /// Workers wait on it for files (`claim`) and for the cache (`cachedEntries`).
    private let state = Monitor(State())

    func add(_ batch: [ProjectFile]) {
        state.update { $0.files.append(contentsOf: batch) }
    }

    /// Once the walk is over: the files (named) as walked.
    func walked() -> [ProjectFile] { state.withLock { $0.files } }

    func setPlan(_ plan: RunPlan) {
        let slots = ResultSlots<FileAnalysis>(count: plan.found.count)
        state.withLock { $0.plan = plan; $0.analyses = slots }
    }

    /// Where analyses go in path order (walked file i at rank[i] of the slots, -1: a
    /// second copy of a path), once the walk is over; nil before.
    func placement() -> (rank: [Int], slots: ResultSlots<FileAnalysis>)? {
        state.withLock { s in s.plan.map { ($0.rank, s.analyses!) } }
    }

    /// Where the cache lives (nil: no cache); loaded once, by the first worker that needs it.
    let cacheDirectory: String?

    init(cacheDirectory: String?) { self.cacheDirectory = cacheDirectory }

    func loadedCache() -> AnalysisCache? { state.withLock { $0.cache } }

    /// The cache's entries (empty without a cache). The first caller loads the cache; the
    /// others wait for that caller, which is busy loading, never for a worker that might
    /// not have started (the pool may run fewer threads than workers).
    func cachedEntries() -> [String: FileAnalysisCacheEntry] {
        let mine: Bool = state.withLock { s in
            if s.cacheLoading || s.cacheLoaded { return false }
            s.cacheLoading = true
            return true
        }
        if mine {
            let cache = cacheDirectory.map { AnalysisCache.load(directory: $0) }
            state.update { $0.cache = cache; $0.cacheLoaded = true }
        }
        return state.wait { $0.cacheLoaded ? ($0.cache?.entries ?? [:]) : nil }
    }

    func finish(_ problems: [DiscoveryProblem]) { state.update { $0.walkDone = true; $0.problems = problems } }

    /// Up to `chunk` files not yet taken, with the index of the first; nil once the walk
    /// is over and every file is taken. Waits while the walk may still find more.
    func claim(_ chunk: Int) -> (Int, [ProjectFile])? {
        state.wait { s -> (Int, [ProjectFile])?? in
            if s.next < s.files.count {
                let start = s.next, end = min(s.files.count, start + chunk)
                s.next = end
                return .some((start, Array(s.files[start..<end])))
            }
            return s.walkDone ? .some(nil) : nil
        }
    }

    /// Analyses made before the plan existed, by walk index.
    func deposit(_ done: [(Int, FileAnalysis)]) { state.withLock { $0.results.append(contentsOf: done) } }

    /// The plan, the walk's problems, and the analyses in path order.
    func take() -> (plan: RunPlan?, problems: [DiscoveryProblem], analyses: ResultSlots<FileAnalysis>?) {
        state.withLock { s in
            // Files analysed before the plan existed are placed now.
            if let plan = s.plan, let slots = s.analyses {
                for (i, a) in s.results where plan.rank[i] >= 0 { slots.set(plan.rank[i], a) }
                s.results = []
            }
            return (s.plan, s.problems, s.analyses)
        }
    }
}

extension Linter {
    /// EMBER_LINT_PROFILE set: each phase's time goes to stderr.
    static let profiling = getenv("EMBER_LINT_PROFILE") != nil

    static func note(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}

/// Per-file work product of the parallel phase.
struct FileAnalysis: Sendable {
    var file: ProjectFile
    var module: String = ""
    var isPackage = false
    /// Positions of every offset a finding can point at (the line table itself is dropped).
    var positions = PositionMap()
    var python: PythonFileFacts?
    var swift: SwiftScan?
    var failure: (message: String, offset: Int)?
    /// Identity of the file's content when it was analysed (for the cache).
    var stamp: FileStamp?
    var fromCache = false
    /// Read as a governed package's `__init__.py` (its top-level logic listed for EL003).
    var initLogicChecked = false

    /// Offsets that findings and edges can refer to.
    var referencedOffsets: [Int] {
        var out: [Int] = []
        if let failure { out.append(failure.offset) }
        if let py = python {
            for s in py.imports {
                out.append(s.offset)
                for n in s.names ?? [] { out.append(n.offset) }
            }
            out.append(contentsOf: py.computedDynamicImports.map(\.offset))
            out.append(contentsOf: py.initLogic.map(\.offset))
            out.append(contentsOf: py.syntaxErrors.map(\.offset))
            out.append(contentsOf: py.versionErrors.map(\.offset))
        }
        if let sw = swift {
            out.append(contentsOf: sw.imports.map(\.offset))
            out.append(contentsOf: sw.problems.map(\.offset))
        }
        return out
    }
}

/// Results written by index from concurrent workers; each index is written exactly once.
final class ResultSlots<T>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<T?>
    let count: Int
    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: max(count, 1))
        storage.initialize(repeating: nil, count: max(count, 1))
    }
    deinit {
        storage.deinitialize(count: max(count, 1))
        storage.deallocate()
    }
    func set(_ i: Int, _ value: consuming T) { storage[i] = value }
    func get(_ i: Int) -> T? { storage[i] }
    /// Reads slot `i`, if it was set.
    func read(_ i: Int, _ body: (borrowing T) -> Void) {
        guard let value = storage[i] else { return }
        body(value)
    }
}

public struct Linter: Sendable {
    public let options: LintOptions
    public let pythonExtractor: TokenPythonImportExtractor

    public init(options: LintOptions, pythonExtractor: TokenPythonImportExtractor = TokenPythonImportExtractor()) {
        self.options = options
        self.pythonExtractor = pythonExtractor
    }

    /// What one file contributes to the report, worked out in the parallel phase.
    struct FileOutcome {
        var edges: [ImportEdge] = []
        var diagnostics: [Diagnostic] = []
        var importCount = 0
        var suppressions: [Suppression]?
        /// The ignores that silenced one of this file's imports: rule set << 32 | index
        /// into its `ignores`.
        var usedIgnores: [Int] = []
    }

    public func run() -> LintReport {
        let started = MonotonicClock.nanoseconds()
        let profile = Linter.profiling
        var mark = started
        func phase(_ name: String) {
            guard profile else { return }
            let now = MonotonicClock.nanoseconds()
            Linter.note("ember-lint profile: \(name) \(Double(now - mark) / 1e6) ms")
            mark = now
        }
        let project = options.project ?? LintProject(paths: options.paths, fixedRules: options.rules)
        let extractor = pythonExtractor
        // Parallel: one worker walks, feeding files to the others as it finds them, then
        // analyses too; the first other worker to start loads the cache meanwhile. Each file
        // is read, scanned and its facts kept.
        let feed = FileFeed(cacheDirectory: options.cacheDirectory)
        let analyse: @Sendable (ProjectFile, FileAnalysisCacheEntry?) -> FileAnalysis = { file, entry in
            // Only a governed package's __init__.py is read statement by statement (for
            // EL003); any other is read like an ordinary module.
            var checkInit = false
            if file.isPackage {
                let rules = project.rules(for: file)
                checkInit = rules.initExportsOnly && Linter.isGoverned(file.module, rules: rules)
            }
            return Linter.analyse(file, module: (file.module, file.isPackage), checkInitLogic: checkInit, extractor: extractor, cached: entry)
        }
        // Module names come from paths alone: each file is named as it is found. Once the
        // walk is over, the walking worker puts the files in path order and builds the
        // module index while the others analyse.
        let walk: @Sendable () -> Void = {
            let (_, problems, _) = project.discovery.walk { batch in feed.add(batch) }
            feed.finish(problems)
            if profile { Linter.note("ember-lint profile: walk done at \(Double(MonotonicClock.nanoseconds() - started) / 1e6) ms") }
            feed.setPlan(RunPlan(walked: feed.walked()))
            if profile { Linter.note("ember-lint profile: plan done at \(Double(MonotonicClock.nanoseconds() - started) / 1e6) ms") }
        }
        // Each worker analyses files as the walk hands them out. An analysis goes straight
        // to its place in path order once the plan exists; the few made before wait in a list.
        let analysed = Atomic<Int>(0)
        let progress = options.progress
        let work: @Sendable (Int) -> Void = { chunk in
            let cached = feed.cachedEntries()
            var early: [(Int, FileAnalysis)] = []
            var placement: (rank: [Int], slots: ResultSlots<FileAnalysis>)?
            while let (start, batch) = feed.claim(chunk) {
                if placement == nil { placement = feed.placement() }
                for k in batch.indices {
                    let a = analyse(batch[k], cached[batch[k].path])
                    if let (rank, slots) = placement {
                        if rank[start + k] >= 0 { slots.set(rank[start + k], a) }
                    } else {
                        early.append((start + k, a))
                    }
                }
                if let progress { progress(analysed.add(batch.count, ordering: .relaxed).newValue) }
            }
            feed.deposit(early)
        }
        if options.jobs <= 1 {
            walk()
            work(64)
        } else {
            ProjectParallel.run(workers: options.jobs) { worker in
                if worker == 0 { walk() }
                // Small chunks: big files do not leave a core idle at the end.
                work(4)
                if profile { Linter.note("ember-lint profile: worker \(worker) done at \(Double(MonotonicClock.nanoseconds() - started) / 1e6) ms") }
            }
        }
        let cache = feed.loadedCache()
        let (madePlan, walkProblems, placed) = feed.take()
        phase("walk+analyse")

        // The walking worker always makes the plan (after the walk, whatever it found).
        let plan = madePlan!, analyses = placed!
        let found = plan.found
        var diagnostics: [Diagnostic] = walkProblems.map {
            Diagnostic(code: .unreadableFile, path: $0.path, startOffset: 0, endOffset: 0, line: 1, column: 1, message: $0.reason)
        }
        let index = plan.index, swiftModules = plan.swiftModules
        let numbering = index.table
        // Every configuration the run read, then the built-in rules (Python, Swift).
        let ruleSets = project.ruleSets + [project.defaultRules, project.swiftRules]
        let checkers = ruleSets.map { LayerChecker(rules: $0) }
        let ruleIndex: [Int] = found.map { project.ruleIndex(of: $0, configurations: ruleSets.count - 2) }
        let firstIndex = project.discovery.firstConfiguration >= 0 ? project.discovery.firstConfiguration : ruleSets.count - 2
        phase("order")

        // Parallel: resolve and check every file's imports.
        let outcomes = ResultSlots<FileOutcome>(count: found.count)
        let resolve: @Sendable (Int) -> Void = { [self] i in
            analyses.read(i) { a in
                let r = ruleIndex[i]
                outcomes.set(i, outcome(of: a, index: index, swiftModules: swiftModules, rules: ruleSets[r], ruleIndex: r, checker: checkers[r], numbering: numbering))
            }
        }
        if options.jobs <= 1 || found.count < 64 {
            for i in 0..<found.count { resolve(i) }
        } else {
            ProjectParallel.forEach(found.count, workers: options.jobs, chunk: 32, resolve)
        }
        phase("resolve")

        if let cache {
            var changed = false
            var count = 0
            for i in 0..<found.count {
                guard let a = analyses.get(i), a.stamp != nil else { continue }
                count += 1
                if !a.fromCache { changed = true }
            }
            if changed || cache.entries.count != count {
                // Encoded in path order, in parallel; then written at once.
                var records: [(String, FileStamp, FileAnalysis)] = []
                records.reserveCapacity(count)
                for i in 0..<found.count {
                    guard let a = analyses.get(i), let stamp = a.stamp else { continue }
                    records.append((a.file.path, stamp, a))
                }
                cache.save(records, jobs: options.jobs)
            }
        }
        phase("cache")

        // The graph is built from the files' edge lists on another thread while this one
        // gathers the findings.
        let edgeLists = (0..<found.count).map { outcomes.get($0)?.edges ?? [] }
        let graphBox = ResultSlots<ModuleGraph>(count: 1)
        let buildGraph: @Sendable () -> Void = { graphBox.set(0, ModuleGraph(edgeLists: edgeLists, internalOnly: true, known: numbering)) }
        let graphBuilt = DispatchGroup()
        if options.jobs > 1 { DispatchQueue.global().async(group: graphBuilt, execute: buildGraph) } else { buildGraph() }
        var importCount = 0
        var suppressionsByPath: [String: [Suppression]] = [:]
        var usedIgnores: Set<Int> = []
        for i in 0..<found.count {
            outcomes.read(i) { o in
                diagnostics.append(contentsOf: o.diagnostics)
                importCount += o.importCount
                if let s = o.suppressions, !s.isEmpty { suppressionsByPath[found[i].path] = s }
                usedIgnores.formUnion(o.usedIgnores)
            }
        }
        let usedRuleSets = Set(ruleIndex)
        for r in usedRuleSets.sorted() {
            for (i, ignore) in ruleSets[r].ignores.enumerated() where !usedIgnores.contains(r << 32 | i) {
                diagnostics.append(Diagnostic(code: .unusedSuppression, path: ruleSets[r].origin, startOffset: 0, endOffset: 0, line: ignore.line, column: 1,
                                              message: "ignore for \(ignore.importer) -> \(ignore.imported) matches no import; remove it"))
            }
        }
        let configurationErrors = ProjectChecks.unmatched(ruleSets: ruleSets, used: usedRuleSets, files: found, ruleIndex: ruleIndex,
                                                          modules: numbering.names, configurations: project.discovery.configurations)
        phase("collect")

        graphBuilt.wait()
        let graph = graphBox.get(0)!
        phase("graph-build")
        let cyclesOff = Set(usedRuleSets.filter { !ruleSets[$0].reportCycles })
        if cyclesOff.count < usedRuleSets.count {
            var cycles = graph.cycleDiagnostics()
            if !cyclesOff.isEmpty {
                // A cycle is reported when the configuration of its first file asks for it.
                var ruleOfPath: [String: Int] = [:]
                for i in found.indices { ruleOfPath[found[i].path] = ruleIndex[i] }
                cycles.removeAll { cyclesOff.contains(ruleOfPath[$0.path] ?? firstIndex) }
            }
            diagnostics.append(contentsOf: cycles)
        }
        if options.explain {
            diagnostics.append(contentsOf: graph.indirectViolations(checker: checkers[firstIndex]))
        }
        phase("graph")

        // Inline suppressions.
        var suppressed = 0
        var used: Set<Suppression> = []
        var kept: [Diagnostic] = []
        for d in diagnostics {
            if d.code != .unreadableFile, let list = suppressionsByPath[d.path],
               let s = list.first(where: { $0.targetLine == d.line && $0.codes.contains(d.code.rawValue) && !$0.reason.isEmpty }) {
                used.insert(s)
                suppressed += 1
                continue
            }
            kept.append(d)
        }
        let known = Set(DiagnosticCode.allCases.map(\.rawValue))
        for (path, list) in suppressionsByPath {
            for s in list {
                if s.codes.isEmpty {
                    kept.append(Diagnostic(code: .suppressionWithoutReason, path: path, startOffset: s.offset, endOffset: s.end, line: s.line, column: s.column,
                                           message: "suppression names no codes; write `ember-lint: ignore[EL001] reason`"))
                } else if let unknown = s.codes.first(where: { !known.contains($0) }) {
                    kept.append(Diagnostic(code: .suppressionWithoutReason, path: path, startOffset: s.offset, endOffset: s.end, line: s.line, column: s.column,
                                           message: "suppression names unknown code '\(unknown)' (codes: EL001-EL009, EL100-EL102)"))
                } else if s.reason.isEmpty {
                    kept.append(Diagnostic(code: .suppressionWithoutReason, path: path, startOffset: s.offset, endOffset: s.end, line: s.line, column: s.column,
                                           message: "suppression of \(s.codes.joined(separator: ", ")) has no reason; say why after the brackets"))
                } else if !used.contains(s) {
                    kept.append(Diagnostic(code: .unusedSuppression, path: path, startOffset: s.offset, endOffset: s.end, line: s.line, column: s.column,
                                           message: "suppression of \(s.codes.joined(separator: ", ")) suppresses nothing on line \(s.targetLine); remove it"))
                }
            }
        }
        kept.sort(by: Diagnostic.ordered)
        phase("suppressions")
        let elapsed = Double(MonotonicClock.nanoseconds() - started) / 1e9
        var report = LintReport(diagnostics: kept, fileCount: found.count, importCount: importCount, edgeLists: edgeLists, elapsedSeconds: elapsed,
                                workingData: RunWorkingData(analyses: analyses, outcomes: outcomes, graph: graph))
        report.suppressedCount = suppressed
        report.configurationErrors = project.errors + configurationErrors
        report.projectRoot = ProjectRoot.locate(rules: options.rules, firstPath: options.paths.first ?? ".")
        return report
    }

    /// The edges and findings of one analysed file: imports resolved against the module
    /// index, classified, and checked against the layers. Runs on worker threads.
    func outcome(of f: FileAnalysis, index: PythonModuleIndex, swiftModules: Set<String>, rules: RuleSet, ruleIndex: Int,
                 checker: LayerChecker, numbering: ModuleTable) -> FileOutcome {
        var out = FileOutcome()
        let path = f.file.path
        // The rules are read in place: a copy per file would retain each of their arrays,
        // which every worker shares.
        if let failure = f.failure {
            let (line, col) = f.positions.location(of: failure.offset)
            out.diagnostics.append(Diagnostic(code: .unreadableFile, path: path, startOffset: failure.offset, endOffset: failure.offset,
                                              line: line, column: col + 1, message: failure.message))
            return out
        }
        let table = f.positions
        func position(_ offset: Int) -> (Int, Int) { let (l, c) = table.location(of: offset); return (l, c + 1) }
        let importerNode = numbering.number(of: f.module)
        func edge(_ imported: String, _ kind: ImportTargetKind, _ start: Int, _ end: Int, typeChecking: Bool = false, dynamic: Bool = false,
                  number: Int32? = nil) {
            let (l, c) = position(start)
            out.edges.append(ImportEdge(importer: f.module, imported: imported, path: path, line: l, column: c, kind: kind,
                                        typeChecking: typeChecking, dynamic: dynamic, startOffset: start, endOffset: end,
                                        importerNode: importerNode, importedNode: kind == .internal ? number ?? numbering.number(of: imported) : -1))
        }
        if let py = f.python {
            out.suppressions = py.suppressions
            out.edges.reserveCapacity(py.imports.count + 4)
            for e in py.syntaxErrors {
                let (l, c) = position(e.offset)
                out.diagnostics.append(Diagnostic(code: .syntaxError, path: path, startOffset: e.offset, endOffset: e.offset, line: l, column: c,
                                                  message: "\(e.message); imports after this point may be missing"))
            }
            for e in py.versionErrors {
                let (l, c) = position(e.offset)
                out.diagnostics.append(Diagnostic(code: .syntaxNewerThanRequiresPython, path: path, startOffset: e.offset, endOffset: e.offset,
                                                  line: l, column: c, message: e.message))
            }
            for statement in py.imports {
                out.importCount += 1
                if statement.typeChecking && rules.typeChecking == .ignored { continue }
                let resolved = index.forEachTarget(statement, importer: f.module, importerIsPackage: f.isPackage) { target, number, offset, end in
                    // `pkg.__init__` is the package itself. A module importing itself
                    // stays in the graph (as in grimp); cycles and layers ignore it.
                    var module = target, number = number
                    if PythonModuleIndex.isInitModule(module) {
                        module.removeLast(9)
                        number = numbering.number(of: module)
                    }
                    edge(module, index.classify(module, number: number), offset, end, typeChecking: statement.typeChecking, dynamic: statement.dynamic,
                         number: number)
                }
                if !resolved {
                    let (l, c) = position(statement.offset)
                    let dots = String(repeating: ".", count: statement.level)
                    out.diagnostics.append(Diagnostic(code: .relativeImportBeyondTop, path: path, startOffset: statement.offset, endOffset: statement.end,
                                                      line: l, column: c,
                                                      message: "relative import '\(dots)\(statement.module)' in \(f.module) climbs above the top-level package; use an absolute import",
                                                      importer: f.module, imported: dots + statement.module))
                }
            }
            for d in py.computedDynamicImports {
                let (l, c) = position(d.offset)
                out.diagnostics.append(Diagnostic(code: .dynamicImport, path: path, startOffset: d.offset, endOffset: d.end, line: l, column: c,
                                                  message: "\(f.module) imports a module whose name is computed at run time; ember-lint cannot check it",
                                                  importer: f.module))
            }
            if f.isPackage && rules.initExportsOnly && Linter.isGoverned(f.module, rules: rules) {
                for logic in py.initLogic {
                    let (l, c) = position(logic.offset)
                    out.diagnostics.append(Diagnostic(code: .initLogic, path: path, startOffset: logic.offset, endOffset: logic.end, line: l, column: c,
                                                      message: "\(path.lastPathComponent) of \(f.module) holds \(logic.what); a package's __init__.py may only export its public API (docstring, imports, __all__, __version__, aliases)",
                                                      importer: f.module))
                }
            }
        } else if let sw = f.swift {
            out.suppressions = sw.suppressions
            for p in sw.problems {
                let (l, c) = position(p.offset)
                out.diagnostics.append(Diagnostic(code: .syntaxError, path: path, startOffset: p.offset, endOffset: p.offset, line: l, column: c, message: p.message))
            }
            for imp in sw.imports {
                out.importCount += 1
                guard imp.module != f.module else { continue }
                let kind: ImportTargetKind = swiftModules.contains(imp.module) ? .internal
                    : (StandardLibraries.swift.contains(imp.module) ? .stdlib : .thirdParty)
                edge(imp.module, kind, imp.offset, imp.end)
            }
        }
        // Reports list a file's edges by position, then imported name.
        out.edges.sort { ($0.startOffset, $0.imported) < ($1.startOffset, $1.imported) }
        // An importer in no layer has nothing to check; its layer is looked up once.
        guard let importerLayer = checker.layer(of: f.module) else { return out }
        for e in out.edges {
            guard let verdict = checker.check(e, importerLayer: importerLayer) else { continue }
            if let ignoreIndex = rules.ignores.firstIndex(where: { $0.importer.matches(e.importer) && $0.imported.matches(e.imported) }) {
                out.usedIgnores.append(ruleIndex << 32 | ignoreIndex)
                continue
            }
            var notes: [String] = []
            if options.explain { notes.append(verdict.explanation) }
            out.diagnostics.append(Diagnostic(code: verdict.code, path: e.path, startOffset: e.startOffset, endOffset: e.endOffset,
                                              line: e.line, column: e.column, message: verdict.message, notes: notes,
                                              importer: e.importer, imported: e.imported))
        }
        return out
    }

    /// A package is governed when a layer holds it or one of its subpackages (e.g. `ember`
    /// above `ember.core`).
    static func isGoverned(_ module: String, rules: RuleSet) -> Bool {
        if rules.layer(of: module) != nil { return true }
        let prefix = module + "."
        return rules.layers.contains { $0.modules.contains { $0.text.hasPrefix(prefix) } }
    }

    static func analyse(_ file: ProjectFile, module name: (String, Bool), checkInitLogic: Bool, extractor: TokenPythonImportExtractor,
                        cached: (FileStamp, FileAnalysis)? = nil) -> FileAnalysis {
        let (module, isPackage) = name
        // Without a cache entry the stamp comes from reading the file (one fstat of the open
        // descriptor); with one, the path is stat'ed to see whether the entry still holds.
        let stamp = cached != nil ? (file.stamp ?? FileStamp.of(file.path)) : nil
        // A cached failure is one of the file's bytes (undecodable text): the same bytes give
        // the same failure. Failures to read are never cached (they have no stamp).
        if let cached, let stamp, cached.0 == stamp, cached.1.file.language == file.language,
           cached.1.initLogicChecked || !checkInitLogic {
            var a = cached.1
            a.file = file
            a.module = module
            a.isPackage = isPackage
            a.stamp = stamp
            a.fromCache = true
            return a
        }
        var a = FileAnalysis(file: file)
        a.module = module
        a.isPackage = isPackage
        let bytes: [UInt8]
        switch SourceFileReader.read(withStamp: file.path) {
        case .failure(let problem):
            a.failure = (problem.reason, 0)
            return a  // not cached: the next run tries again
        case .success(let read):
            bytes = read.bytes
            a.stamp = read.stamp ?? stamp
        }
        var lines: FileLines
        switch file.language {
        case .swift:
            let table = LineTable(bytes)
            a.swift = SwiftImportScanner.scan(bytes, lineTable: table)
            lines = FileLines(table: table)
        case .python:
            a.initLogicChecked = checkInitLogic
            switch extractor.extract(bytes, isPackageInit: checkInitLogic) {
            case .success(var facts):
                lines = facts.lines
                facts.lines = FileLines()  // positions below keep what findings need
                a.python = facts
            case .failure(let failure):
                lines = FileLines(text: bytes)
                a.failure = (failure.message, failure.offset)
            }
        }
        a.positions = PositionMap(offsets: a.referencedOffsets, lines: lines)
        return a
    }
}

extension String {
    var lastPathComponent: String {
        if let slash = lastIndex(of: "/") { return String(self[index(after: slash)...]) }
        return self
    }
}
