import EmberPython
import EmberProject
import EmberUtils
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

public enum NamingStyle: String, Sendable, CaseIterable {
    /// Keep the class name for the module function.
    case keep
    /// snake_case, as in the guide (`SummaryOperator` -> `summary_operator`).
    case snake
}

public struct MigrationOptions: Sendable {
    public var naming: NamingStyle = .snake
    public var rules: MigrationRules = .builtIn()
    /// Worker threads (at least 1).
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Collect the `--plan` listing (a walk over every statement of every file).
    public var computePlan = true
    /// Apply rewrites that may change behaviour (`--unsafe`): legacy composition classes
    /// become runtime calls.
    public var unsafe = false
    /// The rewrites this run makes (`select`/`ignore`); unsafe ones count only with `unsafe`.
    public var rulesSelected: Set<MigrationRule> = Set(MigrationRule.allCases)
    /// The Python version whose grammar the files are read with (default: the newest); a
    /// file it cannot parse is skipped, and so is a rewrite it could not parse.
    public var targetVersion: PythonVersion = .newest
    public func applies(_ rule: MigrationRule) -> Bool { rulesSelected.contains(rule) && (!rule.isUnsafe || unsafe) }
    /// Called as the run goes, with what it is doing ("parsing 120/4000 files").
    public var progress: (@Sendable (String) -> Void)?
    public init() {}
}

/// One line of the report.
public struct ReportLine: Sendable, Hashable, Comparable {
    public enum Kind: String, Sendable {
        case converted, adapted, renamed, kept, skipped, abandoned, unsafe, legacyModule = "legacy-module", legacyReference = "legacy-reference"
    }
    public var path: String
    public var line: Int
    public var kind: Kind
    public var message: String

    public var text: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }

    public static func < (a: ReportLine, b: ReportLine) -> Bool {
        (a.path, a.line, a.message) < (b.path, b.line, b.message)
    }
}

public struct FileOutcome: Sendable {
    public enum Status: String, Sendable { case unchanged, changed, skipped }
    public var path: String
    public var status: Status
    public var original: [UInt8]
    /// The new bytes in the file's own encoding (changed files only).
    public var rewritten: [UInt8]?
    /// Both texts as UTF-8 for the diff (changed files only).
    public var originalText: [UInt8] = []
    public var rewrittenText: [UInt8] = []
}

/// What happened to one legacy operator class.
public struct ClassRecord: Sendable, Hashable, Comparable {
    public enum Outcome: String, Sendable {
        /// Rewritten as a module function.
        case converted
        /// Kept as a class and given the adapter (`x = migrate_operator_to_module(X)`).
        case adapted
        /// Kept exactly as it is (a keep comment, or the legacy framework's own classes).
        case kept
    }
    public var path: String
    public var line: Int
    public var className: String
    /// The module that defines it (dotted; empty when the file is not in a package layout).
    public var module: String = ""
    public var outcome: Outcome
    /// "safe" for every conversion applied by default; "unsafe" only with --unsafe.
    public var safety: String?
    /// The module function's name (converted classes).
    public var function: String?
    /// A stable reason code (adapted and kept classes), e.g. "self-escapes".
    public var reason: String?
    public var detail: String?

    public static func < (a: ClassRecord, b: ClassRecord) -> Bool { (a.path, a.line, a.className) < (b.path, b.line, b.className) }
}

public struct MigrationSummary: Sendable {
    public var filesScanned = 0
    public var filesChanged = 0
    public var filesUnchanged = 0
    public var filesSkipped = 0
    public var classesConverted = 0
    public var classesAdapted = 0
    /// Classes left exactly as they are (keep comments, the legacy framework itself).
    public var classesKept = 0
    /// Conversions applied only because of --unsafe.
    public var classesConvertedUnsafe = 0
    /// Rewrites --unsafe would add (classes and legacy composition calls).
    public var unsafeAvailable = 0
    /// Adapted-class reasons by category (the reason text up to its first parenthesis or digit).
    public var adaptedReasons: [String: Int] = [:]
    public var seconds: Double = 0
}

public struct MigrationResult: Sendable {
    public var files: [FileOutcome]
    public var report: [ReportLine]
    public var classes: [ClassRecord] = []
    public var plan: [ReportLine]
    public var summary: MigrationSummary
}

struct AdaptedClass: Sendable {
    var variableName: String
    var reason: String
}

struct RunDecisions: Sendable {
    var plans: [ClassKey: OperatorPlan] = [:]
    var adapted: [ClassKey: AdaptedClass] = [:]
    /// Some class of the run is converted: `isinstance(x, Operator)` must accept modules.
    var anyConverted = false
    var options = MigrationOptions()
}

/// A file handed to a run: its display path and bytes (or why it could not be read).
public struct InputFile: Sendable {
    public var path: String
    public var moduleName: String
    public var isPackageInit: Bool
    public var bytes: Result<[UInt8], InputError>

    /// When set, the bytes are read from this file by the run's workers (in parallel).
    public var diskPath: String?
    /// Dotted folder names above the package root that imports may put before the module
    /// name (`src` for `src.ember.core`).
    public var aliasPrefixes: [String] = []

    public init(path: String, moduleName: String, isPackageInit: Bool, bytes: Result<[UInt8], InputError>) {
        self.path = path
        self.moduleName = moduleName
        self.isPackageInit = isPackageInit
        self.bytes = bytes
    }

    /// A file the run reads itself.
    public init(path: String, moduleName: String, isPackageInit: Bool, diskPath: String) {
        self.init(path: path, moduleName: moduleName, isPackageInit: isPackageInit, bytes: .success([]))
        self.diskPath = diskPath
    }
}

public struct InputError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Runs `body(i)` for every index on `workers` threads (the project model's parallel map)
/// with large stacks: deeply nested Python makes the tree walks recurse.
func parallelFor(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) -> Void) {
    ProjectParallel.forEach(count, workers: max(1, workers), stackSize: 64 << 20, body)
}

