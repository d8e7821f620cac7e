// The public API: one import gives the whole module core.
@_exported import EmberCore
@_exported import EmberExecution
@_exported import EmberProviders
@_exported import EmberUtils
