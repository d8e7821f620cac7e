// swift-tools-version:6.1
// Ember for Swift. Framework layers (DESIGN §2) first, then the tools, then the commands.
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")

let package = Package(
    name: "Ember",
    products: [
        .library(name: "Ember", targets: ["Ember"]),
        .library(name: "EmberPython", targets: ["EmberPython"]),
        .executable(name: "ember-lint", targets: ["ember-lint"]),
        .executable(name: "ember-migrate", targets: ["ember-migrate"]),
        .executable(name: "ember-bench", targets: ["ember-bench"]),
        // Started by ember-bench for each run of an external command (see its main.c).
        .executable(name: "ember-bench-spawn", targets: ["ember-bench-spawn"]),
        .executable(name: "ember-example", targets: ["ember-example"]),
    ],
    traits: [
        // ember-bench's PostgreSQL store links libpq (shared); the static release build
        // (scripts/release.sh) turns it off, as Debian ships no static libpq with its
        // dependencies (GSSAPI, LDAP). Without it, `--db postgresql://…` is a clear error.
        .trait(name: "PostgreSQL", description: "ember-bench's PostgreSQL store (links libpq)"),
        .default(enabledTraits: ["PostgreSQL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // MARK: framework layers: utils <- core <- execution, providers <- api
        .target(name: "EmberUtils"),
        .target(name: "EmberCore", dependencies: ["EmberUtils"]),
        .target(name: "EmberExecution", dependencies: ["EmberCore", "EmberUtils"]),
        .target(name: "EmberProviders", dependencies: ["EmberCore", "EmberUtils"]),
        // models() and the HTTP providers (providers layer): the only target that links
        // FoundationNetworking, and so libcurl; tools that must stay static depend on the
        // layers above instead.
        .target(name: "EmberModels", dependencies: ["EmberCore", "EmberUtils", "EmberProviders"]),
        .target(name: "Ember", dependencies: ["EmberUtils", "EmberCore", "EmberExecution", "EmberProviders", "EmberModels"]),

        // MARK: tools
        .target(name: "EmberPython", dependencies: ["EmberUtils"]),
        // The project model both tools share: file discovery, excludes, .gitignore, module
        // naming, relative imports, the parallel map over files.
        .target(name: "EmberProject", dependencies: ["EmberUtils"]),
        // The command-line contract the three tools share (docs/cli.md).
        .target(name: "EmberCommandLine", dependencies: ["EmberUtils", argumentParser]),
        .target(name: "EmberLint", dependencies: ["EmberUtils", "EmberPython", "EmberProject", "EmberCommandLine", argumentParser]),
        .target(name: "EmberMigrate", dependencies: ["EmberPython", "EmberUtils", "EmberProject"]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // libpq for the PostgreSQL store (docs/ember-bench.md: why libpq, not PostgresNIO).
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // ember-bench stays free of EmberModels (libcurl) so its static binary needs only libc,
        // libstdc++ and libsqlite3; its model suite calls the offline provider directly.
        // The tools suite measures EmberPython and EmberLint in-process.
        .target(name: "EmberBench", dependencies: ["CSQLite", .target(name: "CLibPQ", condition: .when(traits: ["PostgreSQL"])), "EmberCore", "EmberExecution", "EmberProviders", "EmberUtils", "EmberPython", "EmberProject", "EmberLint", "EmberMigrate"]),

        // MARK: commands
        .executableTarget(name: "ember-lint", dependencies: ["EmberLint", "EmberCommandLine"]),
        .executableTarget(name: "ember-migrate", dependencies: ["EmberMigrate", "EmberPython", "EmberCommandLine", argumentParser]),
        .executableTarget(name: "ember-bench", dependencies: ["EmberBench", "EmberCommandLine", "EmberProject", argumentParser]),
        .executableTarget(name: "ember-bench-spawn"),
        .executableTarget(name: "ember-example", dependencies: ["Ember"]),

        // MARK: development tools: not products, not released (`swift run NAME` builds them)
        // the JIT acceptance measurement and the models() overhead figure (docs/jit-and-models.md)
        .executableTarget(name: "ember-jit-acceptance", dependencies: ["Ember"]),
        .executableTarget(name: "ember-models-overhead", dependencies: ["Ember"]),
        // the gate simulation and synthetic stores behind docs/ember-bench.md's figures
        .executableTarget(name: "ember-bench-lab", dependencies: ["EmberBench", "EmberCommandLine", "EmberUtils", argumentParser]),
        // EmberPython tokens/trees as JSON for scripts/conformance
        .executableTarget(name: "ember-python-dump", dependencies: ["EmberPython", "EmberUtils"]),
        // a TOML document as canonical JSON for scripts/toml-oracle.py
        .executableTarget(name: "toml-dump", dependencies: ["EmberUtils"]),

        // MARK: tests
        .target(name: "EmberTestSupport", dependencies: ["EmberCore"], path: "Tests/EmberTestSupport"),
        .testTarget(name: "EmberCoreTests", dependencies: ["Ember", "EmberTestSupport", propertyBased]),
        .testTarget(name: "EmberJITTests", dependencies: ["Ember", "EmberTestSupport", propertyBased]),
        .testTarget(name: "EmberProvidersTests", dependencies: ["Ember", "EmberTestSupport"]),
        .testTarget(name: "EmberUtilsTests", dependencies: ["EmberUtils"]),
        .testTarget(name: "EmberPythonTests", dependencies: ["EmberPython", "EmberUtils"]),
        .testTarget(name: "EmberProjectTests", dependencies: ["EmberProject"]),
        .testTarget(name: "EmberLintTests", dependencies: ["EmberLint", "EmberUtils", "EmberProject", "EmberTestSupport"]),
        .testTarget(name: "EmberMigrateTests", dependencies: ["EmberMigrate", "EmberPython", "EmberUtils", "EmberProject", "EmberTestSupport"]),
        // The command-line contract (docs/cli.md) through the three built binaries.
        .testTarget(name: "ToolContractTests", dependencies: ["EmberUtils", "EmberTestSupport"]),
        .testTarget(name: "EmberBenchTests", dependencies: ["EmberBench", "EmberUtils", "CSQLite", "EmberTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