/// Results written by index from worker threads. Each index is written by one thread and
/// read only after `parallelFor` returns; raw storage so that writes to different indices
/// never touch shared bookkeeping (an Array's uniqueness check would).
final class Slots<T>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<T?>
    private let count: Int
    init(_ count: Int) {
        self.count = count
        storage = UnsafeMutablePointer<T?>.allocate(capacity: max(count, 1))
        storage.initialize(repeating: nil, count: count)
    }
    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }
    subscript(i: Int) -> T? {
        get { precondition(i >= 0 && i < count); return storage[i] }
        set { precondition(i >= 0 && i < count); storage[i] = newValue }
    }
}

public enum Migration {
    /// The deepest syntax tree a run reads (levels from the module down). The parser accepts
    /// what CPython compiles (thousands of levels of unary operators); the rewrite passes
    /// recurse once per level, and real code stays far below this.
    public static let maximumNesting = 1_000

    /// Runs the migration over `inputs` (no file system access: see `MigrationCommandSupport`).
    public static func run(_ inputs: [InputFile], options: MigrationOptions) -> MigrationResult {
        let startTime = MonotonicClock.nanoseconds()
        let rules = options.rules
        var report: [ReportLine] = []

        let profile = ProcessInfo.processInfo.environment["EMBER_MIGRATE_PROFILE"] != nil
        let progress = options.progress
        func mark(_ what: String) {
            progress?(what)
            if profile { StandardStream.writeAll("profile: \(what) at \(Double(MonotonicClock.nanoseconds() - startTime) / 1e6) ms\n", to: 2) }
        }
        // Phase 0: read every file and skim its imports; only files that can reach legacy
        // code (and those the skimmer cannot read) are parsed.
        let readBytes = Slots<Result<[UInt8], InputError>>(inputs.count)
        let skimmed = Slots<ImportPrepass.Facts>(inputs.count)
        let aliasPrefixes = Array(Set(inputs.flatMap(\.aliasPrefixes)))
        let moduleNames = inputs.map(\.moduleName)
        let context = ImportPrepass.Context(moduleNames: moduleNames, rules: rules, aliasPrefixes: aliasPrefixes)
        parallelFor(inputs.count, workers: options.workers) { i in
            let input = inputs[i]
            let bytes = input.diskPath.map { MigrationFiles.read($0) } ?? input.bytes
            readBytes[i] = bytes
            // Unread or undecodable files count as relevant: the parse phase reports them.
            guard case .success(let b) = bytes, let source = try? PythonSource(bytes: b, buildLineTable: false) else {
                skimmed[i] = ImportPrepass.Facts(unknown: true)
                return
            }
            skimmed[i] = context.facts(ImportPrepass.importedModules(text: source.text, moduleName: input.moduleName, isPackageInit: input.isPackageInit))
        }
        let relevantInput = ImportPrepass.relevantFiles(moduleNames: moduleNames, facts: (0..<inputs.count).map { skimmed[$0]! }, context: context)

        mark("skimmed; \(relevantInput.filter { $0 }.count) of \(inputs.count) files relevant")
        // Phase 1: decode and parse the relevant files.
        let parsed = Slots<Result<IndexedFile, InputError>>(inputs.count)
        let parsedCount = Atomic<Int>(0)
        parallelFor(inputs.count, workers: options.workers) { i in
            let input = inputs[i]
            guard relevantInput[i] || options.computePlan else { return }
            if let progress { progress("parsing: \(parsedCount.add(1, ordering: .relaxed).newValue) of \(inputs.count) files") }
            switch readBytes[i]! {
            case .failure(let e): parsed[i] = .failure(e)
            case .success(let bytes):
                do {
                    let source = try PythonSource(bytes: bytes)
                    let tree = PythonParser.parse(source, options: .init(targetVersion: options.targetVersion))
                    if let d = tree.diagnostics.first {
                        let (line, column) = source.lineTable.location(of: min(d.offset, source.text.count))
                        parsed[i] = .failure(InputError("cannot parse (line \(line), column \(column + 1)): \(d.message); fix the syntax error and rerun"))
                    } else if tree.depth(upTo: Migration.maximumNesting) > Migration.maximumNesting {
                        // The passes over a tree recurse once per level: a file nested deeper
                        // than any real code is left as it is, not allowed to exhaust the stack.
                        parsed[i] = .failure(InputError("nested more than \(Migration.maximumNesting) levels deep (ember-migrate reads at most \(Migration.maximumNesting)); left untouched"))
                    } else {
                        let file = IndexedFile(path: input.path, moduleName: input.moduleName, isPackageInit: input.isPackageInit,
                                               source: source, tree: tree)
                        parsed[i] = .success(file)
                    }
                } catch let error as PythonSourceError {
                    parsed[i] = .failure(InputError("cannot decode (\(error.description)); left untouched"))
                } catch {
                    parsed[i] = .failure(InputError("cannot decode (\(error)); left untouched"))
                }
            }
        }
        var files: [IndexedFile] = []
        var inputIndexOfFile: [Int] = []
        var outcomes: [FileOutcome?] = Array(repeating: nil, count: inputs.count)
        for i in 0..<inputs.count {
            guard let result = parsed[i] else {
                // Nothing in it can reach legacy code: left as it is, unparsed.
                outcomes[i] = FileOutcome(path: inputs[i].path, status: .unchanged, original: (try? readBytes[i]!.get()) ?? [])
                continue
            }
            switch result {
            case .success(let f):
                files.append(f)
                inputIndexOfFile.append(i)
            case .failure(let e):
                report.append(ReportLine(path: inputs[i].path, line: 0, kind: .skipped, message: "skipped: \(e.message)"))
                let original = (try? readBytes[i]!.get()) ?? []
                outcomes[i] = FileOutcome(path: inputs[i].path, status: .skipped, original: original)
            }
        }
        let firstResolver = Resolver(files: files, rules: rules, aliasPrefixes: aliasPrefixes)
        let inputOfFile = inputIndexOfFile

        mark("parsed")
        // Phase 2: find legacy classes, their uses and composition calls.
        let legacyClasses = Slots<[LegacyClass]>(files.count)
        parallelFor(files.count, workers: options.workers) { i in
            legacyClasses[i] = FileScanner.legacyClasses(resolver: firstResolver, file: i)
        }
        let legacyClassFiles = Set((0..<files.count).filter { !legacyClasses[$0]!.isEmpty })
        let relevantModules = FileScanner.relevantModules(resolver: firstResolver, legacyClassFiles: legacyClassFiles)
        let legacyClassKeys = Set((0..<files.count).flatMap { legacyClasses[$0]!.map(\.key) })
        let resolver = firstResolver
        let scans = Slots<FileScan>(files.count)
        parallelFor(files.count, workers: options.workers) { i in
            var scanner = FileScanner(resolver: resolver, file: i, relevantModules: relevantModules, legacyClassKeys: legacyClassKeys)
            scans[i] = scanner.run(legacyClasses: legacyClasses[i]!)
        }

        mark("scanned")
        // Phase 3: decide per class, with the whole run in view.
        var records: [ClassRecord] = []
        let decisions = decide(resolver: resolver, scans: (0..<files.count).map { scans[$0]! }, options: options, report: &report, records: &records)

        mark("decided")
        // Phase 4: rewrite.
        let rewrites = Slots<(FileOutcome, [ReportLine])>(files.count)
        parallelFor(files.count, workers: options.workers) { i in
            rewrites[i] = rewrite(resolver: resolver, fileIndex: i, scan: scans[i]!, decisions: decisions, original: inputs[inputOfFile[i]])
        }
        for i in 0..<files.count {
            let (outcome, lines) = rewrites[i]!
            outcomes[inputIndexOfFile[i]] = outcome
            report += lines
        }
        mark("rewritten")
        let plan = options.computePlan ? legacyPlan(resolver: resolver) : []

        var summary = MigrationSummary()
        let finalOutcomes = outcomes.map { $0! }
        summary.filesScanned = inputs.count
        summary.filesChanged = finalOutcomes.filter { $0.status == .changed }.count
        summary.filesUnchanged = finalOutcomes.filter { $0.status == .unchanged }.count
        summary.filesSkipped = finalOutcomes.filter { $0.status == .skipped }.count
        // Classes count only where their file's rewrite went through.
        let abandonedPaths = Set(report.filter { $0.kind == .abandoned }.map(\.path))
        for i in records.indices where abandonedPaths.contains(records[i].path) && records[i].outcome != .kept {
            records[i] = ClassRecord(path: records[i].path, line: records[i].line, className: records[i].className, outcome: .kept,
                                     reason: "file-abandoned", detail: "the rewrite of its file was abandoned; the file is untouched")
        }
        for r in records {
            switch r.outcome {
            case .converted:
                summary.classesConverted += 1
                if r.safety == "unsafe" { summary.classesConvertedUnsafe += 1 }
            case .adapted:
                summary.classesAdapted += 1
                let family = r.reason.flatMap(KeepReason.init(rawValue:))?.family ?? r.reason ?? "other"
                summary.adaptedReasons[family, default: 0] += 1
            case .kept: summary.classesKept += 1
            }
            if r.outcome != .converted, r.reason == KeepReason.classDecorator.rawValue, !options.unsafe { summary.unsafeAvailable += 1 }
        }
        summary.unsafeAvailable += report.filter { $0.kind == .unsafe }.count
        summary.seconds = Double(MonotonicClock.nanoseconds() - startTime) / 1e9
        var result = MigrationResult(files: finalOutcomes, report: report.sorted(), plan: plan, summary: summary)
        result.classes = records.sorted()
        return result
    }

