import ArgumentParser
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
      throw CLIError("\(error)")  // names the file or says "no theme named …"
    }
  }

  /// Every name a config may use for a built-in dataset (recipes, their aliases, mixtures).
  static var builtinDatasetNames: [String] { Recipes.knownNames }

  /// The loader for a config that is only read (a schedule, a log's recorded config).
  static var loader: ConfigLoader { loader(threads: 1) }

  /// Refuses to resume `log` on `threads` engine threads when its model cannot fit in memory on
  /// that many (data-parallel replicas each hold gradients and activations; a new run's config
  /// is checked as it loads, `loader(threads:)`).
  static func checkMemory(_ config: ExperimentConfig, threads: Int, log: String) throws {
    if let shortfall = ConfigLoader.memoryShortfall(
      model: config.model, batch: config.batchSize, threads: threads)
    {
      throw CLIError("\(log): " + shortfall)
    }
  }

  /// The loader for a config about to train on `threads` engine threads (its memory check counts
  /// the data-parallel replicas).
  static func loader(threads: Int) -> ConfigLoader {
    ConfigLoader(builtinDatasets: builtinDatasetNames, trainingThreads: threads)
  }

  /// A config file or preset name with `--set` overrides applied, checked for training on
  /// `threads` engine threads; errors become one-line messages.
  static func loadConfig(_ pathOrName: String, overrides: [String], threads: Int = 1) throws
    -> ExperimentConfig
  {
    let config: ExperimentConfig
    do {
      config = try Presets.resolve(
        pathOrName, loader: loader(threads: threads), overrides: overrides)
    } catch {
      throw CLIError(describing: error)
    }
    for note in highRateNotes(config) { printError("cptui: " + note) }
    return config
  }

  /// A note per stage whose η max is above the stage panel's ladder (taken, as the panel takes
  /// it, but said: such rates make these models' loss explode).
  static func highRateNotes(_ config: ExperimentConfig) -> [String] {
    config.stages.enumerated().compactMap { index, stage in
      StageSteps.highRateWarning(stage.lrMax).map { "stages.\(index + 1).lrMax " + $0 }
    }
  }

  /// Refuses `--out -`: a run log is a file, with its checkpoint folder beside it.
  static func checkOut(_ out: String?) throws {
    if out == "-" {
      throw ValidationError("--out -: a run log is a file with checkpoints beside it; give a path")
    }
  }

  /// Prepares (downloads, extracts, tokenizes) every dataset of `config`, reporting on `progress`.
  static func prepareData(
    _ config: ExperimentConfig, progress: @escaping (String) -> Void
  ) throws -> ExperimentData {
    let manager = DataManager(log: progress)
    let data: ExperimentData
    do {
      data = try ExperimentData.prepare(config, manager: manager)
    } catch {
      throw CLIError(describing: error)
    }
    if let note = data.tokenizerShortfall(of: config) { printError("cptui: note: " + note) }
    return data
  }

  /// `runs/NAME-YYYYmmdd-HHMMSS.jsonl` under the current folder.
  static func defaultLogPath(for config: ExperimentConfig) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    let safeName = String(config.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    let base = "runs/\(safeName.isEmpty ? "run" : safeName)-\(formatter.string(from: Date()))"
    // Two runs started in the same second get NAME-TIME.jsonl and NAME-TIME-2.jsonl.
    var path = base + ".jsonl"
    var n = 2
    while FileManager.default.fileExists(atPath: path) {
      path = "\(base)-\(n).jsonl"
      n += 1
    }
    return path
  }

  /// Checks `--threads`: positive, and a note on standard error when it is more than this
  /// machine's cores (the extra threads only take turns with the others).
  static func checkThreads(_ threads: Int?) throws {
    if let note = try threadsNote(threads) { printError("cptui: note: " + note) }
  }

  /// The most engine threads a command takes (OpenBLAS's own limit in Debian's build).
  static let maximumThreads = 64

  /// Throws when `--threads` is not positive or above `maximumThreads`; the note for more
  /// threads than cores, if so.
  static func threadsNote(_ threads: Int?) throws -> String? {
    guard let threads else { return nil }
    if threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    // Debian's OpenBLAS runs at most 64 threads (more were silently 64, while cptui's own loops
    // took the number given).
    if threads > maximumThreads {
      throw ValidationError("--threads must be at most \(maximumThreads), got \(threads)")
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard threads > cores else { return nil }
    return
      "--threads \(threads) is more than the \(cores) cores here: the extra threads only take turns"
  }

  /// Checkpoints of `RUN.jsonl` go to `RUN.checkpoints/`.
  /// Whether the last run in the log at `path` completed (false when it cannot be read).
  static func runCompleted(_ path: String) -> Bool {
    guard let contents = try? RunLogReader.read(path: path) else { return false }
    return completed(RunLogReader.applyingResumes(contents.lastRunAsWritten.events))
  }

  /// Whether a run's events (resumes applied) hold a completed run end.
  static func completed(_ events: [RunEvent]) -> Bool {
    events.contains {
      if case .runEnd(let end) = $0 { return end.status == .completed } else { return false }
    }
  }

  static func checkpointDirectory(forLog path: String) -> String {
    (path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path) + ".checkpoints"
  }

  /// Refuses a resume whose data is not what the run trained on: a dataset whose fingerprint
  /// (`ExperimentData.fingerprints`) differs from the one the log's header recorded (its files
  /// edited, moved or replaced). Logs without fingerprints (older ones) are not checked.
  static func checkDataUnchanged(logged: JSONValue?, now: JSONValue, log: String) throws {
    guard let logged = logged?.objectValue, let current = now.objectValue else { return }
    for member in logged {
      guard let was = member.value.stringValue else { continue }
      let isNow = current.first { $0.key == member.key }?.value.stringValue
      if isNow != was {
        throw CLIError(
          "\(log): the data of \(member.key) is not what the run trained on (then: \(was); now: "
            + "\(isNow ?? "missing")): resuming would go on over other data. Restore the data, "
            + "or start a new run")
      }
    }
  }

  /// Refuses a run whose checkpoint folder cannot be made because a file stands at its path:
  /// checked before training, which would otherwise end at the first checkpoint (a stage later).
  static func checkCheckpointFolder(forLog path: String) throws {
    let folder = checkpointDirectory(forLog: path)
    // A log name near the file system's limit leaves no room for ".checkpoints": the run would
    // train a stage, then fail at its first checkpoint.
    let url = URL(fileURLWithPath: folder)
    let parent = url.deletingLastPathComponent().path
    let limit = pathconf(parent, Int32(_PC_NAME_MAX))
    let length = url.lastPathComponent.utf8.count
    if length > (limit > 0 ? limit : 255) {
      throw CLIError(
        "\(path): the log's name is too long: its checkpoint folder \(url.lastPathComponent) would "
          + "take \(length) bytes, over the \(limit > 0 ? limit : 255) a name may have here; choose a "
          + "shorter --out")
    }
    // Anything at the path (a link too, even one to nothing) that does not lead to a folder.
    var entry = stat()
    var target = stat()
    guard lstat(folder, &entry) == 0 else { return }
    if stat(folder, &target) != 0 || (target.st_mode & S_IFMT) != S_IFDIR {
      throw CLIError(
        "\(folder): a file (or a link to no folder) stands where the run's checkpoint folder "
          + "goes; move it away or choose another --out")
    }
  }
}

/// Writes a line to standard error, transliterated to ASCII as the screen's ASCII mode does when
/// the locale is not UTF-8 (LANG=C), so the terminal shows no stray bytes. Standard error has no
/// column budget, so an ellipsis may take three dots there.
func printError(_ text: String) {
  writeStandardError(localText(TextSanitizer.escaped(text)) + "\n")
}

/// Writes to standard error, ignoring failures (`OutputFile.writeStandardError`).
func writeStandardError(_ text: String) {
  OutputFile.writeStandardError(text)
}

/// Text for the user's terminal: as is under a UTF-8 locale, else transliterated to ASCII as the
/// screen's ASCII mode does (an ellipsis becomes three dots: no column budget to keep).
func localText(_ text: String) -> String {
  UserLocale.isUTF8
    ? text : CellGrid.asciiVersion(of: text.replacingOccurrences(of: "…", with: "..."))
}

/// `print` for human-readable output (tables, lists): ASCII under a locale without UTF-8.
func printText(_ text: String, terminator: String = "\n") {
  print(localText(text), terminator: terminator)
}
