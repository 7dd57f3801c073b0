// The comparison view's table, built from the same `Comparison` that `cptui compare` prints, with
// the same numbers and the same formatting (three decimals, signed forgetting and Δunion).

import Experiment
import Foundation
import Screens

extension ComparisonTable {
  /// The screen table of `comparison`: a row per run (named as the legend names it,
  /// `Comparison.shortNames`, with "[stopped]" and the like when it did not complete), the final
  /// loss per dataset, forgetting (per forgotten dataset too), adaptation, average and Δunion (when there is a union
  /// baseline); lower is better everywhere; union baselines are not candidates for "best".
  public init(_ comparison: Comparison) {
    let columns = comparison.measureColumns
    var rows: [[ComparisonCell]] = []
    for (row, name) in zip(comparison.rows, comparison.shortNames) {
      let title = row.summary.endStatus == .completed ? name : "\(name) [\(row.status)]"
      var cells = [ComparisonCell(title)]
      for column in columns {
        guard let value = comparison.value(row, column: column) else {
          cells.append(ComparisonCell("–"))
          continue
        }
        let signed = Comparison.isSigned(column: column)
        cells.append(ComparisonCell(String(format: signed ? "%+.3f" : "%.3f", value), value: value))
      }
      rows.append(cells)
    }
    self.init(
      columns: ["run"] + columns, rows: rows, baselineRows: comparison.rows.map(\.isUnion))
    unfinishedRows = comparison.rows.map { !$0.measuresFinal }
    // The reasons compare prints on standard error, with the logs named by file only.
    notes = comparison.notices.map { notice in
      var text = notice
      for row in comparison.rows {
        text = text.replacingOccurrences(
          of: row.path, with: URL(fileURLWithPath: row.path).lastPathComponent)
      }
      return text
    }
  }
}