    /// `# ember-migrate: keep <reason>` on the class line or on a line of its own right above
    /// it (or above its decorators). Returns the reason ("" when it is missing), nil without one.
    static func keepComment(of classNode: PythonNodeID, in file: IndexedFile) -> String? {
        let tree: PythonSyntaxTree = file.tree
        let lines = file.source.lineTable
        let decorators = tree.children(of: classNode, role: .decorator)
        let first = decorators.map { tree[$0].start }.min() ?? tree[classNode].start
        let firstLine = lines.location(of: first).line
        let classLine = lines.location(of: tree[classNode].start).line
        for t in tree.tokens where t.kind == .comment {
            let line = lines.location(of: t.start).line
            guard line == classLine || line == firstLine - 1 || (line >= firstLine && line <= classLine) else { continue }
            let comment = String(decoding: file.source.text[t.start..<t.end], as: UTF8.self)
            guard let range = comment.byteRange(of: "ember-migrate:") else { continue }
            let rest = comment[range.upperBound...].trimmingUnicodeSpaces()
            guard rest == "keep" || rest.hasPrefix("keep ") else { continue }
            return rest.dropFirst(4).trimmingUnicodeSpaces()
        }
        return nil
    }

    /// Python's keywords: a snake-case name that is one gets a trailing underscore (`pass_`).
    static let pythonKeywords: Set<String> = ["False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield"]

    /// The module's snake-case name for a class (`SummaryOperator` -> `summary_operator`).
    static func functionNameFor(_ className: String) -> String {
        let name = snakeCase(className)
        return pythonKeywords.contains(name) ? name + "_" : name
    }

