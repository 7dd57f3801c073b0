import Foundation
import Spelling

/// A sweep written down in a file (the shipped ones are in `presets/sweeps/`), so that an experiment
/// of the paper is one short command: `cptui sweep replay-strong`.
///
/// ```yaml
/// about: Replay on the strong shift, 3 seeds, with the union baseline.
/// preset: strong-shift            # the experiment: a preset name or a config file
/// set: {defaults.tokens: 1M}      # overrides for every run (like --set)
/// seeds: [1, 2, 3]                # a `seed` axis (slowest); the union runs once per seed
/// grid:                           # axes, first slowest (like --grid KEY=V1,V2,…)
///   stage2.replay: [0, 5, 25]
/// union: {preset: union-strong-shift, set: {stages.1.tokens: 2M}}
/// out: findings/replay-strong     # default log folder
/// ```
///
/// A file is read as a sweep when its top level has a `preset` or a `grid` key (experiment configs
/// have neither).
public struct SweepFile: Equatable, Sendable {
  /// One grid axis: each choice is the overrides of one value (`stage2.replay=5`, or several
  /// for a map value such as `{schedule: constant-min, warmup: 0}` under `stage2`).
  public struct Axis: Equatable, Sendable {
    public var key: String
    public var choices: [[String]]
    /// Where a sweep file gives this axis ("file.yaml:12:5"); nil for `--grid`.
    public var place: String?
    public init(key: String, choices: [[String]], place: String? = nil) {
      self.key = key
      self.choices = choices
      self.place = place
    }

    /// The same axis whatever line gave it.
    public static func == (a: Axis, b: Axis) -> Bool { a.key == b.key && a.choices == b.choices }
  }

  /// The file's name without its extension.
  public var name: String
  public var about: String?
  /// The experiment config: a preset name, or a path (relative paths are read from the file's folder).
  public var preset: String
  /// `key=value` overrides for every run.
  public var overrides: [String]
  /// Grid axes, first slowest; a `seeds:` list is the first axis (key `seed`).
  public var axes: [Axis]
  /// True when the file has `seeds:`; the union baseline then runs once per seed.
  public var unionPerSeed: Bool
  public var union: String?
  public var unionOverrides: [String]
  public var out: String?
  /// Where the file gives each override (`set`, `union.set`) and its `preset` and `union`:
  /// "FILE:LINE:COLUMN: set" by `placeKey(list, override)`, or by "preset"/"union".
  public var places: [String: String] = [:]

  /// The key of `places` for `override` (`stages.2.replay=500`) given in `list` ("set" or
  /// "union.set"): the same text in both lists has two places.
  public static func placeKey(_ list: String, _ override: String) -> String {
    list + " " + override
  }

  static let keys = ["about", "preset", "set", "seeds", "grid", "union", "out"]

  /// A grid key as the config reads it: `stage2.replay` is `stages.2.replay` (so two spellings of
  /// one key are one axis).
  public static func canonicalKey(_ key: String) -> String {
    let parts = key.trimmingCharacters(in: .whitespaces).split(
      separator: ".", omittingEmptySubsequences: false)
    guard let first = parts.first, first.hasPrefix("stage"), first != "stages",
      let index = Int(first.dropFirst("stage".count))
    else { return key.trimmingCharacters(in: .whitespaces) }
    return (["stages", String(index)] + parts.dropFirst().map(String.init)).joined(separator: ".")
  }

