import ArgumentParser
import Experiment
import Foundation
import RunLog

/// `cptui export`: run logs as CSV (one row per evaluation) and as an SVG loss chart.
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write run logs' evaluations as CSV and their validation-loss chart as SVG.",
    discussion: """
      CSV columns: run, label, path, stage, step, tokens, time, then one column per dataset (empty: \
      not evaluated; NaN: a NaN loss). The SVG has one path per run and dataset (a colour per run, \
      the first dataset solid, the second dashed), stage starts as dashed lines and a legend with \
      last and minimum values. Give '-' to write to standard output. See docs/export.md.
      """)

  @Argument(help: "Run logs, folders of logs, or globs.") var logs: [String]
  @Option(help: "Write one row per evaluation to this CSV file ('-': standard output).")
  var csv: String?
  @Option(help: "Write the validation-loss chart to this SVG file ('-': standard output).")
  var svg: String?
  @Option(help: "SVG width in pixels (400 or more).") var width = 960
  @Option(help: "SVG height in pixels (grows when the legend needs room).") var height = 540
  @Option(help: "SVG title (default: validation loss, and the run name the runs share).")
  var title: String?
  @Flag(help: "Logarithmic loss axis.") var logY = false
  @Option(help: "SVG colours: light or dark.") var theme = "light"

  func validate() throws {
    if csv == nil && svg == nil { throw ValidationError("give --csv OUT, --svg OUT or both") }
    if csv == "-" && svg == "-" { throw ValidationError("only one of --csv and --svg can be '-'") }
    if let csv, let svg, OutputFile.samePlace(csv, svg) {
      throw ValidationError(
        "--csv \(csv) and --svg \(svg) are the same file: the chart would replace the table "
          + "(give two files)")
    }
    if SVGChart.Theme(rawValue: theme) == nil {
      throw ValidationError("--theme must be light or dark, not '\(theme)'")
    }
    if !(400...20000).contains(width) || !(100...20000).contains(height) {
      throw ValidationError(
        "--width must be between 400 and 20000 (the legend's values need the room), --height "
          + "between 100 and 20000")
    }
  }

  func run() throws {
    let paths = try LogPaths.expand(logs)
    try OutputFile.refuseInputs(csv, option: "--csv", inputs: paths)
    try OutputFile.refuseInputs(svg, option: "--svg", inputs: paths)
    let loaded: (runs: [ExportRun], notices: [String])
    do { loaded = try ExportRun.load(paths: paths) } catch { throw CLIError(describing: error) }
    for notice in loaded.notices { printError("cptui: \(notice)") }
    if let csv { try OutputFile.write(EvaluationCSV.csv(loaded.runs), to: csv) }
    if let svg {
      var chart = SVGChart(runs: loaded.runs)
      chart.width = width
      chart.height = height
      chart.title = title ?? "validation loss" + (chart.commonName.map { " · " + $0 } ?? "")
      chart.logY = logY
      chart.theme = SVGChart.Theme(rawValue: theme) ?? .light
      try OutputFile.write(chart.svg(), to: svg)
    }
  }

}
