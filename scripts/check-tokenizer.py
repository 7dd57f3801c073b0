#!/usr/bin/env python3
"""Check cptui's byte-level BPE tokenizer against the Hugging Face `tokenizers` package.

  pip install tokenizers

Two modes:

  scripts/check-tokenizer.py --fixture
      Encode fixed texts with Tests/CorpusTests/Fixtures/tokenizer.json (written by the Swift test
      suite) and write Tests/CorpusTests/Fixtures/reference-ids.json, which the unit tests compare
      against.

  scripts/check-tokenizer.py [--cptui PATH] [--vocab N] [--from DATASET] [--sample-kb K] DATASET...
      Train a tokenizer with cptui on DATASET (default: the first dataset), then encode a sample of
      every dataset (its first K KB of documents, from the cptui cache) with both cptui
      (`cptui data encode`) and `tokenizers`, and compare the ids. Exit status 1 on any difference.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "CorpusTests" / "Fixtures"

FIXTURE_TEXTS = [
    "Hello world! It's the king's horse, isn't it?",
    "They're here; we've seen it, we'll say so, he'd agree. I'm sure.",
    "Die Straße über den Fluss: Größe 12, Grüße aus Köln.",
    "def f(x):\n    return x ** 2  # square\n\n\tindented\ttabs   \n",
    "   leading spaces and trailing   ",
    "numbers 3.14159 and 1,000,000 and ½ and Ⅻ",
    "emoji 🙂🙂 and 日本語のテキスト and ελληνικά",
    "The old river finds a quiet garden, and then the king remembers the bridge 42 times.",
    "Die alte Brücke überquert eine stille Stadt, weil die Lehrerin das Buch schreibt.",
    "for index in range(10):\n        buffer.append(index)\n    return total\n",
    "a\n\nb\r\nc  \n d\u00a0e\u3000f",
    "$100.50!!! ??? ... --- ''' \"quoted\"",
]


def fixture() -> int:
    from tokenizers import Tokenizer, __version__

    tok = Tokenizer.from_file(str(FIXTURES / "tokenizer.json"))
    cases = [{"text": t, "ids": tok.encode(t).ids} for t in FIXTURE_TEXTS]
    for c in cases:
        assert tok.decode(c["ids"]) == c["text"], c["text"]
    out = {"tokenizers": __version__, "cases": cases}
    lines = [json.dumps(c, ensure_ascii=False) for c in cases]
    body = f'{{"tokenizers": "{__version__}", "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    assert json.loads(body) == out
    (FIXTURES / "reference-ids.json").write_text(body)
    print(f"wrote {FIXTURES / 'reference-ids.json'} ({len(cases)} cases, tokenizers {__version__})")
    return 0


def cache_root() -> Path:
    if os.environ.get("CPTUI_CACHE"):
        return Path(os.environ["CPTUI_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "cptui"
    return Path.home() / ".cache" / "cptui"


def sample(dataset: str, kb: int) -> str:
    """The first documents of a prepared dataset, up to about kb KB (valid UTF-8 only)."""
    d = cache_root() / "text" / dataset
    text = (d / "text.bin").read_bytes()
    raw = (d / "docs.u64").read_bytes()
    offsets = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, len(raw), 8)]
    # Take documents spread over the whole dataset, not just its first files.
    n = len(offsets) - 1
    picked, size, step = [], 0, max(1, n // 2000)
    for i in range(0, n, step):
        doc = text[offsets[i]:offsets[i + 1]]
        picked.append(doc.decode("utf-8", errors="replace"))
        size += len(doc)
        if size >= kb * 1000:
            break
    return "".join(picked)


def check(args) -> int:
    from tokenizers import Tokenizer, __version__

    cptui = args.cptui
    first = args.datasets[0]
    source = args.tokenizer_from or first
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tj = Path(tmp) / "tokenizer.json"
        subprocess.run([cptui, "data", "prepare", *args.datasets, source], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([cptui, "data", "tokenizer", source, "--vocab", str(args.vocab),
                        "--output", str(tj)], check=True, stdout=subprocess.DEVNULL)
        hf = Tokenizer.from_file(str(tj))
        print(f"tokenizers {__version__}; tokenizer vocab {hf.get_vocab_size()} trained on {source}")
        for name in args.datasets:
            leaves = leaf_names(name)
            for leaf in leaves:
                text = sample(leaf, args.sample_kb)
                f = Path(tmp) / f"{leaf}.txt"
                f.write_text(text, encoding="utf-8")
                out = subprocess.run([cptui, "data", "encode", "--tokenizer", str(tj), str(f)],
                                     check=True, capture_output=True, text=True).stdout
                ours = json.loads(out)[0]
                theirs = hf.encode(text).ids
                same = ours == theirs
                ok &= same
                where = ""
                if not same:
                    i = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                             min(len(ours), len(theirs)))
                    where = f" first difference at token {i}: ours {ours[i:i + 5]} theirs {theirs[i:i + 5]}"
                print(f"  {leaf:16} {len(text.encode()):8d} bytes {len(ours):7d} tokens  "
                      f"{'identical' if same else 'DIFFERENT'}{where}")
    return 0 if ok else 1


MIXTURES = {
    "english": ["manpages-en", "bible", "quotes-en"],
    "english-other": ["help-en", "shakespeare"],
    "german": ["manpages-de", "quotes-de"],
}


def leaf_names(name: str):
    return MIXTURES.get(name, [name])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixture", action="store_true", help="write the unit-test reference ids")
    p.add_argument("--cptui", default=str(ROOT / ".build" / "release" / "cptui"))
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--tokenizer-from", dest="tokenizer_from")
    p.add_argument("--sample-kb", type=int, default=300)
    p.add_argument("datasets", nargs="*")
    args = p.parse_args()
    if args.fixture:
        return fixture()
    if not args.datasets:
        p.error("name at least one dataset (or --fixture)")
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
