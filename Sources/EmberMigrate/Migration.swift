import EmberPython
import EmberUtils
import Foundation

/// Process exit codes of ember-migrate (documented in --help and the README).
public enum MigrateExitCode: Int32, Sendable, CaseIterable {
    /// Nothing to do, or everything done.
    case success = 0
    /// `--check` found files that would change.
    case changesFound = 1
    /// Bad arguments or a bad rules file; nothing was read or written.
    case usageError = 2
    /// Some files could not be read, decoded, parsed or safely rewritten (reported; the rest ran).
    case filesSkipped = 3
}

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
    public init() {}
}

/// One line of the report.
public struct ReportLine: Sendable, Hashable, Comparable {
    public enum Kind: String, Sendable {
        case converted, adapted, renamed, kept, skipped, abandoned, legacyModule = "legacy-module", legacyReference = "legacy-reference"
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

public struct MigrationSummary: Sendable {
    public var filesScanned = 0
    public var filesChanged = 0
    public var filesUnchanged = 0
    public var filesSkipped = 0
    public var classesConverted = 0
    public var classesAdapted = 0
    /// Adapted-class reasons by category (the reason text up to its first parenthesis or digit).
    public var adaptedReasons: [String: Int] = [:]
    public var seconds: Double = 0
}

public struct MigrationResult: Sendable {
    public var files: [FileOutcome]
    public var report: [ReportLine]
    public var plan: [ReportLine]
    public var summary: MigrationSummary
}

struct AdaptedClass: Sendable {
    var variableName: String
    var reason: String
}

struct RunDecisions: Sendable {
    var plans: [ClassKey: ConversionPlan] = [:]
    var adapted: [ClassKey: AdaptedClass] = [:]
}

/// A file handed to a run: its display path and bytes (or why it could not be read).
public struct InputFile: Sendable {
    public var path: String
    public var moduleName: String
    public var isPackageInit: Bool
    public var bytes: Result<[UInt8], InputError>

