import EmberCore
import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One model's list price, in US dollars per million tokens.
public struct ModelPrice: Sendable, Equatable, Hashable {
    public var name: String
    /// `"openai"` or `"anthropic"`: where the name routes without a prefix.
    public var provider: String
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Other names of the same model (dated snapshots, `-latest`).
    public var aliases: [String]

    public init(name: String, provider: String, inputPerMillion: Double, outputPerMillion: Double, aliases: [String] = []) {
        self.name = name
        self.provider = provider
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.aliases = aliases
    }

    /// The cost of `usage` at this price.
    public func cost(of usage: TokenUsage) -> Double {
        (Double(usage.promptTokens) * inputPerMillion + Double(usage.completionTokens) * outputPerMillion) / 1_000_000
    }
}

/// Model prices and the registry of known names. `builtIn` is rules/model-pricing.toml
/// compiled into the binary; `parse(toml:)` reads a file of the same form (for an override).
public struct PricingTable: Sendable, Equatable {
    public static let providers: Set<String> = ["openai", "anthropic"]

    /// In file order.
    public let entries: [ModelPrice]
    private let byName: [String: Int]

    /// For the generated table, which the generator has validated.
    init(validated entries: [ModelPrice]) {
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            index[e.name] = i
            for a in e.aliases { index[a] = i }
        }
        byName = index
    }

    /// A table from entries; names and aliases must be unique and providers known.
    public init(entries: [ModelPrice]) throws {
        var seen: [String: String] = [:]
        for e in entries {
            guard Self.providers.contains(e.provider) else {
                throw EmberError.invalidConfiguration(
                    key: "pricing.\(e.name).provider",
                    message: "'\(e.provider)' is not a provider; use one of \(Self.providers.sorted().joined(separator: ", "))")
            }
            guard e.inputPerMillion >= 0, e.outputPerMillion >= 0, e.inputPerMillion.isFinite, e.outputPerMillion.isFinite else {
                throw EmberError.invalidConfiguration(
                    key: "pricing.\(e.name)", message: "prices must be non-negative dollars per million tokens")
            }
            for n in [e.name] + e.aliases {
                if let other = seen[n] {
                    throw EmberError.invalidConfiguration(
                        key: "pricing.\(e.name)", message: "name '\(n)' is already used by \(other)")
                }
                seen[n] = e.name
            }
        }
        self.init(validated: entries)
    }

    public static func == (a: PricingTable, b: PricingTable) -> Bool { a.entries == b.entries }

    /// The price of a model by name or alias.
    public func price(for name: String) -> ModelPrice? {
        byName[name].map { entries[$0] }
    }

    /// Every name and alias, sorted (for error hints).
    public var knownNames: [String] { byName.keys.sorted() }
}

/// A pricing file that cannot be read; `description` says where and what to do.
public struct PricingFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

extension PricingTable {
    /// Reads the pricing file format of rules/model-pricing.toml: `[models."<name>"]`
    /// tables with `provider = "..."`, `input = <number>`, `output = <number>` and optionally
    /// `aliases = ["...", ...]`. The file is read as TOML 1.0 (EmberUtils' reader); a syntax
    /// error, a key the format does not have or a value of the wrong type is reported with its
    /// line and column, not guessed at.
    public static func parse(toml text: String, file: String = "model-pricing.toml") throws -> PricingTable {
        let root: TOMLTable
        do {
            root = try TOML.parse(text)
        } catch {
            throw PricingFileError(file: file, line: error.line, column: error.column, message: error.message)
        }
        func fail(_ line: Int, _ column: Int, _ message: String) -> PricingFileError {
            PricingFileError(file: file, line: line, column: column, message: message)
        }
        var done: [ModelPrice] = []
        for top in root.entries {
            guard top.key == "models", case .table(let models) = top.value.kind else {
                if case .table = top.value.kind {
                    throw fail(top.line, top.column, "expected a [models.\"<name>\"] table header, found [\(top.key)]")
                }
                throw fail(top.line, top.column, "key '\(top.key)' appears before any [models.\"<name>\"] header")
            }
            for model in models.entries {
                let name = model.key
                guard case .table(let t) = model.value.kind else {
                    let type = model.value.typeName
                    let article = "aeiou".contains(type.first!) ? "an" : "a"
                    throw fail(model.line, model.column, "expected a [models.\"<name>\"] table header; '\(name)' is \(article) \(type)")
                }
                var provider: String?, input: Double?, output: Double?, aliases: [String] = []
                for entry in t.entries {
                    let v = entry.value
                    switch entry.key {
                    case "provider":
                        guard case .string(let p) = v.kind else { throw fail(v.line, v.column, "provider must be a \"quoted string\"") }
                        guard providers.contains(p) else {
                            throw fail(v.line, v.column, "provider '\(p)' is unknown; use \(providers.sorted().map { "\"\($0)\"" }.joined(separator: " or "))")
                        }
                        provider = p
                    case "input", "output":
                        let number: Double? = switch v.kind {
                        case .integer(let n): Double(n)
                        case .float(let d): d
                        default: nil
                        }
                        guard let number, number >= 0, number.isFinite else {
                            throw fail(v.line, v.column, "\(entry.key) must be a non-negative number of dollars per million tokens")
                        }
                        if entry.key == "input" { input = number } else { output = number }
                    case "aliases":
                        guard case .array(let items) = v.kind else { throw fail(v.line, v.column, "aliases must be a list [\"name\", ...]") }
                        for item in items {
                            guard case .string(let a) = item.kind else { throw fail(item.line, item.column, "an alias must be a \"quoted string\"") }
                            aliases.append(a)
                        }
                    default:
                        throw fail(entry.line, entry.column, "unknown key '\(entry.key)'; a model table has provider, input, output and aliases")
                    }
                }
                // A missing key is reported at its table's header.
                guard let provider else { throw fail(model.line, 1, "model \(name) has no provider = \"openai\" or \"anthropic\"") }
                guard let input else { throw fail(model.line, 1, "model \(name) has no input = <dollars per million prompt tokens>") }
                guard let output else { throw fail(model.line, 1, "model \(name) has no output = <dollars per million completion tokens>") }
                done.append(ModelPrice(name: name, provider: provider, inputPerMillion: input, outputPerMillion: output, aliases: aliases))
            }
        }
        do {
            return try PricingTable(entries: done)
        } catch let e as EmberError {
            throw PricingFileError(file: file, line: 1, column: 1, message: e.description)
        }
    }
}
