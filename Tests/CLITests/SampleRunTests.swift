import Foundation
import Testing

/// The shipped sample runs and the tables the documentation quotes from them: every log reads
/// whole, and every documented `$ cptui compare …` block is exactly what cptui prints today.
struct SampleRunTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static var folders: [String] {
    let base = root.appendingPathComponent("sample-runs")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
    return names.sorted().map { base.appendingPathComponent($0).path }.filter {
      var isFolder: ObjCBool = false
      return FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder)
        && isFolder.boolValue
    }
  }

  @Test func everySampleRunReadsWholeAndFinished() throws {
    #expect(Self.folders.count >= 7, "\(Self.folders)")
    for folder in Self.folders {
      let r = try CLI.run(["compare", folder, "--csv", "-"])
      #expect(r.status == 0, "\(folder): \(r.stderr)")
      #expect(r.stderr.isEmpty, "\(folder): no line skipped, no notice: \(r.stderr)")
      let lines = r.stdout.split(separator: "\n")
      let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false) ?? []
      let avg = try #require(header.firstIndex(of: "avg"), "\(folder): \(r.stdout)")
      #expect(lines.count > 1, "\(folder) has runs")
      for row in lines.dropFirst() {
        let cells = row.split(separator: ",", omittingEmptySubsequences: false)
        #expect(cells.count == header.count && !cells[avg].isEmpty, "\(folder): \(row)")
      }
      // Every log ends with the run's own end: it was not cut short.
      let logs = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
        $0.hasSuffix(".jsonl")
      }
      for log in logs {
        let text = try String(contentsOfFile: folder + "/" + log, encoding: .utf8)
        let last = text.split(separator: "\n").last ?? ""
        #expect(
          last.hasPrefix(#"{"type":"runEnd","status":"completed""#), "\(folder)/\(log): \(last)")
      }
    }
  }

  /// Logs of several experiments compared at once: each run's Δunion is against its own
  /// experiment's union baseline (the one defining the same datasets), exactly as when its folder
  /// is compared alone.
  @Test func eachRunMeetsItsOwnUnionWhenExperimentsAreMixed() throws {
    func deltas(_ arguments: [String]) throws -> [String: String] {
      let r = try CLI.run(["compare"] + arguments + ["--csv", "-"])
      #expect(r.status == 0, "\(r.stderr)")
      let rows = r.stdout.split(separator: "\n").map {
        $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      }
      let delta = try #require(rows.first?.firstIndex(of: "delta_union"))
      return Dictionary(uniqueKeysWithValues: rows.dropFirst().map { ($0[0], $0[delta]) })
    }
    let folders = ["strong-shift", "weak-shift", "domains"].map {
      Self.root.appendingPathComponent("sample-runs/" + $0).path
    }
    var alone: [String: String] = [:]
    for folder in folders { alone.merge(try deltas([folder])) { a, _ in a } }
    let together = try deltas(folders)
    #expect(together.count == alone.count && together.count > 10)
    #expect(together == alone)
    #expect(together.values.filter { !$0.isEmpty }.count >= together.count - 3)
  }

  /// A fenced block whose first line is `$ cptui compare ARGS` (paths relative to the repository)
  /// followed by the table.
  struct DocumentedTable: CustomStringConvertible {
    var file: String
    var arguments: [String]
    var table: String
    var description: String { "\(file): cptui \(arguments.joined(separator: " "))" }
  }

  static func documentedTables(in file: String) throws -> [DocumentedTable] {
    let text = try String(
      contentsOf: root.appendingPathComponent(file), encoding: .utf8)
    var tables: [DocumentedTable] = []
    var block: [Substring]? = nil
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("```") {
        if let lines = block {
          if let first = lines.first, first.hasPrefix("$ cptui compare ") {
            let arguments = first.dropFirst("$ cptui ".count).split(separator: " ").map(String.init)
            tables.append(
              DocumentedTable(
                file: file, arguments: arguments,
                table: lines.dropFirst().joined(separator: "\n")))
          }
          block = nil
        } else {
          block = []
        }
      } else if block != nil {
        block?.append(line)
      }
    }
    return tables
  }

  @Test(arguments: ["README.md", "docs/findings.md"])
  func documentedTablesAreWhatComparePrints(_ file: String) throws {
    let tables = try Self.documentedTables(in: file)
    #expect(!tables.isEmpty, "\(file) quotes at least one `$ cptui compare` table")
    for table in tables {
      let arguments = table.arguments.map {
        $0.hasPrefix("sample-runs/") ? Self.root.appendingPathComponent($0).path : $0
      }
      let r = try CLI.run(arguments)
      #expect(r.status == 0, "\(table): \(r.stderr)")
      let printed = r.stdout.split(separator: "\n").map {
        $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
      }
      let documented = table.table.split(separator: "\n").map {
        $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
      }
      #expect(printed == documented, "\(table)\nprinted:\n\(r.stdout)")
    }
  }
}
