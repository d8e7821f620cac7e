#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SourceLanguage: String, Codable, Sendable {
    case python, swift
}

/// A source file of the project: where it is, and which module it is.
public struct ProjectFile: Sendable, Hashable {
    /// The path as shown in reports (as reached from the given path).
    public var path: String
    public var language: SourceLanguage
    /// Size, modification time and inode when known (saves a second stat).
    public var stamp: FileStamp? = nil
    /// Python: the dotted module below its source root (a package's `__init__.py` names
    /// the package); Swift: its target (the folder under `Sources/` or `Tests/`).
    public var module: String = ""
    /// A package's `__init__.py`.
    public var isPackage = false
    /// The configuration that governs it (index into `ProjectDiscovery.configurations`),
    /// -1 when none is at or above it.
    public var configuration: Int32 = -1
    /// A Swift file inside a Swift package (a `Package.swift` at or above it).
    public var inSwiftPackage = false

    public init(path: String, language: SourceLanguage) {
        self.path = path
        self.language = language
    }
}

/// A path that could not be walked or is not the source file it claims to be.
public struct DiscoveryProblem: Error, Sendable, Hashable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// What a configuration file says about discovery and naming.
public struct ProjectConfiguration: Sendable {
    /// The folder of the configuration file (absolute): `source-roots` and path patterns
    /// of `exclude` are read below it.
    public var folder: String
    /// The file, for messages.
    public var file: String
    /// `source-roots` as written (relative to `folder`); nil: detected.
    public var sourceRoots: [String]?
    /// nil: the default exclude list.
    public var exclude: [String]?
    public var extendExclude: [String] = []
    public var respectGitignore = true

    public init(folder: String, file: String) {
        self.folder = folder
        self.file = file
    }

    /// `source-roots`, absolute.
    public var absoluteSourceRoots: [String]? {
        sourceRoots.map { $0.map { ProjectPath.absolute($0.hasPrefix("/") ? $0 : ProjectPath.join(folder, $0)) } }
    }
}

/// Files of a folder that matter to the project model, found in its listing.
public struct FolderMarkers: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let pyproject = FolderMarkers(rawValue: 1)
    public static let setupPy = FolderMarkers(rawValue: 2)
    public static let setupCfg = FolderMarkers(rawValue: 4)
    public static let emberLintToml = FolderMarkers(rawValue: 8)
    public static let emberMigrateToml = FolderMarkers(rawValue: 16)
    public static let gitignore = FolderMarkers(rawValue: 32)
    public static let packageSwift = FolderMarkers(rawValue: 64)
    public static let git = FolderMarkers(rawValue: 128)
    /// A Python project's root: one of these files is in it.
    public static let projectRoot: FolderMarkers = [.pyproject, .setupPy, .setupCfg, .emberLintToml, .emberMigrateToml]

    static let names: [(String, FolderMarkers)] = [
        ("pyproject.toml", .pyproject), ("setup.py", .setupPy), ("setup.cfg", .setupCfg), ("ember-lint.toml", .emberLintToml),
        ("ember-migrate.toml", .emberMigrateToml), (".gitignore", .gitignore), ("Package.swift", .packageSwift), (".git", .git),
    ]

    /// The marker a name is, on its bytes (no string made).
    @inline(__always) static func of(_ p: UnsafePointer<UInt8>, _ count: Int) -> FolderMarkers {
        switch count {
        case 4 where memcmp(p, ".git", 4) == 0: return .git
        case 8 where memcmp(p, "setup.py", 8) == 0: return .setupPy
        case 9 where memcmp(p, "setup.cfg", 9) == 0: return .setupCfg
        case 10 where memcmp(p, ".gitignore", 10) == 0: return .gitignore
        case 13 where memcmp(p, "Package.swift", 13) == 0: return .packageSwift
        case 14 where memcmp(p, "pyproject.toml", 14) == 0: return .pyproject
        case 15 where memcmp(p, "ember-lint.toml", 15) == 0: return .emberLintToml
        case 18 where memcmp(p, "ember-migrate.toml", 18) == 0: return .emberMigrateToml
        default: return []
        }
    }

    /// The markers of a folder, by asking for each file (for folders above the given paths).
    public static func probe(_ folder: String) -> FolderMarkers {
        var out: FolderMarkers = []
        for (name, marker) in names where access(ProjectPath.join(folder, name), F_OK) == 0 { out.insert(marker) }
        return out
    }
}

