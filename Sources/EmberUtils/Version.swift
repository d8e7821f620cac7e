/// The version of Ember for Swift and of its tools. The top-level VERSION file is the one
/// source: scripts/release.sh stamps the wheel from it, and a test (VersionTests) keeps this
/// constant equal to it.
public enum EmberVersion {
    public static let string = "0.2.0"
}