    static func decide(resolver: Resolver, scans: [FileScan], options: MigrationOptions,
                       report: inout [ReportLine], records: inout [ClassRecord]) -> RunDecisions {
        let rules = options.rules
        var decisions = RunDecisions()
        decisions.options = options
        var allUses: [ClassKey: [ClassUse]] = [:]
        var starImporters: [String: (file: Int, offset: Int)] = [:]
        var attributeReads: Set<String> = []
        var subclasses: [ClassKey: [ClassKey]] = [:]
        for (f, scan) in scans.enumerated() {
            for star in scan.starImports where starImporters[star.module] == nil { starImporters[star.module] = (f, star.offset) }
            for (key, uses) in scan.classUses { allUses[key, default: []] += uses }
            attributeReads.formUnion(resolver.files[f].attributeNames)
            for legacy in scan.legacyClasses {
                if case .runClass(let bf, let bn) = legacy.base { subclasses[ClassKey(file: bf, node: bn), default: []].append(legacy.key) }
            }
        }
        func position(_ file: Int, _ offset: Int) -> String {
            "\(resolver.files[file].path):\(resolver.files[file].source.lineTable.location(of: offset).line)"
        }
        struct Candidate {
            var legacy: LegacyClass
            var plan: OperatorPlan?
            var refusal: Refusal?
            var keep: (KeepReason, String)?
            /// A subclass that only adds a docstring or class attributes: it stays a class
            /// statement over its converted base (the runtime's classes can be subclassed).
            var subclassOf: ClassKey?
            var subclassConverted = false
            /// Class attributes a plain subclass sets.
            var overrides: Set<String> = []
            /// Why the module keeps the class's name (reported if it is converted).
            var keptName: String?
            /// A run base of the same file and scope to merge with once it is converted.
            var mergeBase: ClassKey?
            var mergeTried = false
        }
        /// Uses of the class the module class cannot serve: attributes it would not have,
        /// getattr/setattr on it.
        func usesRefusal(_ plan: OperatorPlan, _ legacy: LegacyClass) -> Refusal? {
            let tree: PythonSyntaxTree = resolver.files[legacy.key.file].tree
            let provided = Set(plan.classAttributes.map(\.name)).union(plan.inherited?.classAttributeNames ?? [])
                .union(["__name__", "__qualname__", "__doc__", "__module__"])
            // A decorator (legacy @jit) may set attributes on the class it is given.
            let decorated = !tree.children(of: legacy.key.node, role: .decorator).isEmpty
            for use in allUses[legacy.key] ?? [] {
                if use.kind == .attributeAccess, let attribute = use.attribute, !provided.contains(attribute), !decorated {
                    return Refusal(code: .classAttributeRead, reason: "\(plan.className).\(attribute) is read at \(position(use.file, use.offset)); the module does not have it")
                }
                if use.kind == .dynamicAttribute {
                    return Refusal(code: .classAttributeRead, reason: "used with getattr/setattr at \(position(use.file, use.offset))")
                }
            }
            return nil
        }
        var candidates: [Candidate] = []
        for (f, scan) in scans.enumerated() {
            let file = resolver.files[f]
            let inLegacyModule = !file.moduleName.isEmpty && rules.isLegacyModule(file.moduleName)
            for legacy in scan.legacyClasses {
                let tree: PythonSyntaxTree = file.tree
                let className = tree.nameText(legacy.key.node)
                var candidate = Candidate(legacy: legacy)
                if inLegacyModule {
                    candidate.keep = (.legacyFramework, "part of the legacy framework (\(file.moduleName)), which is never rewritten")
                    candidates.append(candidate)
                    continue
                }
                if let why = keepComment(of: legacy.key.node, in: file) {
                    candidate.keep = (.suppressed, why.isEmpty ? "keep comment without a reason (write: # ember-migrate: keep <reason>)" : "keep comment: \(why)")
                    candidates.append(candidate)
                    continue
                }
                if !options.applies(.operatorToModule) {
                    candidate.refusal = Refusal(code: .notSelected, reason: "rule \(MigrationRule.operatorToModule.rawValue) (\(MigrationRule.operatorToModule.name)) is not selected")
                    candidates.append(candidate)
                    continue
                }
                let functionName = options.naming == .snake ? functionNameFor(className) : className
                if case .runClass(let bf, let bn) = legacy.base {
                    let baseName = resolver.files[bf].tree.nameText(bn)
                    let baseSummary = resolver.files[bf].classes.first { $0.node == bn }
                    if bf == legacy.key.file, baseSummary?.scope == legacy.scope {
                        candidate.mergeBase = ClassKey(file: bf, node: bn)
                    }
                    if OperatorAnalyzer(file: file, rules: rules).isPlainSubclass(legacy.key.node) {
                        candidate.subclassOf = ClassKey(file: bf, node: bn)
                        for st in tree.children(of: legacy.key.node, role: .body) where tree[st].kind == .assign || tree[st].kind == .annAssign {
                            if let t = tree.children(of: st, role: .target).first { candidate.overrides.insert(tree.nameText(t)) }
                        }
                    }
                    candidate.refusal = Refusal(code: .inheritance, reason: "inherits from legacy operator \(baseName) (\(position(bf, resolver.files[bf].tree[bn].start)))")
                    candidates.append(candidate)
                    continue
                }
                if case .legacy(let symbol, let q) = legacy.base, symbol != .operatorBase {
                    candidate.refusal = Refusal(code: .inheritance, reason: "inherits from the legacy framework's \(q.name)")
                    candidates.append(candidate)
                    continue
                }
                let inClassBody = tree[legacy.scope].kind == .classDef
                // In a class body, code reaches the class through `self.X` or `Outer.X`, which
                // no rename can follow: the module keeps the name.
                let name = inClassBody ? className : functionName
                switch OperatorAnalyzer(file: file, rules: rules).plan(classNode: legacy.key.node, key: legacy.key, functionName: name, inClassBody: inClassBody,
                                                                   allowUnsafe: options.unsafe) {
                case .failure(let r): candidate.refusal = r
                case .success(let plan):
                    candidate.refusal = usesRefusal(plan, legacy)
                    if candidate.refusal == nil { candidate.plan = plan }
                }
                candidates.append(candidate)
            }
        }

        // Names: a class reachable through a star import, or whose new name something
        // would capture, keeps its own name.
        var starReachable: Set<ClassKey> = []
        for (f, file) in resolver.files.enumerated() where !file.moduleName.isEmpty && starImporters[file.moduleName] != nil {
            for name in file.bindings.keys {
                if case .runClass(let cf, let cn)? = resolver.resolve(name: name, inFile: f) { starReachable.insert(ClassKey(file: cf, node: cn)) }
            }
        }
        var planOf: [ClassKey: Int] = [:]
        for (i, c) in candidates.enumerated() where c.plan != nil { planOf[c.legacy.key] = i }
        /// Settles a planned class's name (and its exposed state); `base`: the base it is
        /// merged with.
        func settle(_ i: Int, base: (node: PythonNodeID, plan: OperatorPlan)?) {
            guard var plan = candidates[i].plan else { return }
            let legacy = candidates[i].legacy
            let file = resolver.files[legacy.key.file]
            let tree: PythonSyntaxTree = file.tree
            let className = plan.className
            let uses = allUses[legacy.key] ?? []
            var clash: String? = nil
            if plan.functionName != className, legacy.inModuleScope, file.bindings[className] != .classDef(legacy.key.node) {
                clash = "the module also assigns \(className) elsewhere (e.g. \(className) = jit(\(className)))"
            }
            if clash == nil, plan.functionName != className {
                if let star = starImporters[file.moduleName] ?? (starReachable.contains(legacy.key) ? starImporters.values.first : nil), starReachable.contains(legacy.key) || starImporters[file.moduleName] != nil {
                    clash = "it is star-imported at \(position(star.file, star.offset)), where a new name would not follow"
                }
                if clash == nil {
                    clash = nameConflict(plan, legacy: legacy, uses: uses, resolver: resolver, rules: rules, position: position)
                }
                if clash == nil {
                    // A use inside another converted class whose factory binds the new name.
                    for use in uses {
                        for k in use.enclosingClasses {
                            guard let j = planOf[ClassKey(file: use.file, node: k)], let other = candidates[j].plan else { continue }
                            if other.factoryNames.contains(plan.functionName) {
                                clash = "the name '\(plan.functionName)' is a name of \(other.className)'s module at \(position(use.file, use.offset))"
                            }
                        }
                    }
                }
            }
            if let clash {
                var same = plan
                same.functionName = className
                if nameConflict(same, legacy: legacy, uses: uses, resolver: resolver, rules: rules, position: position) == nil,
                   case .success(let replanned) = OperatorAnalyzer(file: file, rules: rules).plan(classNode: legacy.key.node, key: legacy.key, functionName: className,
                                                                                                  inClassBody: tree[legacy.scope].kind == .classDef, allowUnsafe: options.unsafe,
                                                                                                  base: base) {
                    plan = replanned
                    candidates[i].keptName = clash
                } else {
                    candidates[i].plan = nil
                    candidates[i].refusal = Refusal(code: .nameClash, reason: nameConflict(same, legacy: legacy, uses: uses, resolver: resolver, rules: rules, position: position) ?? clash)
                    return
                }
            }
            // Where code looks at instance state as a whole (vars(), __dict__) next to the
            // class or its uses, all of it stays readable.
            let lookers = Set(uses.map(\.file) + [legacy.key.file])
            let inspectsDicts = lookers.contains { resolver.files[$0].inspectsInstanceDicts }
            plan.exposedState = inspectsDicts ? plan.instanceAttributes.sorted() : exposedState(plan, file: file, attributeReads: attributeReads)
            candidates[i].plan = plan
        }
        for i in candidates.indices { settle(i, base: nil) }

        // A subclass that overrides methods, of a converted class of the same file and scope:
        // merged with its base (the base's members copied in, its class as the new class's base).
        var mergeIndex: [ClassKey: Int] = [:]
        for (i, c) in candidates.enumerated() { mergeIndex[c.legacy.key] = i }
        var merging = true
        while merging {
            merging = false
            for i in candidates.indices where candidates[i].plan == nil && !candidates[i].mergeTried {
                guard let baseKey = candidates[i].mergeBase, let j = mergeIndex[baseKey], let basePlan = candidates[j].plan else { continue }
                candidates[i].mergeTried = true
                merging = true
                let legacy = candidates[i].legacy
                let file = resolver.files[legacy.key.file]
                let tree: PythonSyntaxTree = file.tree
                let className = tree.nameText(legacy.key.node)
                let inClassBody = tree[legacy.scope].kind == .classDef
                let name = options.naming == .snake && !inClassBody ? functionNameFor(className) : className
                switch OperatorAnalyzer(file: file, rules: rules).plan(classNode: legacy.key.node, key: legacy.key, functionName: name,
                                                                      inClassBody: tree[legacy.scope].kind == .classDef, allowUnsafe: options.unsafe,
                                                                      base: (baseKey.node, basePlan)) {
                case .failure(let r):
                    candidates[i].refusal = Refusal(code: r.code, reason: r.reason + " (merging it with its base \(basePlan.className))")
                case .success(let plan):
                    if let refusal = usesRefusal(plan, legacy) {
                        candidates[i].refusal = refusal
                        continue
                    }
                    candidates[i].plan = plan
                    candidates[i].refusal = nil
                    planOf[legacy.key] = i
                    settle(i, base: (baseKey.node, basePlan))
                }
            }
        }

        // A class another run class inherits from stays a class while that one does; a
        // plain subclass follows its base.
        var index: [ClassKey: Int] = [:]
        for (i, c) in candidates.enumerated() { index[c.legacy.key] = i }
        var changed = true
        while changed {
            changed = false
            var converted = Set(candidates.filter { $0.plan != nil || $0.subclassConverted }.map(\.legacy.key))
            for i in candidates.indices {
                guard let base = candidates[i].subclassOf else { continue }
                // The converted root reads its class attributes through its own name: a
                // subclass must not change one of those.
                var root = base
                var overrides = candidates[i].overrides
                var guardCount = 0
                while let j = index[root], let up = candidates[j].subclassOf, guardCount < 64 { overrides.formUnion(candidates[j].overrides); root = up; guardCount += 1 }
                var readsOverridden = false
                if let j = index[root], let rootPlan = candidates[j].plan {
                    let classReads = Set(rootPlan.accesses.filter { a in
                        if case .classAttribute = a.form { return true }
                        return !rootPlan.instanceAttributes.contains(a.attribute)
                    }.map(\.attribute))
                    readsOverridden = !classReads.isDisjoint(with: overrides)
                }
                let now = converted.contains(base) && !readsOverridden
                if now != candidates[i].subclassConverted {
                    candidates[i].subclassConverted = now
                    if now { converted.insert(candidates[i].legacy.key) } else { converted.remove(candidates[i].legacy.key) }
                    changed = true
                }
            }
            for i in candidates.indices {
                guard candidates[i].plan?.inherited != nil, let baseKey = candidates[i].mergeBase, !converted.contains(baseKey) else { continue }
                candidates[i].plan = nil
                candidates[i].refusal = Refusal(code: .inheritance, reason: "inherits from \(resolver.files[baseKey.file].tree.nameText(baseKey.node)), which stays a class")
                converted.remove(candidates[i].legacy.key)
                changed = true
            }
            for i in candidates.indices where candidates[i].plan != nil || candidates[i].subclassConverted {
                let key = candidates[i].legacy.key
                if let sub = subclasses[key]?.first(where: { !converted.contains($0) }) {
                    let subFile: IndexedFile = resolver.files[sub.file]
                    candidates[i].refusal = Refusal(code: .subclassed, reason: "subclassed by \(subFile.tree.nameText(sub.node)) at \(position(sub.file, subFile.tree[sub.node].start)), which stays a class")
                    candidates[i].plan = nil
                    if candidates[i].subclassConverted { candidates[i].subclassOf = nil; candidates[i].subclassConverted = false }
                    converted.remove(key)
                    changed = true
                }
            }
        }
        for candidate in candidates {
            let legacy = candidate.legacy
            let file = resolver.files[legacy.key.file]
            let tree: PythonSyntaxTree = file.tree
            let className = tree.nameText(legacy.key.node)
            let line = file.source.lineTable.location(of: tree[legacy.key.node].start).line
            if let (code, why) = candidate.keep {
                records.append(ClassRecord(path: file.path, line: line, className: className, outcome: .kept, reason: code.rawValue, detail: why))
                if code == .suppressed {
                    report.append(ReportLine(path: file.path, line: line, kind: .kept, message: "kept class \(className): \(why)"))
                }
            } else if candidate.subclassConverted, let base = candidate.subclassOf {
                let baseName = decisions.plans[base]?.functionName ?? resolver.files[base.file].tree.nameText(base.node)
                decisions.anyConverted = true
                records.append(ClassRecord(path: file.path, line: line, className: className, module: legacy.inModuleScope ? file.moduleName : "",
                                           outcome: .converted, safety: "safe", detail: "a plain subclass: stays a class statement over the module \(baseName)"))
                report.append(ReportLine(path: file.path, line: line, kind: .converted,
                                         message: "converted class \(className): a plain subclass, now of the module \(baseName)"))
            } else if let plan = candidate.plan {
                decisions.plans[legacy.key] = plan
                decisions.anyConverted = true
                let safety = plan.unsafeReasons.isEmpty ? "safe" : "unsafe"
                records.append(ClassRecord(path: file.path, line: line, className: className, module: legacy.inModuleScope ? file.moduleName : "",
                                           outcome: .converted, safety: safety, function: plan.functionName,
                                           detail: plan.unsafeReasons.isEmpty ? nil : plan.unsafeReasons.joined(separator: "; ")))
                report.append(ReportLine(path: file.path, line: line, kind: .converted,
                                         message: "converted class \(className) to module \(plan.functionName)"
                                            + (plan.unsafeReasons.isEmpty ? "" : " (unsafe: \(plan.unsafeReasons.joined(separator: "; ")))")))
                if let why = candidate.keptName {
                    report.append(ReportLine(path: file.path, line: line, kind: .kept, message: "kept the name \(className) for its module: \(why)"))
                }
                if plan.functionName != className && !className.hasPrefix("_") && legacy.inModuleScope {
                    report.append(ReportLine(path: file.path, line: line, kind: .renamed,
                                             message: "renamed \(file.moduleName.isEmpty ? "" : file.moduleName + ".")\(className) to \(plan.functionName); code outside this run that uses \(className) must follow"))
                }
            } else if let refusal = candidate.refusal, !options.applies(.adapter) {
                records.append(ClassRecord(path: file.path, line: line, className: className, outcome: .kept, reason: refusal.code.rawValue, detail: refusal.reason))
            } else if let refusal = candidate.refusal {
                var variable = functionNameFor(className)
                if variable == className { variable += "_module" }
                let scopeNames = legacy.inModuleScope ? Set(file.bindings.keys) : localNames(of: legacy.scope, in: tree)
                while scopeNames.contains(variable) && !isAdapterBinding(variable, of: className, legacy: legacy, in: file) { variable += "_module" }
                decisions.adapted[legacy.key] = AdaptedClass(variableName: variable, reason: refusal.reason)
                records.append(ClassRecord(path: file.path, line: line, className: className, outcome: .adapted, reason: refusal.code.rawValue, detail: refusal.reason))
                report.append(ReportLine(path: file.path, line: line, kind: .adapted, message: "adapted class \(className): \(refusal.reason) [\(refusal.code.rawValue)]"))
            }
        }
        return decisions
    }

