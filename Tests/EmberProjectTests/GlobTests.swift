import Testing
@testable import EmberProject

