// swift-tools-version:6.1
// Ember for Swift. Framework layers (DESIGN §2) first, then the tools, then the commands.
import PackageDescription

let package = Package(
    name: "Ember",
    products: [
        .library(name: "Ember", targets: ["Ember"]),
        .executable(name: "ember-example", targets: ["ember-example"]),
        .executable(name: "ember-jit-acceptance", targets: ["ember-jit-acceptance"]),
        .executable(name: "ember-models-overhead", targets: ["ember-models-overhead"]),
        .library(name: "EmberPython", targets: ["EmberPython"]),
        .library(name: "EmberMigrate", targets: ["EmberMigrate"]),
        .executable(name: "ember-migrate", targets: ["ember-migrate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
    ],
    targets: [
        // MARK: framework layers: utils <- core <- execution, providers <- api
        .target(name: "EmberUtils"),
        .target(name: "EmberCore", dependencies: ["EmberUtils"]),
        .target(name: "EmberExecution", dependencies: ["EmberCore", "EmberUtils"]),
        .target(name: "EmberProviders", dependencies: ["EmberCore", "EmberUtils"]),
        // models() and the HTTP providers: the only target that links FoundationNetworking
        // (and so libcurl); tools that must stay static depend on the layers below instead.
        .target(name: "EmberModels", dependencies: ["EmberCore", "EmberUtils", "EmberProviders"]),
        .target(name: "Ember", dependencies: ["EmberUtils", "EmberCore", "EmberExecution", "EmberProviders", "EmberModels"]),
        .target(name: "EmberPython", dependencies: ["EmberUtils"]),
        .target(name: "EmberMigrate", dependencies: ["EmberPython", "EmberUtils"]),

        // MARK: commands
        .executableTarget(name: "ember-example", dependencies: ["Ember"]),
        .executableTarget(name: "ember-jit-acceptance", dependencies: ["Ember"]),
        .executableTarget(name: "ember-models-overhead", dependencies: ["Ember"]),
        // dev tool (not shipped): dumps EmberPython tokens/trees as JSON for scripts/conformance
        .executableTarget(name: "ember-python-dump", dependencies: ["EmberPython", "EmberUtils"]),
        .executableTarget(name: "ember-migrate", dependencies: ["EmberMigrate", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // MARK: tests
        .target(name: "EmberTestSupport", dependencies: ["EmberCore"], path: "Tests/EmberTestSupport"),
        .testTarget(
            name: "EmberJITTests",
            dependencies: ["Ember", "EmberTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "EmberProvidersTests",
            dependencies: ["Ember", "EmberTestSupport"]
        ),
        .testTarget(
            name: "EmberCoreTests",
            dependencies: ["Ember", "EmberTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "EmberPythonTests", dependencies: ["EmberPython", "EmberUtils"]),
        .testTarget(name: "EmberMigrateTests", dependencies: ["EmberMigrate", "EmberPython", "EmberUtils"]),
    ],
    swiftLanguageModes: [.v6]
)