  /// Reads a sweep file; `nil` when the YAML is an experiment config instead.
  public static func parse(yaml: String, source: String) throws(ConfigError) -> SweepFile? {
    let root = try ConfigNode.parse(yaml: yaml, source: source)
    guard let entries = root.entries, root["preset"] != nil || root["grid"] != nil else {
      return nil
    }
    func place(_ node: ConfigNode) -> String {
      [source, node.line.map(String.init), node.column.map(String.init)].compactMap { $0 }
        .joined(separator: ":")
    }
    func fail(_ node: ConfigNode?, _ key: String, _ message: String) -> ConfigError {
      ConfigError(
        source: source, line: node?.line, column: node?.column, keyPath: key, message: message)
    }
    var places: [String: String] = [:]
    func scalar(_ node: ConfigNode, _ key: String) throws(ConfigError) -> String {
      guard case .scalar(let text, _) = node.value else {
        throw fail(node, key, "expected a single value, found \(node.kindDescription)")
      }
      return text
    }
    /// `{key: value, …}` or `[key=value, …]`.
    func overrides(_ node: ConfigNode?, _ key: String) throws(ConfigError) -> [String] {
      guard let node, !node.isNull else { return [] }
      switch node.value {
      case .map(let items):
        var out: [String] = []
        for item in items {
          out.append("\(item.key)=\(try scalar(item.value, key + "." + item.key))")
          places[placeKey(key, out[out.count - 1])] = place(item.value) + ": " + key
        }
        return out
      case .list(let items):
        var out: [String] = []
        for item in items {
          let text = try scalar(item, key)
          guard text.contains("=") else {
            throw fail(item, key, "expected key=value, found \(text)")
          }
          out.append(text)
          places[placeKey(key, text)] = place(item) + ": " + key
        }
        return out
      default:
        throw fail(node, key, "expected a map of key: value overrides")
      }
    }
    /// `[1, 2, 3]` or `"1,2,3"`; a map item `{a: 1, b: 2}` sets several keys under `key` at once.
    func choices(_ node: ConfigNode, _ key: String) throws(ConfigError) -> [[String]] {
      var out: [[String]] = []
      switch node.value {
      case .list(let items):
        for item in items {
          if item.entries != nil {
            let sets = try overrides(item, key)
            guard !sets.isEmpty else { throw fail(item, key, "an empty map sets nothing") }
            out.append(sets.map { key + "." + $0 })
          } else {
            out.append([key + "=" + (try scalar(item, key))])
          }
        }
      case .scalar(let text, _):
        out = text.split(separator: ",").map {
          [key + "=" + $0.trimmingCharacters(in: .whitespaces)]
        }
      default:
        break
      }
      guard !out.isEmpty else { throw fail(node, key, "needs at least one value") }
      if let twice = out.first(where: { v in out.filter { $0 == v }.count > 1 }) {
        throw fail(
          node, key, "\(twice.joined(separator: ", ")) is given twice (each value runs once)")
      }
      guard !out.contains(where: { $0.contains { $0.hasSuffix("=") } }) else {
        throw fail(node, key, "expected a list of values, with no empty one")
      }
      return out
    }

    for entry in entries where !keys.contains(entry.key) {
      throw ConfigError(
        source: source, line: entry.keyLine, column: entry.keyColumn, keyPath: entry.key,
        message: "unknown key in a sweep file"
          + (Spelling.suggestion(for: entry.key, among: keys).map { " (did you mean \"\($0)\"?)" }
            ?? "") + " (keys: \(keys.joined(separator: ", ")))")
    }
    guard let presetNode = root["preset"] else {
      throw fail(root, "preset", "a sweep file names its experiment with preset:")
    }
    let name = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
    var about: String?
    if let node = root["about"] { about = try scalar(node, "about") }
    var sweep = SweepFile(
      name: name, about: about, preset: try scalar(presetNode, "preset"),
      overrides: try overrides(root["set"], "set"), axes: [], unionPerSeed: false, union: nil,
      unionOverrides: [], out: nil)
    if let seeds = root["seeds"] {
      sweep.axes.append(
        Axis(key: "seed", choices: try choices(seeds, "seed"), place: place(seeds)))
      sweep.unionPerSeed = true
    }
    if let grid = root["grid"], !grid.isNull {
      guard let axes = grid.entries else {
        throw fail(grid, "grid", "expected a map of KEY: [V1, V2, …]")
      }
      for axis in axes {
        if axis.key == "seed" && sweep.axes.contains(where: { $0.key == "seed" }) {
          throw fail(axis.value, "grid." + axis.key, "is also given by seeds:")
        }
        // One key in two spellings (stage2.replay and stages.2.replay) would run configs twice.
        if let earlier = sweep.axes.first(where: {
          canonicalKey($0.key) == canonicalKey(axis.key)
        }) {
          throw fail(axis.value, "grid." + axis.key, "is the same key as grid.\(earlier.key)")
        }
        sweep.axes.append(
          Axis(key: axis.key, choices: try choices(axis.value, axis.key), place: place(axis.value)))
      }
    }
    if let union = root["union"], !union.isNull {
      if case .scalar(let text, _) = union.value {
        sweep.union = text
      } else if let items = union.entries {
        for item in items where !["preset", "set"].contains(item.key) {
          throw fail(item.value, "union." + item.key, "unknown key (union: takes preset and set)")
        }
        guard let preset = union["preset"] else {
          throw fail(union, "union", "expected preset: NAME")
        }
        sweep.union = try scalar(preset, "union.preset")
        sweep.unionOverrides = try overrides(union["set"], "union.set")
      } else {
        throw fail(union, "union", "expected a preset name or {preset: NAME, set: {…}}")
      }
    }
    if let out = root["out"] { sweep.out = try scalar(out, "out") }
    // A relative config path is read from the sweep file's folder.
    let folder = URL(fileURLWithPath: source).deletingLastPathComponent()
    func located(_ config: String) -> String {
      let isPath = config.contains("/") || config.hasSuffix(".yaml") || config.hasSuffix(".yml")
      guard isPath, !config.hasPrefix("/") else { return config }
      return folder.appendingPathComponent(config).standardizedFileURL.path
    }
    sweep.preset = located(sweep.preset)
    sweep.union = sweep.union.map(located)
    places["preset"] = place(presetNode) + ": preset"
    if let union = root["union"] {
      places["union"] = place(union["preset"] ?? union) + ": union"
    }
    sweep.places = places
    return sweep
  }

  /// The sweep file meant by a `cptui sweep` argument, or `nil` when it names an experiment config:
  /// an existing file is a sweep when it reads as one; a name that is no preset is looked up as
  /// `sweeps/NAME.yaml` in the presets folders.
  public static func locate(_ argument: String, in folders: [URL] = Presets.searchFolders())
    throws -> SweepFile?
  {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory),
      !isDirectory.boolValue
    {
      return try read(path: argument)
    }
    let isName = !argument.contains("/") && !argument.hasSuffix(".yaml")
    guard isName, (try? Presets.url(named: argument, in: folders)) == nil,
      let file = try? Presets.url(named: "sweeps/" + argument, in: folders)
    else { return nil }
    return try read(path: file.path)
  }

  static func read(path: String) throws -> SweepFile? {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigError(source: path, keyPath: "", message: "cannot read: \(error)")
    }
    return try parse(yaml: text, source: path)
  }

  /// Every combination as a list of `key=value` overrides, first axis slowest.
  public static func combinations(_ axes: [Axis]) -> [[String]] {
    axes.reduce([[]]) { partial, axis in
      partial.flatMap { prefix in axis.choices.map { prefix + $0 } }
    }
  }

  /// Names of the sweep files in the presets folders' `sweeps/` subfolders, sorted.
  public static func names(in folders: [URL] = Presets.searchFolders()) -> [String] {
    Presets.names(in: folders.map { $0.appendingPathComponent("sweeps") })
  }
}
