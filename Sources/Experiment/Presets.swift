import Foundation
import Spelling

/// The shipped experiment presets (YAML files in the repository's `presets/` folder).
///
/// Search order for the folder (the first that exists wins for each name):
/// 1. every folder in `$CPTUI_PRESETS` (colon-separated);
/// 2. `presets/` next to the executable, then `../share/cptui/presets` beside it (an install);
/// 3. `presets/` in each parent of the executable's folder that also holds `Package.swift`
///    (a build inside the repository: `.build/release/cptui` finds the checkout's presets);
/// 4. `presets/` in the current folder and in each of its parents that holds `Package.swift`.
public enum Presets {
  /// A preset name that was not found, with where cptui looked.
  public struct NotFound: Error, CustomStringConvertible, Equatable, Sendable {
    public var name: String
    public var searched: [String]
    public var available: [String]
    /// The sweep files' names (`presets/sweeps/`): a sweep given where a preset belongs is said so.
    public var sweeps: [String] = []
    public var description: String {
      var text = "no preset named \"\(name)\""
      if sweeps.contains(name) {
        text += " (\(name) is a sweep: cptui sweep \(name))"
      } else if let close = Spelling.suggestion(for: name, among: available) {
        text += " (did you mean \"\(close)\"?)"
      }
      if !available.isEmpty { text += " (presets: \(available.joined(separator: ", ")))" }
      if available.isEmpty {
        text += "; looked in \(searched.isEmpty ? "no folders" : searched.joined(separator: ", "))"
        text += " (set CPTUI_PRESETS to the presets folder)"
      }
      return text
    }
  }

  /// The folders searched, in order (only those that exist).
  public static func searchFolders(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    executable: URL? = Bundle.main.executableURL,
    currentDirectory: String = FileManager.default.currentDirectoryPath
  ) -> [URL] {
    var candidates: [URL] = []
    if let list = environment["CPTUI_PRESETS"] {
      for part in list.split(separator: ":") where !part.isEmpty {
        candidates.append(URL(fileURLWithPath: String(part)))
      }
    }
    if let executable {
      let folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
      candidates.append(folder.appendingPathComponent("presets"))
      candidates.append(
        folder.deletingLastPathComponent().appendingPathComponent("share/cptui/presets"))
      candidates += repositoryPresets(above: folder)
    }
    candidates += repositoryPresets(
      above: URL(fileURLWithPath: currentDirectory), includeSelf: true)
    var seen = Set<String>()
    return candidates.filter { url in
      let path = url.standardizedFileURL.path
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        isDirectory.boolValue, !seen.contains(path)
      else { return false }
      seen.insert(path)
      return true
    }
  }

  /// `presets/` in the parents of `start` that are a checkout (hold `Package.swift`).
  static func repositoryPresets(above start: URL, includeSelf: Bool = false) -> [URL] {
    var found: [URL] = []
    var folder = start.standardizedFileURL
    if !includeSelf { folder = folder.deletingLastPathComponent() }
    for _ in 0..<8 {
      if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path)
      {
        found.append(folder.appendingPathComponent("presets"))
      }
      let parent = folder.deletingLastPathComponent()
      if parent.path == folder.path { break }
      folder = parent
    }
    return found
  }

  /// Names of every preset found (file names without `.yaml`), sorted.
  public static func names(in folders: [URL] = searchFolders()) -> [String] {
    var names = Set<String>()
    for folder in folders {
      let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
      for file in files where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
        names.insert(String(file.prefix(upTo: file.lastIndex(of: ".")!)))
      }
    }
    return names.sorted()
  }

  /// The file of a preset.
  public static func url(named name: String, in folders: [URL] = searchFolders()) throws(NotFound)
    -> URL
  {
    for folder in folders {
      for suffix in [".yaml", ".yml"] {
        let file = folder.appendingPathComponent(name + suffix)
        if FileManager.default.fileExists(atPath: file.path) { return file }
      }
    }
    throw NotFound(
      name: name, searched: folders.map(\.path), available: names(in: folders),
      sweeps: names(in: folders.map { $0.appendingPathComponent("sweeps") }))
  }

  /// Reads a preset (see `ConfigLoader.load`).
  public static func load(
    named name: String, loader: ConfigLoader = ConfigLoader(), overrides: [String] = [],
    in folders: [URL] = searchFolders()
  ) throws -> ExperimentConfig {
    let file = try url(named: name, in: folders)
    return try loader.load(path: file.path, overrides: overrides)
  }

  /// A config given as a path or a preset name: an existing file (or anything with a `/` or a
  /// `.yaml` ending) is read as a file, anything else as a preset name.
  public static func resolve(
    _ pathOrName: String, loader: ConfigLoader = ConfigLoader(), overrides: [String] = [],
    in folders: [URL] = searchFolders()
  ) throws -> ExperimentConfig {
    let looksLikePath =
      pathOrName.contains("/") || pathOrName.hasSuffix(".yaml") || pathOrName.hasSuffix(".yml")
      || pathOrName.hasSuffix(".json")
    if looksLikePath || FileManager.default.fileExists(atPath: pathOrName) {
      return try loader.load(path: pathOrName, overrides: overrides)
    }
    return try load(named: pathOrName, loader: loader, overrides: overrides, in: folders)
  }
}
