import TagStreamCore

/// The reference pipeline, built into the binary from `pipelines/community-grocery.yaml` so that
/// commands need no pipeline file and work from any directory.
public enum BuiltInPipeline {
    /// The file it is built from; messages about its mistakes name it.
    public static let file = "pipelines/community-grocery.yaml"

    /// The YAML text, as the file was when the binary was built.
    public static var yaml: String { String(decoding: PackageResources.community_grocery_yaml, as: UTF8.self) }

    /// Validates and compiles it as `PipelineLoader.load` does a file.
    public static func load() throws -> Pipeline { try PipelineLoader.parse(yaml: yaml, file: file) }
}