    /// Whether `name = migrate_operator_to_module(ClassName)` already stands next to the class
    /// (a second run must find the same name, not a new one).
    static func isAdapterBinding(_ name: String, of className: String, legacy: LegacyClass, in file: IndexedFile) -> Bool {
        let tree: PythonSyntaxTree = file.tree
        for (role, s) in tree.roledChildren(of: legacy.parent) where [.body, .orelse, .finalbody].contains(role) && tree[s].kind == .assign {
            guard let target = tree.children(of: s, role: .target).first, tree[target].kind == .name, tree.nameText(target) == name,
                  let value = tree.children(of: s, role: .value).first, tree[value].kind == .call else { continue }
            let args = tree.children(of: value, role: .arg)
            if args.count == 1, tree[args[0]].kind == .name, tree.nameText(args[0]) == className { return true }
        }
        return false
    }

    /// Instance attributes and methods that code may read from outside (some `x.name` in
    /// the run) and that neither the factory's parameters nor `forward`'s closure carry.
    static func exposedState(_ plan: OperatorPlan, file: IndexedFile, attributeReads: Set<String>) -> [String] {
        let tree: PythonSyntaxTree = file.tree
        let analyzer = OperatorAnalyzer(file: file, rules: MigrationRules())
        // forward's closure carries what it reads under the attribute's own name; a renamed
        // attribute (self_x) is found only through module.state.
        var carried: Set<String> = Set(plan.accesses.filter { $0.method == plan.forward && plan.renamedAttributes[$0.attribute] == nil }.map(\.attribute))
        if let initNode = plan.initMethod {
            for p in ClassAnalyzer(file: file, rules: MigrationRules()).parameters(of: initNode).dropFirst() {
                let name = tree.nameText(p.node)
                // A parameter that is also an instance attribute may hold another value by the
                // end of __init__ (self.x = f(x) became x = f(x)): only the closure or state tells.
                if !analyzer.isRebound(name, in: initNode) && (!plan.instanceAttributes.contains(name) || plan.sameAsLocal.contains(name)) { carried.insert(name) }
            }
        }
        let forwardName = tree.nameText(plan.forward)
        let candidates = plan.instanceAttributes.union(plan.methods.map(\.name).filter { $0 != forwardName })
        return candidates.subtracting(carried).intersection(attributeReads).sorted()
    }

