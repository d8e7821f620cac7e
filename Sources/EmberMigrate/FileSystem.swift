import EmberProject
import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of a run, as the project model (`EmberProject`) finds and names them.
public struct MigrationDiscovery: Sendable {
    /// The `.py` files, in the order of the given paths, each path's files by path.
    public var inputs: [InputFile] = []
    /// Temporary files of interrupted `--write` runs.
    public var leftovers: [String] = []
    /// Folders and files the walk could not use (symlink loops, unreadable folders, ...).
    public var problems: [DiscoveryProblem] = []
    /// Configuration files that could not be read or are invalid.
    public var configurationErrors: [MigrationConfigError] = []
    /// The configuration at or above the first path (nil: none).
    public var firstConfiguration: MigrationConfig?
}

/// Finding, reading and atomically writing the files of a run.
public enum MigrationFiles {
    /// `.NAME.ember-migrate-XXXXXX`: the temporary file of a `--write` that was interrupted
    /// before its rename.
    public static func isLeftoverTemporary(_ name: String) -> Bool {
        let marker = ".ember-migrate-"
        guard name.hasPrefix("."), let range = name.byteRange(of: marker, last: true) else { return false }
        let suffix = name[range.upperBound...]
        return suffix.count == 6 && suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && name.distance(from: name.startIndex, to: range.lowerBound) > 1
    }

    final class ConfigurationBox: @unchecked Sendable {
        var configurations: [MigrationConfig] = []
        var errors: [MigrationConfigError] = []
    }

    /// Walks `paths` with the project model: `.py` files (excludes, `.gitignore`, symlink
    /// policy and module names as ember-lint has them), each governed by the nearest
    /// `ember-migrate.toml` or `[tool.ember-migrate]` (`fixed`: one configuration for all;
    /// `isolated`: none). Throws for a path that does not exist.
    public static func discover(_ paths: [String], isolated: Bool = false, fixed: MigrationConfig? = nil) throws(InputError) -> MigrationDiscovery {
        var options = DiscoveryOptions()
        options.languages = [.python]
        options.notice = { isLeftoverTemporary($0) }
        let box = ConfigurationBox()
        if let fixed { options.fixedConfiguration = fixed.projectConfiguration }
        let loader: ConfigurationLoader? = isolated || fixed != nil ? nil : { folder, markers in
            for (name, marker) in [("ember-migrate.toml", FolderMarkers.emberMigrateToml), ("pyproject.toml", .pyproject)] where markers.contains(marker) {
                do {
                    if let config = try MigrationConfig.load(ProjectPath.join(folder, name), requireTable: marker == .emberMigrateToml) {
                        box.configurations.append(config)
                        return config.projectConfiguration
                    }
                } catch let error as MigrationConfigError {
                    box.errors.append(error)
                    return nil
                } catch {
                    return nil
                }
            }
            return nil
        }
        let discovery = ProjectDiscovery(paths: paths, options: options, loader: loader)
        if let missing = discovery.missingPaths.first { throw InputError("\(missing): no such file or directory") }
        let (files, problems, noticed) = discovery.walk()
        var out = MigrationDiscovery()
        out.problems = problems.sorted { $0.path < $1.path }
        out.leftovers = noticed.sorted()
        out.configurationErrors = box.errors
        if let fixed { out.firstConfiguration = fixed }
        else if discovery.firstConfiguration >= 0 { out.firstConfiguration = box.configurations[discovery.firstConfiguration] }
        // Each given path's files together, in path order (a file reached twice once).
        let groupOf: (ProjectFile) -> Int = { file in
            paths.firstIndex { file.path == $0 || file.path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") || $0 == "." } ?? paths.count
        }
        let ordered = files.map { (groupOf($0), $0) }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.path < $1.1.path }
        var seen: Set<String> = []
        let anchors = paths.map { ProjectPath.absolute($0, cwd: discovery.cwd) } + [discovery.cwd]
        for (_, file) in ordered where seen.insert(file.path).inserted {
            out.inputs.append(input(file, anchors: anchors, cwd: discovery.cwd))
        }
        return out
    }

    /// A discovered file as the run takes it: its module name (empty when a component is
    /// not an identifier) and the folder names above its root that imports may put before
    /// it (`src` for `src.ember.core`).
    static func input(_ file: ProjectFile, anchors: [String], cwd: String) -> InputFile {
        let valid = !file.module.isEmpty && file.module.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isIdentifier($0) }
        var input = InputFile(path: file.path, moduleName: valid ? file.module : "", isPackageInit: file.isPackage, diskPath: file.path)
        if valid, let root = ModuleNaming.root(ofAbsolutePath: ProjectPath.absolute(file.path, cwd: cwd), module: file.module, isPackage: file.isPackage) {
            input.aliasPrefixes = ModuleNaming.aliasPrefixes(root: root, anchors: anchors)
        }
        return input
    }

    /// The given files (or folders), read by the run itself, named by the project model.
    public static func load(_ paths: [String]) -> [InputFile] {
        (try? discover(paths, isolated: true).inputs) ?? []
    }

    /// The project's other `.py` files: those under the project root (the nearest folder
    /// above the first path holding pyproject.toml, setup.py, setup.cfg or .git) that the run
    /// does not cover. nil when there is no such root.
    public static func projectFilesOutside(run: [String], paths: [String]) -> [InputFile]? {
        guard let first = paths.first else { return nil }
        var folder = ProjectPath.absolute(first)
        if !ProjectPath.isDirectory(folder) { folder = ProjectPath.parent(folder) }
        var root: String?
        while !folder.isEmpty {
            if !FolderMarkers.probe(folder).intersection([.pyproject, .setupPy, .setupCfg, .git]).isEmpty { root = folder; break }
            if folder == "/" { break }
            folder = ProjectPath.parent(folder)
        }
        guard let root, let all = try? discover([root]).inputs else { return nil }
        let cwd = ProjectPath.currentDirectory()
        let covered = Set(run.map { ProjectPath.absolute($0, cwd: cwd) })
        return all.filter { !covered.contains(ProjectPath.absolute($0.path, cwd: cwd)) }
    }

    /// A file's bytes, read by the project model's reader.
    public static func read(_ path: String) -> Result<[UInt8], InputError> {
        switch SourceFileReader.read(withStamp: path) {
        case .success(let read): return .success(read.bytes)
        case .failure(let problem): return .failure(InputError(problem.reason + (problem.reason.hasPrefix("cannot read") ? "; check its permissions" : "")))
        }
    }

    /// Replaces `path` with `bytes` atomically: a temporary file in the same folder, written,
    /// given the original's permissions, fsynced, then renamed over the original (and the
    /// folder fsynced), so an interrupted run leaves the old or the new file, never half.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(InputError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array((folder + "/." + url.lastPathComponent + ".ember-migrate-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw InputError("\(path): cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))") }
        let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func fail(_ what: String) -> InputError {
            let message = "\(path): \(what): \(String(cString: strerror(errno))); the original is untouched"
            close(fd)
            unlink(tempPath)
            return InputError(message)
        }
        var st = stat()
        if stat(path, &st) == 0 {
            guard fchmod(fd, st.st_mode & 0o7777) == 0 else { throw fail("cannot set permissions") }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot write")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw fail("cannot sync") }
        guard close(fd) == 0 else { unlink(tempPath); throw InputError("\(path): cannot close the temporary file; the original is untouched") }
        guard rename(tempPath, path) == 0 else {
            let message = "\(path): cannot replace: \(String(cString: strerror(errno))); the original is untouched"
            unlink(tempPath)
            throw InputError(message)
        }
        let dirFD = open(folder, O_RDONLY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }
}
