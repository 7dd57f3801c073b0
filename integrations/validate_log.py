"""Checks every line of run logs against docs/runlog.schema.json (needs `pip install jsonschema`).

    python3 integrations/validate_log.py RUN.jsonl [MORE.jsonl ...]
    python3 integrations/validate_log.py --self-test   # writes a log with cptui_log and checks it

Exits 0 when every line is valid, 1 when one is not (the first few problems are printed), 2 when
jsonschema is missing.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "docs", "runlog.schema.json")


def check(paths):
    try:
        import jsonschema
    except ImportError:
        print("jsonschema is not installed (pip install jsonschema)", file=sys.stderr)
        return 2
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    problems = 0
    lines = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                lines += 1
                for error in validator.iter_errors(json.loads(line)):
                    problems += 1
                    if problems <= 10:
                        print(f"{path}:{number}: {error.message}", file=sys.stderr)
    print(f"{lines} lines, {problems} problems")
    return 0 if problems == 0 else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "helper.jsonl")
            subprocess.run([sys.executable, os.path.join(HERE, "example_write.py"), out, "--nan"],
                           check=True)
            return check([out])
    return check(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