    static func nameConflict(_ plan: OperatorPlan, legacy: LegacyClass, uses: [ClassUse], resolver: Resolver, rules: MigrationRules,
                             position: (Int, Int) -> String) -> String? {
        let file = resolver.files[legacy.key.file]
        let tree: PythonSyntaxTree = file.tree
        let renamed = plan.functionName != plan.className
        let decorator = rules.moduleDecorator
        if legacy.inModuleScope {
            // The class's own adapter line from an earlier run goes with the conversion.
            if renamed, file.bindings[plan.functionName] != nil, !isAdapterBinding(plan.functionName, of: plan.className, legacy: legacy, in: file) {
                return "the name '\(plan.functionName)' is already used in this file"
            }
        } else {
            let locals = localNames(of: legacy.scope, in: tree)
            if renamed && locals.contains(plan.functionName) { return "the name '\(plan.functionName)' is already used where the class is defined" }
            if locals.contains(decorator.importedName) { return "the name '\(decorator.importedName)' is a local name where the class is defined" }
        }
        switch file.bindings[decorator.importedName] {
        case nil: break
        case .importFrom(let m, let n, _)? where m == decorator.module && n == decorator.importedName: break
        default: return "the name '\(decorator.importedName)' is taken in this file"
        }
        for use in uses where renamed {
            let user = resolver.files[use.file]
            let at = position(use.file, use.offset)
            if use.file != legacy.key.file, let b = user.bindings[plan.functionName] {
                if case .importFrom = b {} else { return "the name '\(plan.functionName)' is already used at \(at)" }
            }
            if use.enclosingLocals.contains(plan.functionName) && !(legacy.inModuleScope == false && use.file == legacy.key.file) {
                return "the name '\(plan.functionName)' is a local name at \(at)"
            }
        }
        return nil
    }