#if os(Linux)
/// glibc's getdents64 (2.30+): a folder's entries in one system call, without the DIR
/// buffer and fcntl calls of opendir/readdir.
@_silgen_name("getdents64") private func getdents64(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
#endif

public struct DiscoveryOptions: Sendable {
    /// Which source files to collect.
    public var languages: Set<SourceLanguage> = [.python, .swift]
    /// One configuration for every file (`--rules FILE`, `--config FILE`): the loader is
    /// never asked.
    public var fixedConfiguration: ProjectConfiguration?
    /// Other regular files to report by name (ember-migrate's leftover temporary files).
    public var notice: (@Sendable (String) -> Bool)?
    /// Names that may be noticed start with this byte (so that the rest pass unmade).
    public var noticeFirstByte: UInt8 = UInt8(ascii: ".")

    public init() {}
}

/// A tool's configuration loader: given a folder and the marker files in its listing,
/// the configuration found there (its file read and validated by the tool), or nil. Asked
/// once per folder that has a marker, in walk order, on the walking thread.
public typealias ConfigurationLoader = (_ folder: String, _ markers: FolderMarkers) -> ProjectConfiguration?

/// The project model's file discovery: walks the given paths for source files, names each
/// file's module as it is found, and applies the configuration nearest to each file.
///
/// - Discovery: folders are read with one `getdents64` each, entries opened relative to the
///   folder's descriptor; `exclude`/`extend-exclude` as ruff reads them (defaults:
///   `ExcludePatterns.defaults`), `.gitignore` files (with the repository's
///   `.git/info/exclude`) unless `respect-gitignore = false`; VCS folders (`.git`, `.hg`,
///   `.svn`, `.bzr`) and `__pycache__` are never walked. Paths given explicitly are taken
///   even when a pattern would exclude them (as ruff without `--force-exclude`).
/// - Symlinks: followed, to files and folders; a symlinked folder that leads back to a
///   folder being walked is a symlink loop (reported, skipped); a dangling one is
///   reported when its name is a source file's.
/// - Naming: see `ModuleNaming`.
public final class ProjectDiscovery: @unchecked Sendable {
    public let paths: [String]
    public let options: DiscoveryOptions
    public let cwd: String
    /// Configurations in the order found: those above the given paths first (the first
    /// path's nearest at index `firstConfiguration`), then those found by the walk.
    public private(set) var configurations: [ProjectConfiguration] = []
    /// The configuration at or above the first path, -1 when none.
    public private(set) var firstConfiguration: Int = -1
    /// Given paths that do not exist.
    public private(set) var missingPaths: [String] = []
    /// Swift package roots seen (folders holding `Package.swift`) at or above the paths.
    public private(set) var swiftPackageRoots: [String] = []
    private let loader: ConfigurationLoader?
    private var excluders: [ExcludePatterns] = []
    /// Per given path: the context its walk starts in, and its absolute form.
    private var starts: [(absolute: String, context: Context, isDirectory: Bool)] = []
    let fallbackRoots: [[UInt8]]

    struct Context {
        var configuration: Int = -1
        var excluder: Int = -1
        var projectRoot: String?
        /// Naming roots, absolute with a final `/`, longest first.
        var roots: [[UInt8]] = []
        var ignores = GitIgnoreStack()
        var respectGitignore = true
        var inSwiftPackage = false
    }

    public init(paths: [String], options: DiscoveryOptions = DiscoveryOptions(), loader: ConfigurationLoader?) {
        self.paths = paths
        self.options = options
        self.loader = loader
        cwd = ProjectPath.currentDirectory()
        fallbackRoots = ModuleNaming.fallbackRoots(paths: paths, cwd: cwd)
        if let fixed = options.fixedConfiguration { _ = addConfiguration(fixed) }
        for (k, path) in paths.enumerated() {
            let absolute = ProjectPath.absolute(path, cwd: cwd)
            var st = stat()
            guard stat(path, &st) == 0 || lstat(path, &st) == 0 else {
                missingPaths.append(path)
                starts.append((absolute, Context(), false))
                continue
            }
            let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            starts.append((absolute, prepareContext(above: absolute, isDirectory: isDirectory), isDirectory))
            if k == 0 { firstConfiguration = starts[0].context.configuration }
        }
    }

    /// The context a given path starts in: the configuration, project root, Swift package
    /// and `.gitignore` files of the folders above it (the path's own folder is read by the
    /// walk when it is a folder).
    private func prepareContext(above absolute: String, isDirectory: Bool) -> Context {
        var context = Context()
        var ancestors: [(String, FolderMarkers)] = []
        // A folder's own configuration is read now too (the walk finds it again by folder).
        var folder = isDirectory ? absolute : ProjectPath.parent(absolute)
        var repositoryRoot: String?
        while !folder.isEmpty {
            let markers = FolderMarkers.probe(folder)
            ancestors.append((folder, markers))
            if markers.contains(.git) { repositoryRoot = folder; break }
            if folder == "/" { break }
            folder = ProjectPath.parent(folder)
        }
        // Nearest first for the project root and the configuration.
        for (folder, markers) in ancestors {
            if context.projectRoot == nil && !markers.intersection(.projectRoot).isEmpty { context.projectRoot = folder }
            if markers.contains(.packageSwift) { context.inSwiftPackage = true; if !swiftPackageRoots.contains(folder) { swiftPackageRoots.append(folder) } }
            if context.configuration < 0 && options.fixedConfiguration == nil && !markers.intersection(.projectRoot).isEmpty {
                if let known = configurationByFolder[folder] { context.configuration = known }
                else if let loader, let config = loader(folder, markers) {
                    context.configuration = addConfiguration(config)
                    configurationByFolder[folder] = context.configuration
                }
            }
        }
        if options.fixedConfiguration != nil { context.configuration = 0 }
        if context.configuration >= 0 {
            context.excluder = configurationExcluder[context.configuration]
            context.respectGitignore = configurations[context.configuration].respectGitignore
        } else {
            // No configuration: the default patterns, path patterns below the given folder.
            excluders.append(ExcludePatterns(base: ProjectPath.isDirectory(absolute) ? absolute : ProjectPath.parent(absolute), exclude: nil))
            context.excluder = excluders.count - 1
        }
        // .gitignore files from the repository root down (only inside a repository).
        if let repositoryRoot, context.respectGitignore {
            if !(isDirectory && repositoryRoot == absolute), let text = SourceFileReader.contents(repositoryRoot + "/.git/info/exclude") {
                context.ignores.files.append(GitIgnoreFile(base: repositoryRoot, text: text))
            }
            for (folder, markers) in ancestors.reversed() where markers.contains(.gitignore) && !(isDirectory && folder == absolute) {
                if let text = SourceFileReader.contents(ProjectPath.join(folder, ".gitignore")) {
                    context.ignores.files.append(GitIgnoreFile(base: folder, text: text))
                }
            }
        }
        context.roots = roots(for: context)
        return context
    }

    private func addConfiguration(_ config: ProjectConfiguration) -> Int {
        configurations.append(config)
        excluders.append(ExcludePatterns(base: config.folder, exclude: config.exclude, extend: config.extendExclude))
        configurationExcluder.append(excluders.count - 1)
        return configurations.count - 1
    }

    /// Each configuration's exclude patterns (index into `excluders`).
    private var configurationExcluder: [Int] = []

    fileprivate func excluder(_ index: Int) -> ExcludePatterns { excluders[index] }

    /// Naming roots for a context: the configuration's `source-roots`, else detected in the
    /// project root, else the roots detected from the given paths.
    private func roots(for context: Context) -> [[UInt8]] {
        if context.configuration >= 0, let configured = configurations[context.configuration].absoluteSourceRoots {
            return ModuleNaming.rootBytes(configured)
        }
        if let root = context.projectRoot { return ModuleNaming.rootBytes(ModuleNaming.detectedRoots(projectRoot: root)) }
        return fallbackRoots
    }

    /// Files and problems in no particular order (callers sort). `found` receives each
    /// folder's source files, named, as soon as the folder is read (on the calling thread),
    /// so that work on them can start while the walk goes on. Call once.
    public func walk(found: ([ProjectFile]) -> Void = { _ in }) -> (files: [ProjectFile], problems: [DiscoveryProblem], noticed: [String]) {
        withoutActuallyEscaping(found) { found in
            var walker = Walker(discovery: self, found: found)
            defer { walker.buffer.deallocate() }
            for (k, path) in paths.enumerated() {
                if missingPaths.contains(path) {
                    walker.problems.append(DiscoveryProblem(path: path, reason: "no such file or directory"))
                    continue
                }
                let (absolute, context, isDirectory) = starts[k]
                if isDirectory {
                    if let lang = ProjectDiscovery.language(of: path) {
                        walker.problems.append(DiscoveryProblem(path: path, reason: "is a directory, not a \(lang == .python ? "Python" : "Swift") file"))
                        continue
                    }
                    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    if fd < 0 {
                        walker.problems.append(DiscoveryProblem(path: path, reason: "cannot open folder: \(String(cString: strerror(errno)))"))
                        continue
                    }
                    var st = stat()
                    fstat(fd, &st)
                    var ancestors = [Ancestor(path: path, identity: FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))]
                    walker.walkFolder(path, absolute: absolute, fd: fd, context: context, ancestors: &ancestors)
                } else if let lang = ProjectDiscovery.language(of: path), options.languages.contains(lang) {
                    var st = stat()
                    if stat(path, &st) != 0 {
                        walker.problems.append(DiscoveryProblem(path: path, reason: errno == ELOOP ? "symlink loop" : String(cString: strerror(errno))))
                    } else if (st.st_mode & S_IFMT) == S_IFREG {
                        walker.emit([name(ProjectFile(path: path, language: lang), absolute: absolute, context: context)])
                    } else {
                        walker.problems.append(DiscoveryProblem(path: path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                    }
                } else {
                    let kinds = options.languages.count == 2 ? ".py or .swift" : (options.languages.contains(.python) ? ".py" : ".swift")
                    walker.problems.append(DiscoveryProblem(path: path, reason: "not a \(kinds) file"))
                }
            }
            return (walker.files, walker.problems, walker.noticed)
        }
    }

    @inline(__always) func name(_ file: ProjectFile, absolute: String, context: Context) -> ProjectFile {
        var f = file
        f.configuration = Int32(context.configuration)
        switch f.language {
        case .python:
            (f.module, f.isPackage) = ModuleNaming.pythonModule(absolute, roots: context.roots)
        case .swift:
            f.module = ModuleNaming.swiftModule(absolute)
            f.inSwiftPackage = context.inSwiftPackage
        }
        return f
    }

    static func language(of name: String) -> SourceLanguage? {
        if name.hasSuffix(".py") { return .python }
        if name.hasSuffix(".swift") { return .swift }
        return nil
    }

    /// Whether the C string of `length` bytes ends in `.py` or `.swift`.
    @inline(__always) static func hasSourceSuffix(_ p: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        if length >= 3 && p[length - 3] == 0x2E && p[length - 2] == 0x70 && p[length - 1] == 0x79 { return true }
        guard length >= 6, p[length - 6] == 0x2E else { return false }
        return p[length - 5] == 0x73 && p[length - 4] == 0x77 && p[length - 3] == 0x69 && p[length - 2] == 0x66 && p[length - 1] == 0x74
    }

    /// Folders never walked: version control and Python's bytecode cache.
    static let neverWalked: Set<String> = [".git", ".hg", ".svn", ".bzr", "__pycache__"]

    /// Deeper folders are reported and skipped (a bind mount can loop without symlinks).
    public static let maximumDepth = 256

    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// A folder on the way down from a given path; its identity is looked up only when a
    /// symlinked folder below needs comparing.
    struct Ancestor {
        var path: String
        var identity: FileIdentity?
    }

    private struct Walker {
        let discovery: ProjectDiscovery
        let found: ([ProjectFile]) -> Void
        var files: [ProjectFile] = []
        var problems: [DiscoveryProblem] = []
        var noticed: [String] = []
        /// getdents64's buffer, reused for every folder.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 * 1024, alignment: 8)
        let wantsPython: Bool
        let wantsSwift: Bool

        init(discovery: ProjectDiscovery, found: @escaping ([ProjectFile]) -> Void) {
            self.discovery = discovery
            self.found = found
            wantsPython = discovery.options.languages.contains(.python)
            wantsSwift = discovery.options.languages.contains(.swift)
        }

        mutating func emit(_ batch: [ProjectFile]) {
            guard !batch.isEmpty else { return }
            files.append(contentsOf: batch)
            found(batch)
        }

        /// The folder's entries as (name, type), and the markers among its files; nil when
        /// it cannot be read.
        mutating func entries(of fd: Int32, folder: String) -> ([(String, UInt8)], FolderMarkers)? {
            var out: [(String, UInt8)] = []
            var markers: FolderMarkers = []
            let notice = discovery.options.notice
            let noticeByte = discovery.options.noticeFirstByte
#if os(Linux)
            while true {
                let n = getdents64(fd, buffer.baseAddress!, buffer.count)
                if n < 0 { if errno == EINTR { continue }; return nil }
                if n == 0 { return (out, markers) }
                var k = 0
                while k < n {
                    let record = buffer.baseAddress! + k
                    let length = Int(record.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                    let type = record.load(fromByteOffset: 18, as: UInt8.self)
                    let name = (record + 19).assumingMemoryBound(to: UInt8.self)
                    k += length
                    let count = strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))
                    if name[0] == 0x2E && (count == 1 || (count == 2 && name[1] == 0x2E)) { continue }  // . and ..
                    // Regular files that are not sources (most of a tree's other files) are
                    // passed over on their bytes, without making a string.
                    if type == UInt8(DT_REG) && !ProjectDiscovery.hasSourceSuffix(name, count) {
                        let marker = FolderMarkers.of(name, count)
                        if !marker.isEmpty { markers.insert(marker); continue }
                        if let notice, name[0] == noticeByte {
                            let text = String(decoding: UnsafeBufferPointer(start: name, count: count), as: UTF8.self)
                            if notice(text) { noticed.append(ProjectPath.join(folder, text)) }
                        }
                        continue
                    }
                    if type == UInt8(DT_DIR) && count == 4 && memcmp(name, ".git", 4) == 0 { markers.insert(.git) }
                    if count == 8 && memcmp(name, "setup.py", 8) == 0 { markers.insert(.setupPy) }
                    if type != UInt8(DT_REG) && type != UInt8(DT_DIR) {
                        // A symlink (or an unknown type) may be a marker too.
                        let marker = FolderMarkers.of(name, count)
                        if !marker.isEmpty { markers.insert(marker) }
                    }
                    out.append((String(decoding: UnsafeBufferPointer(start: name, count: count), as: UTF8.self), type))
                }
            }
#else
            guard let handle = fdopendir(dup(fd)) else { return nil }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                    ptr.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                if let (_, m) = FolderMarkers.names.first(where: { $0.0 == name }) { markers.insert(m); if m != .git { continue } }
                if let notice, notice(name) { noticed.append(ProjectPath.join(folder, name)); continue }
                out.append((name, entry.pointee.d_type))
            }
            return (out, markers)
#endif
        }

        /// Reads one open folder (takes ownership of `fd`) and the folders below it, depth
        /// first. Entries are looked up relative to the folder's descriptor, which spares
        /// the kernel a full path lookup per entry.
        mutating func walkFolder(_ dir: String, absolute: String, fd: Int32, context start: ProjectDiscovery.Context, ancestors: inout [Ancestor]) {
            defer { close(fd) }
            guard ancestors.count <= ProjectDiscovery.maximumDepth else {
                problems.append(DiscoveryProblem(path: dir, reason: "folders nested deeper than \(ProjectDiscovery.maximumDepth) levels (a loop?); skipped"))
                return
            }
            guard let (entries, markers) = entries(of: fd, folder: dir) else {
                problems.append(DiscoveryProblem(path: dir, reason: "cannot open folder: \(String(cString: strerror(errno)))"))
                return
            }
            var context = start
            if !markers.isEmpty { discovery.enter(absolute, fd: fd, markers: markers, context: &context) }
            let excluder = discovery.excluder(context.excluder)
            let ignores = context.respectGitignore ? context.ignores : GitIgnoreStack()
            var batch: [ProjectFile] = []
            var subfolders: [String] = []
            for (name, type) in entries {
                let path = ProjectPath.join(dir, name)
                var kind = type
                let lang = ProjectDiscovery.language(of: name)
                if kind == UInt8(DT_DIR) && ProjectDiscovery.neverWalked.contains(name) { continue }
                if kind == UInt8(DT_LNK) || kind == UInt8(DT_UNKNOWN) {
                    var target = stat()
                    if fstatat(fd, name, &target, 0) != 0 {
                        let wanted = lang.map { discovery.options.languages.contains($0) } ?? false
                        if errno == ELOOP { problems.append(DiscoveryProblem(path: path, reason: "symlink loop")) }
                        else if errno == ENOENT, wanted { problems.append(DiscoveryProblem(path: path, reason: "dangling symlink: its target does not exist")) }
                        else if wanted { problems.append(DiscoveryProblem(path: path, reason: "cannot read: \(String(cString: strerror(errno)))")) }
                        continue
                    }
                    let mode = target.st_mode & S_IFMT
                    kind = mode == S_IFDIR ? UInt8(DT_DIR) : (mode == S_IFREG ? UInt8(DT_REG) : UInt8(DT_FIFO))
                    if kind == UInt8(DT_DIR) && ProjectDiscovery.neverWalked.contains(name) { continue }
                    if kind == UInt8(DT_DIR) && type == UInt8(DT_LNK) {
                        // A symlink back to a folder already being walked would recurse forever.
                        let identity = FileIdentity(device: UInt64(target.st_dev), inode: UInt64(target.st_ino))
                        if isAncestor(identity, &ancestors) {
                            problems.append(DiscoveryProblem(path: path, reason: "symlink loop (this folder is already being walked)"))
                            continue
                        }
                    }
                }
                if kind == UInt8(DT_DIR) {
                    if excluded(name, absolute: absolute, isDirectory: true, excluder: excluder, ignores: ignores, fd: fd) { continue }
                    if let lang, discovery.options.languages.contains(lang) {
                        problems.append(DiscoveryProblem(path: path, reason: "is a directory, not a \(lang == .python ? "Python" : "Swift") file; skipped"))
                        continue
                    }
                    subfolders.append(name)
                } else if let lang, lang == .python ? wantsPython : wantsSwift {
                    if excluded(name, absolute: absolute, isDirectory: false, excluder: excluder, ignores: ignores, fd: fd) { continue }
                    // Reading a FIFO would block forever; sockets and devices are not sources.
                    guard kind == UInt8(DT_REG) else {
                        problems.append(DiscoveryProblem(path: path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                        continue
                    }
                    batch.append(discovery.name(ProjectFile(path: path, language: lang), absolute: ProjectPath.join(absolute, name), context: context))
                }
            }
            emit(batch)
            for name in subfolders {
                let path = ProjectPath.join(dir, name)
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if child < 0 {
                    problems.append(DiscoveryProblem(path: path, reason: errno == ELOOP ? "symlink loop" : "cannot open folder: \(String(cString: strerror(errno)))"))
                    continue
                }
                ancestors.append(Ancestor(path: path, identity: nil))
                walkFolder(path, absolute: ProjectPath.join(absolute, name), fd: child, context: context, ancestors: &ancestors)
                ancestors.removeLast()
            }
        }

        @inline(__always) func excluded(_ name: String, absolute folder: String, isDirectory: Bool, excluder: ExcludePatterns,
                                        ignores: GitIgnoreStack, fd: Int32) -> Bool {
            if excluder.excludes(name: name, absolute: ProjectPath.join(folder, name), isDirectory: isDirectory,
                                 isPackage: { faccessat(fd, name + "/__init__.py", F_OK, 0) == 0 }) { return true }
            return ignores.ignores(folder: folder, name: name, isDirectory: isDirectory)
        }

        /// Whether a folder with `identity` is one of `ancestors` (their identities are
        /// looked up now, once, when a symlinked folder first needs them).
        func isAncestor(_ identity: FileIdentity, _ ancestors: inout [Ancestor]) -> Bool {
            for i in ancestors.indices {
                if ancestors[i].identity == nil {
                    var st = stat()
                    if stat(ancestors[i].path, &st) == 0 {
                        ancestors[i].identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                    }
                }
                if ancestors[i].identity == identity { return true }
            }
            return false
        }
    }

    /// A walked folder with marker files: a project root, a configuration, a Swift
    /// package, a `.gitignore`.
    private var configurationByFolder: [String: Int] = [:]

    fileprivate func enter(_ folder: String, fd: Int32, markers: FolderMarkers, context: inout Context) {
        var rootsChanged = false
        if !markers.intersection(.projectRoot).isEmpty {
            context.projectRoot = folder
            rootsChanged = true
            if options.fixedConfiguration == nil, let loader {
                let index: Int?
                if let known = configurationByFolder[folder] { index = known }
                else if let config = loader(folder, markers) { index = addConfiguration(config); configurationByFolder[folder] = index }
                else { index = nil }
                if let index {
                    context.configuration = index
                    context.excluder = configurationExcluder[index]
                    context.respectGitignore = configurations[index].respectGitignore
                }
            }
        }
        if markers.contains(.packageSwift) {
            context.inSwiftPackage = true
            if !swiftPackageRoots.contains(folder) { swiftPackageRoots.append(folder) }
        }
        if markers.contains(.gitignore) && context.respectGitignore {
            if let text = readRelative(fd, ".gitignore") {
                let file = GitIgnoreFile(base: folder, text: text)
                if !file.isEmpty { context.ignores.files.append(file) }
            }
        }
        if markers.contains(.git) && context.respectGitignore, let text = SourceFileReader.contents(folder + "/.git/info/exclude") {
            let file = GitIgnoreFile(base: folder, text: text)
            if !file.isEmpty { context.ignores.files.insert(file, at: 0) }
        }
        if rootsChanged { context.roots = roots(for: context) }
    }

    private func readRelative(_ fd: Int32, _ name: String) -> [UInt8]? {
        let file = openat(fd, name, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}
