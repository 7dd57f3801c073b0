import Corpus
import Experiment
import Foundation
import RunLog
import Screens
import Terminal

/// Shared by `run`, `sweep` and the live screen: reading a config, preparing its data, naming logs.
enum RunSupport {
  /// The standard theme folders and the theme the user named (a name or a .theme file; default
  /// dark), or a one-line error.
  static func theme(_ name: String?) throws -> (ThemeLoader, Theme) {
    let themes = ThemeLoader.standard()
    do {
      return (themes, try themes.load(name ?? "dark"))
    } catch {
      throw CLIError("theme: \(error)")
    }
  }

  /// Every name a config may use for a built-in dataset (recipes, their aliases, mixtures).
  static var builtinDatasetNames: [String] { Recipes.knownNames }

  static var loader: ConfigLoader { ConfigLoader(builtinDatasets: builtinDatasetNames) }

  /// A config file or preset name with `--set` overrides applied; errors become one-line messages.
  static func loadConfig(_ pathOrName: String, overrides: [String]) throws -> ExperimentConfig {
    do {
      return try Presets.resolve(pathOrName, loader: loader, overrides: overrides)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Prepares (downloads, extracts, tokenizes) every dataset of `config`, reporting on `progress`.
  static func prepareData(
    _ config: ExperimentConfig, progress: @escaping (String) -> Void
  ) throws -> ExperimentData {
    let manager = DataManager(log: progress)
    do {
      return try ExperimentData.prepare(config, manager: manager)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// `runs/NAME-YYYYmmdd-HHMMSS.jsonl` under the current folder.
  static func defaultLogPath(for config: ExperimentConfig) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    let safeName = String(config.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    return "runs/\(safeName.isEmpty ? "run" : safeName)-\(formatter.string(from: Date())).jsonl"
  }

  /// Checkpoints of `RUN.jsonl` go to `RUN.checkpoints/`.
  static func checkpointDirectory(forLog path: String) -> String {
    (path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path) + ".checkpoints"
  }
}

/// Writes a line to standard error: in plain ASCII for dashes and ellipses when the locale is not
/// UTF-8 (LANG=C), so the terminal shows "-" and "..." rather than stray bytes.
func printError(_ text: String) {
  var line = TextSanitizer.escaped(text)
  if !LocaleText.isUTF8 {
    line = line.replacingOccurrences(of: "—", with: "-").replacingOccurrences(of: "–", with: "-")
      .replacingOccurrences(of: "…", with: "...").replacingOccurrences(of: "·", with: "-")
      .replacingOccurrences(of: "×", with: "x").replacingOccurrences(of: "η", with: "eta")
      .replacingOccurrences(of: "Δ", with: "delta ")
  }
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Whether the user's locale (LC_ALL, then LC_CTYPE, then LANG) asks for UTF-8.
enum LocaleText {
  static let isUTF8: Bool = {
    let environment = ProcessInfo.processInfo.environment
    let value =
      ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }
      .first { !$0.isEmpty } ?? ""
    let lower = value.lowercased()
    return lower.contains("utf-8") || lower.contains("utf8")
  }()
}