    static func rewrite(resolver: Resolver, fileIndex: Int, scan: FileScan, decisions: RunDecisions, original: InputFile) -> (FileOutcome, [ReportLine]) {
        let file = resolver.files[fileIndex]
        let rules = resolver.rules
        let bytes = file.source.original
        let unchanged = FileOutcome(path: file.path, status: .unchanged, original: bytes)
        let hasLegacyImports = file.importedModules.contains { rules.isLegacyModule(resolver.canonical($0)) }
        // The legacy framework itself is never rewritten, not even its imports.
        if !file.moduleName.isEmpty && rules.isLegacyModule(file.moduleName) { return (unchanged, []) }
        guard scan.touchesLegacy || hasLegacyImports else { return (unchanged, []) }
        var rewriter = FileRewriter(resolver: resolver, fileIndex: fileIndex, scan: scan, decisions: decisions)
        rewriter.build()
        var lines = rewriter.notes
        if let conflict = rewriter.conflicts.first {
            lines.append(ReportLine(path: file.path, line: 0, kind: .abandoned, message: "abandoned: \(conflict); file left untouched"))
            return (FileOutcome(path: file.path, status: .skipped, original: bytes), lines)
        }
        func abandon(_ why: String) -> (FileOutcome, [ReportLine]) {
            lines.append(ReportLine(path: file.path, line: 0, kind: .abandoned, message: "abandoned: \(why); file left untouched"))
            return (FileOutcome(path: file.path, status: .skipped, original: bytes), lines)
        }
        do {
            var stage = file
            if !rewriter.edits.isEmpty {
                let text = try render(file.source.text, edits: rewriter.edits)
                let encoded = try file.source.encode(text: text)
                let source = try PythonSource(bytes: encoded)
                let tree = PythonParser.parse(source, options: .init(targetVersion: decisions.options.targetVersion))
                if let d = tree.diagnostics.first {
                    return abandon("the rewritten file would not parse (\(describe(d, source)))")
                }
                stage = IndexedFile(path: file.path, moduleName: file.moduleName, isPackageInit: file.isPackageInit, source: source, tree: tree)
                // Blank lines the moved and deleted statements left behind, inside the new functions.
                let tidy = blankLineEdits(stage, decorator: rules.moduleDecorator.name)
                if !tidy.isEmpty {
                    let text = try render(stage.source.text, edits: tidy)
                    let source = try PythonSource(bytes: try file.source.encode(text: text))
                    let tree = PythonParser.parse(source, options: .init(targetVersion: decisions.options.targetVersion))
                    if tree.diagnostics.isEmpty {
                        stage = IndexedFile(path: file.path, moduleName: file.moduleName, isPackageInit: file.isPackageInit, source: source, tree: tree)
                    }
                }
            }
            var importRewriter = ImportRewriter(file: stage, rules: rules)
            importRewriter.usedBefore = ImportRewriter(file: file, rules: rules).usedNames()
            for name in file.bindings.keys {
                switch resolver.resolve(name: name, inFile: fileIndex) {
                case .legacy?: importRewriter.legacyBoundNames.insert(name)
                case .module(let m)? where rules.isLegacyModule(m): importRewriter.legacyBoundNames.insert(name)
                default: break
                }
            }
            if !decisions.options.applies(.unusedImports) {
                importRewriter.legacyBoundNames = []
                importRewriter.usedBefore = []
            }
            let importEdits = importRewriter.edits(needed: rewriter.neededTargets)
            let finalText = try render(stage.source.text, edits: importEdits)
            let encoded = try file.source.encode(text: finalText)
            if encoded == bytes { return (unchanged, lines) }
            let check = try PythonSource(bytes: encoded)
            let tree = PythonParser.parse(check, options: .init(targetVersion: decisions.options.targetVersion))
            if let d = tree.diagnostics.first {
                return abandon("the rewritten file would not parse (\(describe(d, check)))")
            }
            var outcome = FileOutcome(path: file.path, status: .changed, original: bytes, rewritten: encoded)
            outcome.originalText = file.source.text
            outcome.rewrittenText = finalText
            return (outcome, lines)
        } catch let e as EditConflict {
            return abandon("conflicting rewrites (\(e.description))")
        } catch let e as PythonSourceError {
            return abandon("the result cannot be encoded as \(file.source.encoding) (\(e.message))")
        } catch {
            return abandon("\(error)")
        }
    }

