@_exported import EmberModels
import EmberExecution
import EmberProviders

/// `models("gpt-4o", "prompt")` and `models.instance(...)`: keys and base URLs from the
/// process environment, prices from the built-in table (rules/model-pricing.toml).
/// Build your own `Models(settings:)` for other settings (tests, a local server).
public let models = Models()

/// Model responses are leaves of output trees, so `jit(_:over:)` can map a model over a
/// nested input and rebuild it with responses.
extension ModelResponse: TreeRebuildableLeaf {}
