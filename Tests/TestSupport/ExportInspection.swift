// Readers of cptui's exported text that the export tests of two test targets share: CSV rows and
// an SVG document's elements. Test code only (no product links this target).

import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Splits CSV text (RFC 4180 quoting) into rows of fields.
public func parseCSV(_ text: String) -> [[String]] {
  var rows: [[String]] = []
  var row: [String] = []
  var field = ""
  var quoted = false
  var chars = Array(text)[...]
  while let c = chars.popFirst() {
    if quoted {
      if c == "\"" {
        if chars.first == "\"" {
          field.append("\"")
          chars.removeFirst()
        } else {
          quoted = false
        }
      } else {
        field.append(c)
      }
    } else if c == "\"" {
      quoted = true
    } else if c == "," {
      row.append(field)
      field = ""
    } else if c == "\n" {
      row.append(field)
      rows.append(row)
      row = []
      field = ""
    } else {
      field.append(c)
    }
  }
  if !field.isEmpty || !row.isEmpty {
    row.append(field)
    rows.append(row)
  }
  return rows
}

/// Counts elements and collects `<path>` data and text while checking that a document is
/// well-formed XML.
public final class SVGInspector: NSObject, XMLParserDelegate {
  public private(set) var paths: [String] = []
  public private(set) var elements: [String: Int] = [:]
  public private(set) var texts: [String] = []
  public private(set) var root: String?

  /// The inspected document, or nil when it is not well-formed XML.
  public static func inspect(_ svg: String) -> SVGInspector? {
    let inspector = SVGInspector()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = inspector
    return parser.parse() ? inspector : nil
  }

  public func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String] = [:]
  ) {
    if root == nil { root = name }
    elements[name, default: 0] += 1
    if name == "path" { paths.append(attributes["d"] ?? "") }
  }

  public func parser(_ parser: XMLParser, foundCharacters string: String) { texts.append(string) }
}
