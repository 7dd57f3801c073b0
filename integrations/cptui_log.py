"""Write cptui run logs from any Python training loop (no dependencies beyond the standard library).

The format is described in docs/runlog.md (schema version 1): JSON Lines, one event per line,
a header first, appended to only. cptui reads what this writes with `cptui compare`, `cptui export`
and `cptui follow` (live, while this writes). Example:

    from cptui_log import RunLog

    with RunLog("run.jsonl", run_name="my-run", datasets=["D0", "D1"],
                config={"name": "my-run", "seed": 1}, seed=1) as log:
        log.stage_start(1, dataset="D0", steps=1000, lr_max=3e-4, lr_min=3e-5, warmup_fraction=0.01)
        for step in range(1, 1001):
            ...
            log.step(stage=1, step=step, tokens=step * 2048, lr=lr, loss=loss)
            if step % 100 == 0:
                log.eval(stage=1, step=step, tokens=step * 2048, losses={"D0": d0, "D1": d1})
        log.stage_end(1, step=1000, tokens=1000 * 2048)
        log.run_end("completed", step=1000, tokens=1000 * 2048)

Every event is written as one whole line with a single write; `eval` flushes and fsyncs, so a
reader (or `ssh host tail -f run.jsonl`) sees complete evaluations as soon as they happen.
NaN and infinities are written as the strings "NaN", "Infinity", "-Infinity" (the format's
spelling, valid JSON for every reader).
"""

import json
import math
import os
import time

SCHEMA_VERSION = 1

__all__ = ["RunLog", "SCHEMA_VERSION"]


def _clean(value):
    """Makes a value JSON-safe: non-finite floats as the format's strings, tensors as numbers."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # a 0-d torch or numpy value
        return _clean(value.item())
    try:
        return _clean(float(value))
    except (TypeError, ValueError):
        return str(value)


class RunLog:
    """An append-only cptui run log. Methods mirror the event types of docs/runlog.md."""

    def __init__(self, path, run_name, datasets, config=None, seed=None, producer=None,
                 command=None, machine=None, append=False):
        """Opens `path` and writes the header. Refuses to overwrite an existing file unless
        `append` is true (a resumed run appends without a new header: call `resume` instead)."""
        mode = "ab" if append else "xb"
        self._file = open(path, mode, buffering=0)
        self._start = time.time()
        self._ended = False
        self.path = path
        if not append:
            self._write({
                "type": "header",
                "schemaVersion": SCHEMA_VERSION,
                "runName": run_name,
                "startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._start)),
                "seed": seed,
                "producer": producer or "cptui_log.py",
                "command": command,
                "machine": machine,
                "datasets": list(datasets),
                "config": config if config is not None else {},
            }, timed=False)

    # -- events ---------------------------------------------------------------------------------

    def stage_start(self, stage, dataset, steps, lr_max, lr_min, name=None, tokens=None,
                    start_step=None, start_tokens=None, schedule=None, warmup_fraction=None,
                    replay_percent=None, replay_from=None, optimizer_state=None,
                    schedule_parameters=None):
        self._write({
            "type": "stageStart", "stage": stage, "name": name, "dataset": dataset,
            "steps": steps, "tokens": tokens, "startStep": start_step,
            "startTokens": start_tokens, "schedule": schedule,
            "scheduleParameters": schedule_parameters, "warmupFraction": warmup_fraction,
            "lrMax": lr_max, "lrMin": lr_min, "replayPercent": replay_percent,
            "replayFrom": replay_from, "optimizerState": optimizer_state,
        })

    def step(self, stage, step, tokens, lr, loss, stage_step=None, grad_norm=None,
             tokens_per_second=None):
        self._write({
            "type": "step", "stage": stage, "step": step, "stageStep": stage_step,
            "tokens": tokens, "lr": lr, "loss": loss, "gradNorm": grad_norm,
            "tokensPerSecond": tokens_per_second,
        })

    def eval(self, stage, step, tokens, losses):
        """Validation losses (dataset name -> loss); flushed to disk at once."""
        self._write({"type": "eval", "stage": stage, "step": step, "tokens": tokens,
                     "losses": dict(losses)})
        self.flush()

    def stage_end(self, stage, step, tokens=None, reason="completed"):
        self._write({"type": "stageEnd", "stage": stage, "step": step, "tokens": tokens,
                     "reason": reason})

    def checkpoint(self, path, step, stage=None, tokens=None):
        """Call once the checkpoint file is complete on disk."""
        self._write({"type": "checkpoint", "path": path, "step": step, "stage": stage,
                     "tokens": tokens})

    def note(self, text, step=None):
        self._write({"type": "note", "text": text, "step": step})

    def error(self, kind, message, stage=None, step=None, value=None):
        self._write({"type": "error", "kind": kind, "message": message, "stage": stage,
                     "step": step, "value": value})

    def resume(self, step, tokens=None, checkpoint=None):
        self._write({"type": "resume", "step": step, "tokens": tokens, "checkpoint": checkpoint})

    def run_end(self, status="completed", step=None, tokens=None, message=None):
        self._write({"type": "runEnd", "status": status, "step": step, "tokens": tokens,
                     "message": message})
        self.flush()
        self._ended = True

    # -- plumbing -------------------------------------------------------------------------------

    def flush(self):
        os.fsync(self._file.fileno())

    def close(self):
        if not self._file.closed:
            self.flush()
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        # Training that raised ends the log too, so cptui shows it failed (or stopped, for
        # Ctrl-C) instead of waiting for lines that will never come. The exception propagates.
        if exc_type is not None and not self._ended and not self._file.closed:
            stopped = issubclass(exc_type, KeyboardInterrupt)
            message = f"{exc_type.__name__}: {exc}"[:500]
            if not stopped:
                self._write({"type": "error", "kind": "other", "message": message})
            self.run_end("stopped" if stopped else "failed", message=message)
        self.close()
        return False

    def _write(self, event, timed=True):
        if timed:
            event["time"] = round(time.time() - self._start, 3)
        event = {k: _clean(v) for k, v in event.items() if v is not None}
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        data = (line + "\n").encode("utf-8")
        view = memoryview(data)
        while view:  # one write(2) for a normal line; loop only if the OS takes less
            written = os.write(self._file.fileno(), view)
            view = view[written:]