    /// When set, the bytes are read from this file by the run's workers (in parallel).
    public var diskPath: String?

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

/// Runs `body(i)` for every index on `workers` threads with large stacks (deeply nested
/// Python makes the tree walks recurse).
func parallelFor(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        func take() -> Int { lock.lock(); defer { lock.unlock() }; let v = next; next += 1; return v }
    }
    let counter = Counter()
    let threads = max(1, min(workers, count))
    let group = DispatchGroup()
    for _ in 0..<threads {
        group.enter()
        let thread = Thread {
            while true {
                let i = counter.take()
                if i >= count { break }
                body(i)
            }
            group.leave()
        }
        thread.stackSize = 64 << 20
        thread.start()
    }
    group.wait()
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
    /// Runs the migration over `inputs` (no file system access: see `MigrationCommandSupport`).
    public static func run(_ inputs: [InputFile], options: MigrationOptions) -> MigrationResult {
        let startTime = MonotonicClock.nanoseconds()
        let rules = options.rules
        var report: [ReportLine] = []

        // Phase 1: decode and parse every file.
        let parsed = Slots<Result<IndexedFile, InputError>>(inputs.count)
        let readBytes = Slots<Result<[UInt8], InputError>>(inputs.count)
        parallelFor(inputs.count, workers: options.workers) { i in
            let input = inputs[i]
            let bytes = input.diskPath.map { MigrationFiles.read($0) } ?? input.bytes
            readBytes[i] = bytes
            switch bytes {
            case .failure(let e): parsed[i] = .failure(e)
            case .success(let bytes):
                do {
                    let source = try PythonSource(bytes: bytes)
                    let tree = PythonParser.parse(source)
                    if let d = tree.diagnostics.first {
                        let (line, column) = source.lineTable.location(of: min(d.offset, source.text.count))
                        parsed[i] = .failure(InputError("cannot parse (line \(line), column \(column + 1)): \(d.message); fix the syntax error and rerun"))
                    } else {
                        let file = IndexedFile(path: input.path, moduleName: input.moduleName, isPackageInit: input.isPackageInit,
                                               source: source, tree: tree)
                        parsed[i] = .success(options.computePlan ? file : file.droppingTree())
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
            switch parsed[i]! {
            case .success(let f):
                files.append(f)
                inputIndexOfFile.append(i)
            case .failure(let e):
                report.append(ReportLine(path: inputs[i].path, line: 0, kind: .skipped, message: "skipped: \(e.message)"))
                let original = (try? readBytes[i]!.get()) ?? []
                outcomes[i] = FileOutcome(path: inputs[i].path, status: .skipped, original: original)
            }
        }
        let firstResolver = Resolver(files: files, rules: rules)
        let inputOfFile = inputIndexOfFile

        let profile = ProcessInfo.processInfo.environment["EMBER_MIGRATE_PROFILE"] != nil
        func mark(_ what: String) {
            if profile { FileHandle.standardError.write(Data("profile: \(what) at \(Double(MonotonicClock.nanoseconds() - startTime) / 1e6) ms\n".utf8)) }
        }
        mark("parsed")
        // Phase 2: find legacy classes, their uses and composition calls.
        let legacyClasses = Slots<[LegacyClass]>(files.count)
        parallelFor(files.count, workers: options.workers) { i in
            legacyClasses[i] = FileScanner.legacyClasses(resolver: firstResolver, file: i)
        }
        let legacyClassFiles = Set((0..<files.count).filter { !legacyClasses[$0]!.isEmpty })
        let relevantModules = FileScanner.relevantModules(resolver: firstResolver, legacyClassFiles: legacyClassFiles)
        let legacyClassKeys = Set((0..<files.count).flatMap { legacyClasses[$0]!.map(\.key) })
        // Files with something to migrate get their tree back (parsed again: same node ids).
        let relevant = Slots<IndexedFile>(files.count)
        parallelFor(files.count, workers: options.workers) { i in
            let file = firstResolver.files[i]
            let scanner = FileScanner(resolver: firstResolver, file: i, relevantModules: relevantModules, legacyClassKeys: legacyClassKeys)
            let hasLegacyImports = file.importedModules.contains { rules.isLegacyModule($0) }
            if !file.hasTree && (!scanner.interesting.isEmpty || !legacyClasses[i]!.isEmpty || hasLegacyImports) {
                relevant[i] = file.reparsed()
            }
        }
        let resolver = Resolver(files: (0..<files.count).map { relevant[$0] ?? firstResolver.files[$0] }, rules: rules)
        mark("relevant files parsed again")
        let scans = Slots<FileScan>(files.count)
        parallelFor(files.count, workers: options.workers) { i in
            var scanner = FileScanner(resolver: resolver, file: i, relevantModules: relevantModules, legacyClassKeys: legacyClassKeys)
            scans[i] = resolver.files[i].hasTree ? scanner.run(legacyClasses: legacyClasses[i]!) : FileScan(starImports: resolver.files[i].starImports)
        }

        mark("scanned")
        // Phase 3: decide per class, with the whole run in view.
        let decisions = decide(resolver: resolver, scans: (0..<files.count).map { scans[$0]! }, options: options, report: &report)

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
        summary.classesConverted = report.filter { $0.kind == .converted && !abandonedPaths.contains($0.path) }.count
        for line in report where line.kind == .adapted && !abandonedPaths.contains(line.path) {
            summary.classesAdapted += 1
            summary.adaptedReasons[reasonCategory(line.message), default: 0] += 1
        }
        summary.seconds = Double(MonotonicClock.nanoseconds() - startTime) / 1e9
        return MigrationResult(files: finalOutcomes, report: report.sorted(), plan: plan, summary: summary)
    }

    /// Reason families for the summary, by the fixed phrase each refusal starts with.
    static let reasonFamilies: [(prefix: String, family: String)] = [
        ("mutates ", "mutates self"), ("has other methods", "has other methods"), ("defines both", "has other methods"),
        ("checked with isinstance", "isinstance check"), ("isinstance check on Operator", "isinstance check"),
        ("used with getattr", "dynamic attribute access"), ("class attribute read", "used as a value"), ("used as a value", "used as a value"),
        ("constructed with", "construction it cannot map"), ("decorator", "decorator needs the class"),
        ("__init__", "__init__ does more than store"), ("calls super()", "deep inheritance"), ("inherits from", "deep inheritance"),
        ("subclassed by", "deep inheritance"), ("class keywords", "needs the class"), ("class body statement", "needs the class"),
        ("type parameters", "needs the class"), ("several base classes", "needs the class"),
        ("uses ", "uses self beyond configuration"), ("reads ", "uses self beyond configuration"),
        ("configuration name", "name clash"), ("a default or annotation", "class-scope default"), ("class attribute", "name clash"), ("the name", "name clash"), ("both __init__", "name clash"),
        ("defined inside", "not at module level"), ("no ", "no behaviour method"), ("star-imported", "star import"),
    ]

    /// "adapted class X: mutates self.n in forward (line 3)" -> "mutates self".
    static func reasonCategory(_ message: String) -> String {
        guard let colon = message.range(of: ": ") else { return message }
        let reason = message[colon.upperBound...]
        return reasonFamilies.first { reason.hasPrefix($0.prefix) }?.family ?? String(reason.prefix { $0 != "(" && $0 != ":" })
    }

    static func decide(resolver: Resolver, scans: [FileScan], options: MigrationOptions, report: inout [ReportLine]) -> RunDecisions {
        let rules = options.rules
        var decisions = RunDecisions()
        var allUses: [ClassKey: [ClassUse]] = [:]
        var typeChecks: [(Int, Int)] = []
        var starImporters: [String: (file: Int, offset: Int)] = [:]
        for (f, scan) in scans.enumerated() {
            for star in scan.starImports where starImporters[star.module] == nil { starImporters[star.module] = (f, star.offset) }
            for (key, uses) in scan.classUses { allUses[key, default: []] += uses }
            // Checks inside the legacy machinery itself (to be deleted with it) do not count.
            let inLegacyModule = !resolver.files[f].moduleName.isEmpty && rules.isLegacyModule(resolver.files[f].moduleName)
            if !inLegacyModule { for offset in scan.operatorTypeChecks { typeChecks.append((f, offset)) } }
        }
        func position(_ file: Int, _ offset: Int) -> String {
            "\(resolver.files[file].path):\(resolver.files[file].source.lineTable.location(of: offset).line)"
        }
        for (f, scan) in scans.enumerated() {
            let file = resolver.files[f]
            for legacy in scan.legacyClasses {
                let tree: PythonSyntaxTree = file.tree
                let className = tree.nameText(legacy.key.node)
                let line = file.source.lineTable.location(of: tree[legacy.key.node].start).line
                let functionName = options.naming == .snake ? snakeCase(className) : className
                let uses = allUses[legacy.key] ?? []
                var reason: String? = nil
                var plan: ConversionPlan? = nil
                if !legacy.isTopLevel {
                    reason = "defined inside a function or class"
                } else if case .runClass(let bf, let bn) = legacy.base {
                    let baseName = resolver.files[bf].tree.nameText(bn)
                    reason = "inherits from legacy operator \(baseName) (\(position(bf, resolver.files[bf].tree[bn].start)))"
                } else if let (tf, to) = typeChecks.first {
                    reason = "isinstance check on Operator at \(position(tf, to))"
                }
                if reason == nil {
                    for use in uses {
                        let at = position(use.file, use.offset)
                        switch use.kind {
                        case .subclassed(let by):
                            let sub: PythonSyntaxTree = resolver.files[use.file].tree
                            reason = "subclassed by \(sub.nameText(by)) at \(at)"
                        case .isinstanceCheck: reason = "checked with isinstance at \(at)"
                        case .dynamicAttribute: reason = "used with getattr/setattr at \(at)"
                        case .attributeAccess: reason = "class attribute read at \(at)"
                        case .value: reason = "used as a value at \(at)"
                        case .constructWithStarArgs: reason = "constructed with *args at \(at)"
                        case .construct, .importAlias: continue
                        }
                        break
                    }
                }
                if reason == nil {
                    switch ClassAnalyzer(file: file, rules: rules).plan(classNode: legacy.key.node, key: legacy.key, functionName: functionName) {
                    case .failure(let r): reason = r.reason
                    case .success(let p): plan = p
                    }
                }
                if reason == nil, let p = plan, p.functionName != className, let star = starImporters[file.moduleName] {
                    reason = "star-imported at \(position(star.file, star.offset)), where the renamed function would not follow"
                }
                if reason == nil, let p = plan {
                    reason = nameConflict(p, legacy: legacy, uses: uses, resolver: resolver, rules: rules, position: position)
                }
                if let reason {
                    var variable = snakeCase(className)
                    if variable == className { variable += "_module" }
                    while file.bindings[variable] != nil && variable != className { variable += "_module" }
                    decisions.adapted[legacy.key] = AdaptedClass(variableName: variable, reason: reason)
                    report.append(ReportLine(path: file.path, line: line, kind: .adapted,
                                             message: "adapted class \(className): \(reason)"))
                } else if let plan {
                    decisions.plans[legacy.key] = plan
                    report.append(ReportLine(path: file.path, line: line, kind: .converted,
                                             message: "converted class \(className) to module function \(plan.functionName)"
                                                + (plan.droppedSpecifications.isEmpty ? "" : "; note: its \(plan.droppedSpecifications.joined(separator: ", ")) no longer validates or converts the inputs of calls")))
                    if plan.functionName != className && !className.hasPrefix("_") {
                        report.append(ReportLine(path: file.path, line: line, kind: .renamed,
                                                 message: "renamed \(file.moduleName.isEmpty ? "" : file.moduleName + ".")\(className) to \(plan.functionName); code outside this run that uses \(className) must follow"))
                    }
                }
            }
        }
        return decisions
    }

    static func nameConflict(_ plan: ConversionPlan, legacy: LegacyClass, uses: [ClassUse], resolver: Resolver, rules: MigrationRules,
                             position: (Int, Int) -> String) -> String? {
        let file = resolver.files[legacy.key.file]
        let renamed = plan.functionName != plan.className
        if renamed, file.bindings[plan.functionName] != nil {
            return "the name '\(plan.functionName)' is already used in this file"
        }
        let decorator = rules.moduleDecorator
        switch file.bindings[decorator.importedName] {
        case nil: break
        case .importFrom(let m, let n, _)? where m == decorator.module && n == decorator.importedName: break
        default: return "the name '\(decorator.importedName)' is taken in this file"
        }
        for use in uses {
            let user = resolver.files[use.file]
            let at = position(use.file, use.offset)
            if renamed && use.file != legacy.key.file, let b = user.bindings[plan.functionName] {
                if case .importFrom = b {} else { return "the name '\(plan.functionName)' is already used at \(at)" }
            }
            if case .construct(let call) = use.kind {
                if use.enclosingLocals.contains(plan.functionName) && renamed { return "the name '\(plan.functionName)' is a local name at \(at)" }
                let tree: PythonSyntaxTree = user.tree
                let positional = tree.children(of: call, role: .arg).count
                if positional > plan.positionalInitParameters.count {
                    return "constructed with \(positional) positional arguments at \(at)"
                }
                let hasArguments = !tree.children(of: call, role: .arg).isEmpty || !tree.children(of: call, role: .keyword).isEmpty
                if hasArguments {
                    if use.enclosingLocals.contains("functools") { return "the name 'functools' is a local name at \(at)" }
                    switch user.bindings["functools"] {
                    case nil, .importModule("functools")?: break
                    default: return "the name 'functools' is taken at \(at)"
                    }
                }
            }
        }
        return nil
    }

    static func rewrite(resolver: Resolver, fileIndex: Int, scan: FileScan, decisions: RunDecisions, original: InputFile) -> (FileOutcome, [ReportLine]) {
        let file = resolver.files[fileIndex]
        let rules = resolver.rules
        let bytes = file.source.original
        let unchanged = FileOutcome(path: file.path, status: .unchanged, original: bytes)
        let hasLegacyImports = file.importedModules.contains { rules.isLegacyModule($0) }
        guard file.hasTree, scan.touchesLegacy || hasLegacyImports else { return (unchanged, []) }
        var rewriter = FileRewriter(resolver: resolver, fileIndex: fileIndex, scan: scan, decisions: decisions)
        rewriter.build()
        var lines = rewriter.notes
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
                let tree = PythonParser.parse(source)
                if let d = tree.diagnostics.first {
                    return abandon("the rewritten file would not parse (\(describe(d, source)))")
                }
                stage = IndexedFile(path: file.path, moduleName: file.moduleName, isPackageInit: file.isPackageInit, source: source, tree: tree)
            }
            var importRewriter = ImportRewriter(file: stage, rules: rules)
            for name in file.bindings.keys {
                switch resolver.resolve(name: name, inFile: fileIndex) {
                case .legacy?: importRewriter.legacyBoundNames.insert(name)
                case .module(let m)? where rules.isLegacyModule(m): importRewriter.legacyBoundNames.insert(name)
                default: break
                }
            }
            let importEdits = importRewriter.edits(needed: rewriter.neededTargets, needsFunctools: rewriter.needsFunctools)
            let finalText = try render(stage.source.text, edits: importEdits)
            let encoded = try file.source.encode(text: finalText)
            if encoded == bytes { return (unchanged, lines) }
            let check = try PythonSource(bytes: encoded)
            let tree = PythonParser.parse(check)
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

    static func describe(_ d: PythonDiagnostic, _ source: PythonSource) -> String {
        let (line, column) = source.lineTable.location(of: min(d.offset, source.text.count))
        return "line \(line), column \(column + 1): \(d.message)"
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
