// swift-tools-version:6.1
// Ember for Swift. Framework layers (DESIGN §2) first, then the tools, then the commands.
import PackageDescription

let package = Package(
    name: "Ember",
    products: [
        .library(name: "Ember", targets: ["Ember"]),
        .executable(name: "ember-example", targets: ["ember-example"]),
        .executable(name: "ember-lint", targets: ["ember-lint"]),
        .library(name: "EmberPython", targets: ["EmberPython"]),
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
        .target(name: "Ember", dependencies: ["EmberUtils", "EmberCore", "EmberExecution", "EmberProviders"]),
        .target(name: "EmberPython", dependencies: ["EmberUtils"]),

        // MARK: tools
        .target(name: "EmberLint", dependencies: ["EmberUtils", "EmberPython", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // MARK: commands
        .executableTarget(name: "ember-example", dependencies: ["Ember"]),
        .executableTarget(name: "ember-lint", dependencies: ["EmberLint"]),
        // dev tool (not shipped): dumps EmberPython tokens/trees as JSON for scripts/conformance
        .executableTarget(name: "ember-python-dump", dependencies: ["EmberPython", "EmberUtils"]),

        // MARK: tests
        .testTarget(name: "EmberLintTests", dependencies: ["EmberLint", "EmberUtils"]),
        .testTarget(
            name: "EmberCoreTests",
            dependencies: ["Ember", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "EmberPythonTests", dependencies: ["EmberPython", "EmberUtils"]),
    ],
    swiftLanguageModes: [.v6]
)