    /// In the functions `module.operator` decorates: no blank line right after the header,
    /// and no run of blank lines longer than one (outside strings).
    static func blankLineEdits(_ file: IndexedFile, decorator: String) -> [Edit] {
        let tree: PythonSyntaxTree = file.tree
        let text = file.source.text
        let prefix = Array("\(decorator).operator(".utf8)
        var strings: [Range<Int>] = []
        for t in tree.tokens where t.kind == .string || t.kind == .fstringMiddle || t.kind == .fstringStart || t.kind == .fstringEnd {
            strings.append(t.start..<t.end)
        }
        func inString(_ offset: Int) -> Bool {
            var lo = 0, hi = strings.count
            while lo < hi { let mid = (lo + hi) / 2; if strings[mid].upperBound <= offset { lo = mid + 1 } else { hi = mid } }
            return lo < strings.count && strings[lo].lowerBound < offset
        }
        let lines = file.source.lineTable.lineStarts
        func isBlank(_ k: Int) -> Bool {
            let start = lines[k], end = k + 1 < lines.count ? lines[k + 1] : text.count
            return text[start..<end].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C }
        }
        var edits: [Edit] = []
        for (i, n) in tree.nodes.enumerated() where n.kind == .functionDef || n.kind == .asyncFunctionDef {
            let id = PythonNodeID(i)
            let decorated = tree.children(of: id, role: .decorator).contains { d in
                let r = tree[d]
                return r.end - r.start >= prefix.count && Array(text[r.start..<(r.start + prefix.count)]) == prefix
            }
            guard decorated, let firstStatement = tree.children(of: id, role: .body).first else { continue }
            let headerLine = file.source.lineTable.location(of: tree[firstStatement].start).line - 1  // 1-based line before the body
            let defLine = file.source.lineTable.location(of: n.start).line
            let lastLine = file.source.lineTable.location(of: n.end).line
            var k = defLine  // 0-based index of the line after the def line
            var previousBlank = true  // right after the header: no blank line at all
            while k < lastLine && k < lines.count {
                let blank = isBlank(k) && !inString(lines[k])
                if blank && (previousBlank || k < headerLine) {
                    let end = k + 1 < lines.count ? lines[k + 1] : text.count
                    edits.append(Edit(lines[k]..<end, text: ""))
                } else {
                    previousBlank = blank
                }
                k += 1
            }
        }
        return edits
    }

    static func describe(_ d: PythonDiagnostic, _ source: PythonSource) -> String {
        let (line, column) = source.lineTable.location(of: min(d.offset, source.text.count))
        return "line \(line), column \(column + 1): \(d.message)"
    }

    /// Files outside the run (elsewhere in the project) that import a class the run renamed:
    /// they must follow (for `--plan`).
    public static func outsideImporters(of result: MigrationResult, files: [InputFile], target: PythonVersion = .newest) -> [ReportLine] {
        var renamed: [QualifiedName: String] = [:]
        for c in result.classes where c.outcome == .converted && !c.module.isEmpty {
            if let f = c.function, f != c.className { renamed[QualifiedName(module: c.module, name: c.className)] = f }
        }
        guard !renamed.isEmpty else { return [] }
        var out: [ReportLine] = []
        for input in files {
            guard let bytes = try? (input.diskPath.map { MigrationFiles.read($0) } ?? input.bytes).get(),
                  let source = try? PythonSource(bytes: bytes) else { continue }
            let tree = PythonParser.parse(source, options: .init(targetVersion: target))
            let file = IndexedFile(path: input.path, moduleName: input.moduleName, isPackageInit: input.isPackageInit, source: source, tree: tree)
            for (i, n) in tree.nodes.enumerated() where n.kind == .importFrom {
                let module = file.absoluteModule(ofImportFrom: PythonNodeID(i))
                for alias in tree.children(of: PythonNodeID(i)) {
                    let name = tree.identifier(of: alias) ?? ""
                    if let new = renamed[QualifiedName(module: module, name: name)] {
                        out.append(ReportLine(path: input.path, line: source.lineTable.location(of: n.start).line, kind: .legacyReference,
                                              message: "outside the run: imports \(module).\(name), now \(new)"))
                    }
                }
            }
        }
        return out.sorted()
    }

    /// Legacy modules in the run and every import of a legacy module (for `--plan`).
    static func legacyPlan(resolver: Resolver) -> [ReportLine] {
        var out: [ReportLine] = []
        let rules = resolver.rules
        for file in resolver.files {
            if !file.moduleName.isEmpty && rules.isLegacyModule(file.moduleName) {
                out.append(ReportLine(path: file.path, line: 0, kind: .legacyModule, message: "legacy module \(file.moduleName)"))
            }
            let tree: PythonSyntaxTree = file.tree
            var stack: [PythonNodeID] = [tree.root]
            while let id = stack.popLast() {
                let n = tree[id]
                if n.kind == .importFrom {
                    let module = file.absoluteModule(ofImportFrom: id)
                    if rules.isLegacyModule(module) {
                        let names = tree.children(of: id).map { tree.identifier(of: $0) ?? "" }.joined(separator: ", ")
                        out.append(ReportLine(path: file.path, line: file.source.lineTable.location(of: n.start).line, kind: .legacyReference,
                                              message: "from \(module) import \(names)"))
                    }
                } else if n.kind == .import {
                    for alias in tree.children(of: id) where rules.isLegacyModule(tree.identifier(of: alias) ?? "") {
                        out.append(ReportLine(path: file.path, line: file.source.lineTable.location(of: n.start).line, kind: .legacyReference,
                                              message: "import \(tree.identifier(of: alias) ?? "")"))
                    }
                } else if n.kind.isStatement || n.kind == .module || n.kind == .exceptHandler || n.kind == .matchCase {
                    for c in tree.children(of: id) { stack.append(c) }
                }
            }
        }
        return out.sorted()
    }
}
